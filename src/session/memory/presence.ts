/**
 * MemoryPresence: fan-out of "this user's log grew" within one process.
 *
 * Theory of operation. A `Map` from user to the set of listeners subscribed for them. `publish` calls
 * every listener of the user synchronously, over a copy of the set (a listener may unsubscribe while it
 * runs), and shields the others from one that throws. A user's entry disappears with its last listener,
 * so memory follows the live subscriptions.
 */
import type { SyncKey } from "../../gen/syncwire/v1/sync_pb.js";
import type { Presence, Unsubscribe } from "../stores.js";

type Listener = (head: SyncKey) => void;

/** Presence within one process: a map of listeners. See the theory of operation above. */
export class MemoryPresence implements Presence {
  readonly #listeners = new Map<string, Set<Listener>>();

  /** How many listeners `user` has (all users when omitted). */
  listenerCount(user?: string): number {
    if (user !== undefined) return this.#listeners.get(user)?.size ?? 0;
    let count = 0;
    for (const set of this.#listeners.values()) count += set.size;
    return count;
  }

  /**
   * @inheritDoc
   * @returns an unsubscribe function; calling it twice is harmless. The same function subscribed twice
   *   for one user is one subscription (a set).
   */
  async subscribe(user: string, listener: Listener): Promise<Unsubscribe> {
    if (typeof listener !== "function") throw new TypeError("listener must be a function");
    let set = this.#listeners.get(user);
    if (set === undefined) this.#listeners.set(user, (set = new Set()));
    set.add(listener);
    return async () => {
      const current = this.#listeners.get(user);
      if (current === undefined) return;
      current.delete(listener);
      if (current.size === 0) this.#listeners.delete(user);
    };
  }

  /** @inheritDoc A listener that throws is skipped; the others are still called. */
  async publish(user: string, head: SyncKey): Promise<void> {
    const set = this.#listeners.get(user);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(head);
      } catch {
        // A listener must not throw (Presence.subscribe); one that does must not starve the others.
      }
    }
  }
}
