/**
 * The sans-I/O shape both session engines present to a transport adapter, after quinn-proto's
 * `Connection` and h11: the adapter owns the socket and the timers; the engine owns the protocol.
 *
 * The adapter's loop, for any transport:
 *
 *   on bytes from a stream (TCP/TLS):          link.receiveBytes(chunk, now)
 *   on a message (WebSocket message, HTTP body): link.receiveMessage(bytes, now)
 *   when the deadline pollTimeout() passes:     link.handleTimeout(now)
 *   after any of these (and on a wake, below):  drain pollTransmit() to the socket, pollEvent() to the app;
 *                                               re-arm one timer at pollTimeout()
 *   when the socket closes:                     link.linkClosed(now)
 *   when state is "closed" and pollTransmit() is drained: close the socket
 *
 * Waking is not part of this interface. A `ClientEngine` only ever has new output after one of the
 * calls above (or the application's own calls: `send`, `upload`, …), so its adapter drains after each.
 * A `ServerConnection` also produces output when a store answers, outside any call: for that the server
 * adapter passes `wake` to `ServerEngine.accept(now, { wake })` (AcceptOptions), and the connection calls
 * it from a microtask; the adapter then drains as above.
 *
 * `now` is milliseconds on one clock the adapter chooses (`Date.now()` in production, a simulated clock in
 * tests); engines never read a clock of their own. Every `pollTransmit()` result is one whole frame (a
 * single frame or a BATCH) the adapter writes as is: one write on a stream, one WebSocket message.
 */

/** Where a link is in its life (docs/PROTOCOL.md §11). */
export type LinkState =
  /** No transport: before `connect()`/`reconnected()` or after `linkClosed()` (client only). */
  | "idle"
  /** HELLO sent (client) or awaited (server); no WELCOME yet. */
  | "handshaking"
  /** WELCOME exchanged: requests flow. */
  | "open"
  /** Finished: a DISCONNECT was sent or received, or the link failed. Drain pollTransmit(), then close. */
  | "closed";

/** What a transport adapter drives. Implemented by `ClientEngine` and `ServerConnection`. */
export interface SansIoLink<Event> {
  /** Where the link is. */
  readonly state: LinkState;
  /**
   * Bytes from a byte stream, cut anywhere. Frames that lie inside `chunk` are handled as views of it:
   * do not reuse its memory afterwards.
   * @throws never on peer input: a bad stream becomes DISCONNECT PROTOCOL_ERROR and state "closed".
   */
  receiveBytes(chunk: Uint8Array, now: number): void;
  /**
   * One message of a message transport (WebSocket, HTTP body): whole frames, end to end.
   * @throws never on peer input (as {@link receiveBytes}).
   */
  receiveMessage(message: Uint8Array, now: number): void;
  /**
   * The next whole frame to write, or undefined when there is nothing to send now.
   * @returns a fresh array, or a view of a shared slab (never transfer its `.buffer`).
   */
  pollTransmit(now: number): Uint8Array | undefined;
  /** The next event for the application, or undefined. */
  pollEvent(): Event | undefined;
  /** The earliest time `handleTimeout` must be called, or undefined if no timer is needed. */
  pollTimeout(): number | undefined;
  /** Runs what is due at `now`: retransmissions, heartbeats, idle checks. Harmless if nothing is due. */
  handleTimeout(now: number): void;
  /** The transport is gone (reset, closed by either side). Pending output for this link is dropped. */
  linkClosed(now: number): void;
}
