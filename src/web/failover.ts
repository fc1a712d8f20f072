/**
 * A client transport over several server nodes: each link goes to one of them, and a node that cannot
 * be reached is left for the next. It is the client's half of a multi-node deployment (README "Several
 * nodes on Redis"): when a node dies, the client's reconnect loop (`SyncwireClient`) opens its next link
 * here, the dead node refuses it, and the link after that goes to the next node — where HELLO, the resend
 * of what was unacked (same client ids, DUPLICATE for what was stored) and SYNC resume the session.
 *
 * Policy: sticky with failover. Links go to the current node for as long as they open; a link that closes
 * before it opened (refused, unreachable, timed out) moves the current node to the next one in the list,
 * round the list. A link that opened and later closed does not move it: a restart or a cut link is
 * retried at the same node first, which the backoff of `SyncwireClient` paces; if the node is gone that
 * retry fails to open and the next link goes elsewhere.
 *
 * No protocol here and no timers: a thin wrapper that picks which transport's `connect` to call.
 * Platform-neutral.
 */
import type { ClientTransport, TransportHandlers, TransportLink } from "./transport.js";

/** Options of {@link failoverTransport}. */
export interface FailoverTransportOptions {
  /** Index of the node to try first. Default 0 (spread clients by giving each another start). */
  readonly start?: number;
  /** Called when the current node changes (for logs and events): the new index and why. */
  readonly onSwitch?: (index: number, reason: string) => void;
}

/** A transport that also says which of its nodes the current (or next) link goes to. */
export interface FailoverTransport extends ClientTransport {
  /** The transports, one per node, in order. */
  readonly transports: readonly ClientTransport[];
  /** Index of the node the current link went to, or the next one will. */
  readonly current: number;
}

/**
 * One transport over several nodes (see the policy at the top of this file).
 * @param transports one per node, all of the same `kind` and `short`-ness (the client engine connects the
 *   same way whichever node it reaches). Not copied: the array is read once, here.
 * @returns a transport whose `kind` is theirs.
 * @throws TypeError for an empty list, a member without `connect`, or members of different kinds;
 *   RangeError for a `start` outside the list.
 */
export function failoverTransport(transports: readonly ClientTransport[], options: FailoverTransportOptions = {}): FailoverTransport {
  if (!Array.isArray(transports) || transports.length === 0) throw new TypeError("failoverTransport needs at least one transport");
  for (const transport of transports) {
    if (transport === null || typeof transport !== "object" || typeof transport.connect !== "function") throw new TypeError("every transport must have a connect() method");
  }
  const first = transports[0]!;
  if (transports.some((t) => t.kind !== first.kind || (t.short === true) !== (first.short === true))) {
    throw new TypeError(`failoverTransport needs transports of one kind, got ${transports.map((t) => t.kind).join(", ")}`);
  }
  const start = options.start ?? 0;
  if (!Number.isInteger(start) || start < 0 || start >= transports.length) throw new RangeError(`start must be an index into the ${transports.length} transports, got ${start}`);
  const list = [...transports];
  const onSwitch = options.onSwitch;
  let current = start;

  return {
    kind: first.kind,
    ...(first.short === true ? { short: true } : {}),
    transports: list,
    get current() {
      return current;
    },
    connect(handlers: TransportHandlers): TransportLink {
      const index = current;
      let opened = false;
      const moveOn = (reason: string): void => {
        // Only if no other link moved it meanwhile, and only if there is somewhere else to go.
        if (current !== index || list.length === 1) return;
        current = (index + 1) % list.length;
        onSwitch?.(current, reason);
      };
      let link: TransportLink;
      try {
        link = list[index]!.connect({
          open: () => {
            opened = true;
            handlers.open();
          },
          bytes: (chunk: Uint8Array) => handlers.bytes(chunk),
          message: (message: Uint8Array) => handlers.message(message),
          writable: () => handlers.writable(),
          closed: (reason: string) => {
            if (!opened) moveOn(reason);
            handlers.closed(reason);
          },
        });
      } catch (error) {
        moveOn(error instanceof Error ? error.message : String(error));
        throw error;
      }
      return {
        send: (frame) => link.send(frame),
        close: () => link.close(),
        abort: () => {
          // The client drops a link that did not open in time; its transport may not call closed() then.
          if (!opened) moveOn("dropped before it opened");
          link.abort();
        },
      };
    },
  };
}
