/**
 * The narrow interface between the client engine (which owns the link: seqs, the frames to transmit,
 * the event queue, the in-flight budget) and the parts that own one concern each (outbox, sync cycle,
 * uploads, heartbeat). A part never sees frames or the decoder; it asks the port to send a request and
 * is called back with the decoded reply. Internal to the client.
 */
import type { ClientEvent } from "./events.js";
import type { OutgoingMessage } from "./outbox.js";
import type { Upload } from "./uploads.js";

/** Who gets the reply to a request: the engine routes ACK, SYNC_RESULT and CHUNK_ACK by seq through this. */
export type RequestOwner =
  | OutgoingMessage
  | { readonly kind: "sync" }
  | { readonly kind: "commit" }
  | { readonly kind: "chunk"; readonly upload: Upload; readonly part: number; readonly order: number };

/** What the engine offers to its parts. */
export interface ClientPort {
  /** A number in [0, 1) from the caller's `random`. @throws RangeError if `random` returns anything else. */
  random(): number;
  /** The wait after `attempt` timeouts of a request first waited for `initialMs` (the engine's backoff policy). */
  backoff(attempt: number, initialMs: number): number;
  /** True while the link is open and `max_in_flight` allows one more request. */
  canRequest(): boolean;
  /**
   * Queues a request frame on the link with the next seq; its replies are routed to `owner` until
   * `forget(seq)` or the end of the link. Bypasses `canRequest()`: a part checks it before a *new*
   * request; a retransmission replaces one that already counted.
   * @returns the seq.
   */
  request(op: number, body: Uint8Array, owner: RequestOwner | undefined): number;
  /** Stops routing replies to `seq` (a retransmission superseded it, or its owner is done). */
  forget(seq: number): void;
  /** Queues an event for the application. */
  emit(event: ClientEvent): void;
  /** Largest frame the server accepts from this client: 1 MiB until WELCOME, then its limit. */
  readonly maxFrameSize: number;
}
