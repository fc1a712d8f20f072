/**
 * RedisPresence: NOTIFY fan-out across nodes over Redis pub/sub, one channel per user
 * (`PREFIX notify:{user}`, keys.ts), carrying the user's new head as SyncKey protobuf bytes.
 *
 * Theory of operation. A node subscribes only to the users whose links it holds: the first local
 * listener of a user subscribes the node's subscriber connection to the user's channel, the last one to
 * leave unsubscribes it; listeners in between only touch a local map. `publish` sends one message to the
 * user's channel; Redis delivers it to every node subscribed, and each node calls its local listeners.
 *
 * - Sharded pub/sub (SSUBSCRIBE / SPUBLISH, Redis ≥ 7) where available: on Cluster a channel lives in
 *   its hash slot, so a message travels only within the shard that owns the user, not to every node of
 *   the cluster as classic PUBLISH does. Mode "auto" (the default) asks the server once (`COMMAND INFO
 *   SPUBLISH`) and falls back to SUBSCRIBE / PUBLISH on older servers; "sharded" and "classic" force one.
 * - Subscriptions need a connection of their own (a subscribed connection runs no other commands): it is
 *   the client's `duplicate()`, made and connected on the first subscribe, closed by `close()`.
 * - Reconnects: node-redis re-subscribes every channel after a reconnect, but messages published while
 *   the connection was down are lost. So when the subscriber connection becomes ready again, every local
 *   listener is called with its user's current head (read from the sync log, retried until the main
 *   connection is back too): a link then gets a NOTIFY and its client syncs if anything is newer. (Standalone clients; a Cluster client re-subscribes per
 *   shard and is not poked.)
 * - Subscribe and unsubscribe of one user are ordered by the connection. An unsubscribe that fails (the
 *   connection is down) is retried when it is ready again, unless the user got a listener meanwhile.
 * - A message that does not decode as a SyncKey (another program on the channel) is ignored.
 */
import { decodeProto, encodeProto } from "../bodies/proto.js";
import { SyncKeySchema, type SyncKey } from "../gen/syncwire/v1/sync_pb.js";
import type { Presence, Unsubscribe } from "../session/stores.js";
import { array, closeConnection, RedisStoreError, type BufferListener, type RedisClientLike, type RedisClusterLike, type RedisCommander } from "./commander.js";
import type { RedisKeys } from "./keys.js";

type Listener = (head: SyncKey) => void;

/** Which pub/sub commands to use. */
export type PubSubMode = "auto" | "sharded" | "classic";

/** The subscriber connection: a duplicate of the stores' client or cluster. */
type Subscriber = RedisClientLike | RedisClusterLike;

interface UserEntry {
  readonly listeners: Set<Listener>;
  /** Settles when the channel subscription is in place (rejects if it failed). */
  readonly subscribed: Promise<void>;
}

/** Options of {@link RedisPresence}. @internal */
export interface RedisPresenceOptions {
  readonly mode: PubSubMode;
  /** Makes the subscriber connection (a duplicate of the client); it is connected here. */
  readonly makeSubscriber: () => Subscriber;
  /** The user's current head, for the poke after a reconnect. */
  readonly headOf: (user: string) => Promise<SyncKey>;
}

/** Fan-out over Redis pub/sub. See the theory of operation above. */
export class RedisPresence implements Presence {
  readonly #redis: RedisCommander;
  readonly #keys: RedisKeys;
  readonly #options: RedisPresenceOptions;
  readonly #users = new Map<string, UserEntry>();
  /** Channels whose unsubscribe failed, by user: retried on the next ready. */
  readonly #stale = new Set<string>();
  #subscriber: Promise<Subscriber> | undefined;
  #sharded: Promise<boolean> | undefined;
  #closed = false;
  #readyCount = 0;

  /** @internal Use `createRedisStores`. */
  constructor(redis: RedisCommander, keys: RedisKeys, options: RedisPresenceOptions) {
    this.#redis = redis;
    this.#keys = keys;
    this.#options = options;
  }

  /** Users this node is subscribed for (with at least one local listener). */
  get userCount(): number {
    return this.#users.size;
  }

  /** Whether sharded pub/sub is in use (asks the server in "auto" mode). @throws (rejects) if the server cannot be asked. */
  usesShardedPubSub(): Promise<boolean> {
    if (this.#sharded !== undefined) return this.#sharded;
    const mode = this.#options.mode;
    if (mode !== "auto") return (this.#sharded = Promise.resolve(mode === "sharded"));
    const asked = this.#redis.send(undefined, ["COMMAND", "INFO", "SPUBLISH"]).then((reply) => array(reply, "COMMAND INFO")[0] != null);
    // Remember the answer, not a failure (the server may be down for a moment).
    this.#sharded = asked;
    asked.catch(() => {
      if (this.#sharded === asked) this.#sharded = undefined;
    });
    return asked;
  }

  /**
   * @inheritDoc The first listener of a user on this node subscribes the node to the user's channel.
   * @returns an unsubscribe function; calling it twice is harmless; it never rejects.
   * @throws (rejects) TypeError if `listener` is not a function; RedisStoreError CLOSED after `close()`;
   *   whatever node-redis rejects the subscription with (the listener is then not added).
   */
  async subscribe(user: string, listener: Listener): Promise<Unsubscribe> {
    if (typeof listener !== "function") throw new TypeError("listener must be a function");
    for (;;) {
      if (this.#closed) throw new RedisStoreError("CLOSED", "the Redis stores are closed");
      let entry = this.#users.get(user);
      if (entry === undefined) {
        const listeners = new Set<Listener>();
        const onMessage: BufferListener = (message) => this.#deliver(listeners, message);
        const fresh: UserEntry = { listeners, subscribed: this.#channelSubscribe(user, onMessage) };
        fresh.subscribed.catch(() => {
          if (this.#users.get(user) === fresh) this.#users.delete(user);
        });
        this.#users.set(user, fresh);
        this.#stale.delete(user);
        entry = fresh;
      }
      await entry.subscribed;
      // The entry may have gone while we waited (its listeners all left): subscribe again.
      if (this.#users.get(user) !== entry) continue;
      entry.listeners.add(listener);
      const current = entry;
      let done = false;
      return async () => {
        if (done) return;
        done = true;
        current.listeners.delete(listener);
        if (current.listeners.size > 0 || this.#users.get(user) !== current) return;
        this.#users.delete(user);
        await this.#channelUnsubscribe(user);
      };
    }
  }

  /**
   * @inheritDoc One SPUBLISH (or PUBLISH) to the user's channel.
   * @throws (rejects) whatever node-redis rejects with.
   */
  async publish(user: string, head: SyncKey): Promise<void> {
    const channel = this.#keys.notify(user);
    const payload = Buffer.from(encodeProto(SyncKeySchema, head));
    const sharded = await this.usesShardedPubSub();
    await this.#redis.send(channel, [sharded ? "SPUBLISH" : "PUBLISH", channel, payload]);
  }

  /** Closes the subscriber connection; later subscribes reject. Harmless twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#users.clear();
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber === undefined) return;
    let connection: Subscriber;
    try {
      connection = await subscriber;
    } catch {
      return;
    }
    await closeConnection(connection);
  }

  #connection(): Promise<Subscriber> {
    if (this.#subscriber !== undefined) return this.#subscriber;
    const connection = this.#options.makeSubscriber();
    // A node-redis client without an "error" listener throws its errors at the process: keep them here
    // (the stores' calls report failures through their promises).
    connection.on("error", () => undefined);
    if ("isReady" in connection) connection.on("ready", () => this.#onReady());
    const connecting = connection.connect().then(() => connection);
    this.#subscriber = connecting;
    connecting.catch(() => {
      if (this.#subscriber === connecting) this.#subscriber = undefined;
      connection.destroy();
    });
    return connecting;
  }

  async #channelSubscribe(user: string, onMessage: BufferListener): Promise<void> {
    const [connection, sharded] = await Promise.all([this.#connection(), this.usesShardedPubSub()]);
    const channel = this.#keys.notify(user);
    if (sharded) await connection.sSubscribe(channel, onMessage, true);
    else await connection.subscribe(channel, onMessage, true);
  }

  async #channelUnsubscribe(user: string): Promise<void> {
    try {
      const [connection, sharded] = await Promise.all([this.#connection(), this.usesShardedPubSub()]);
      const channel = this.#keys.notify(user);
      if (sharded) await connection.sUnsubscribe(channel);
      else await connection.unsubscribe(channel);
    } catch {
      if (!this.#closed && !this.#users.has(user)) this.#stale.add(user);
    }
  }

  #deliver(listeners: ReadonlySet<Listener>, message: Buffer): void {
    let head: SyncKey;
    try {
      head = decodeProto(SyncKeySchema, message);
    } catch {
      return;
    }
    this.#call(listeners, head);
  }

  #call(listeners: ReadonlySet<Listener>, head: SyncKey): void {
    for (const listener of [...listeners]) {
      try {
        listener(head);
      } catch {
        // A listener must not throw (Presence.subscribe); one that does must not starve the others.
      }
    }
  }

  /** The subscriber connection is ready: the first time, nothing; after a reconnect, poke and retry. */
  #onReady(): void {
    if (this.#readyCount++ === 0 || this.#closed) return;
    for (const user of [...this.#stale]) {
      this.#stale.delete(user);
      if (!this.#users.has(user)) void this.#channelUnsubscribe(user);
    }
    for (const [user, entry] of this.#users) this.#poke(user, entry, 0);
  }

  /**
   * Calls the listeners of `user` with the user's head. The head is read through the main connection,
   * which may come back a little after this one: a failed read is retried (50 ms, doubling, up to 2 s
   * between tries, 20 tries) while the user still has these listeners.
   */
  #poke(user: string, entry: UserEntry, attempt: number): void {
    this.#options.headOf(user).then(
      (head) => {
        if (this.#users.get(user) === entry && head.entries.length > 0) this.#call(entry.listeners, head);
      },
      () => {
        if (attempt >= 20 || this.#closed || this.#users.get(user) !== entry) return;
        const timer = setTimeout(() => this.#poke(user, entry, attempt + 1), Math.min(50 * 2 ** attempt, 2_000));
        timer.unref?.();
      },
    );
  }
}
