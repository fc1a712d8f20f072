/**
 * What the client engine tells the application (`engine.pollEvent()`): one union, switch on `type`.
 * Events are plain objects made for the application; bytes inside them (a message's `content`, an
 * application frame's `body`) are views of the received frames, as docs/PROTOCOL.md §10 *Aliasing*
 * describes: copy what must outlive a reused receive buffer.
 */
import type { MessagePacket } from "../../gen/syncwire/v1/message_pb.js";
import type { DisconnectCode } from "../../gen/syncwire/v1/session_pb.js";
import type { SyncKey } from "../../gen/syncwire/v1/sync_pb.js";
import type { BodyError } from "../../bodies/errors.js";
import type { FrameError } from "../../wire/errors.js";

/** WELCOME arrived: requests flow. */
export interface ClientOpenEvent {
  readonly type: "open";
  readonly sessionId: string;
  /** The protocol version the server chose. */
  readonly version: number;
  /** True when this engine had an open link before (a reconnect), false on its first WELCOME. */
  readonly resumed: boolean;
  /** How often the engine sends HEARTBEAT (0: never). */
  readonly heartbeatIntervalMs: number;
  /** The server's clock at WELCOME, ms since the Unix epoch (0 if not sent). */
  readonly serverTimeMs: bigint;
}

/** A message was acknowledged: it is stored (the gray tick of a chat app). */
export interface ClientSentEvent {
  readonly type: "sent";
  readonly clientMsgId: bigint;
  readonly serverMsgId: bigint;
  readonly serverTimeMs: bigint;
  /** True if the server had stored it before (ACK DUPLICATE: an earlier transmission got through). */
  readonly duplicate: boolean;
}

/** A message is being retransmitted after its ACK did not come in time. */
export interface ClientRetryEvent {
  readonly type: "retry";
  readonly clientMsgId: bigint;
  /** 1 for the first retransmission. */
  readonly attempt: number;
}

/** A message is not confirmed (the red mark). See `retryable`. */
export interface ClientFailedEvent {
  readonly type: "failed";
  readonly clientMsgId: bigint;
  /** Why: `"timeout"` after the last retransmission, else the server's reason or the size problem. */
  readonly reason: string;
  /**
   * True after a timeout: the message is kept and `resend(clientMsgId)` may try again (the server may
   * have stored it; a resend is then answered DUPLICATE). False when the server rejected it or it no
   * longer fits the server's frame limit: it is dropped, and sending it unchanged would fail again.
   */
  readonly retryable: boolean;
}

/** A message from the sync log, new to this device, in log order. */
export interface ClientMessageEvent {
  readonly type: "message";
  /** As the server stored it: `senderId`, `serverMsgId` filled in. Bytes fields are views of the frame. */
  readonly message: MessagePacket;
  /** True if this device sent it (its client id is one this engine sent, and the sender is `userId` if given). */
  readonly own: boolean;
}

/** A SYNC_RESULT page was handed over whole: persist the messages, then `syncKey`. */
export interface ClientSyncedEvent {
  readonly type: "synced";
  /** The key after this page (also `engine.syncKey`). Do not modify it. */
  readonly syncKey: SyncKey;
  /** Messages handed over from this page (after dropping those already processed). */
  readonly count: number;
  /** The server has more: the engine is already asking for the next page. */
  readonly hasMore: boolean;
}

/** Parts of an upload acknowledged so far, for a progress bar. */
export interface ClientUploadProgressEvent {
  readonly type: "upload-progress";
  readonly uploadId: string;
  readonly acked: number;
  readonly total: number;
}

/** The server assembled the object: refer to `objectId` in a message's `media`. */
export interface ClientUploadCompleteEvent {
  readonly type: "upload-complete";
  readonly uploadId: string;
  readonly objectId: string;
}

/** The upload stopped: the server refused it, a part went unanswered too often, or the engine closed. */
export interface ClientUploadFailedEvent {
  readonly type: "upload-failed";
  readonly uploadId: string;
  readonly reason: string;
}

/** A HEARTBEAT_ACK came back. */
export interface ClientHeartbeatEvent {
  readonly type: "heartbeat";
  /** Round-trip time of this heartbeat, ms (also `engine.rttMs`). */
  readonly rttMs: number;
}

/** The link stopped answering; the engine closed it (state "closed"). Reconnect with backoff. */
export interface ClientLinkDeadEvent {
  readonly type: "link-dead";
  /** `"heartbeat"`: too many HEARTBEAT_ACKs missed; `"handshake"`: no WELCOME in time. */
  readonly reason: "heartbeat" | "handshake";
}

/** The server sent DISCONNECT (state "closed"). */
export interface ClientDisconnectedEvent {
  readonly type: "disconnected";
  readonly code: DisconnectCode;
  readonly reason: string;
  /** The server's advice: wait at least this long before reconnecting (0 = none). */
  readonly retryAfterMs: number;
  /** True if it refused HELLO (the DISCONNECT echoed HELLO's seq, before WELCOME). */
  readonly refused: boolean;
  /**
   * Whether reconnecting on its own makes sense (docs/PROTOCOL.md §11.7): false for AUTH_FAILED (new
   * credentials first), REPLACED (logged in elsewhere) and UNSUPPORTED_VERSION; true otherwise.
   */
  readonly reconnect: boolean;
}

/** Codes of {@link ClientErrorEvent}: the decoders' codes, and the session rules the server broke. */
export type ClientProtocolErrorCode =
  | FrameError["code"]
  | BodyError["code"]
  /** A frame the server must not send: a client-to-server or reserved op, or an application op before WELCOME. */
  | "UNEXPECTED_OP"
  /** A header version other than the one WELCOME chose. */
  | "UNEXPECTED_VERSION"
  /** WELCOME not echoing HELLO's seq, or choosing a version HELLO did not offer. */
  | "BAD_WELCOME"
  /** A BATCH, though HELLO said the client does not accept batches. */
  | "BATCH_REFUSED";

/** The server broke the protocol: the engine sent DISCONNECT PROTOCOL_ERROR and closed the link. */
export interface ClientErrorEvent {
  readonly type: "error";
  readonly code: ClientProtocolErrorCode;
  /** What happened, for logs (also the DISCONNECT's reason). */
  readonly reason: string;
  /** The decoder's error, for FrameError and BodyError codes. */
  readonly cause?: FrameError | BodyError;
}

/** A frame with an application op (≥ 1000) from the server, untouched. */
export interface ClientApplicationEvent {
  readonly type: "application";
  readonly op: number;
  readonly seq: number;
  /** A view of the received frame's body. */
  readonly body: Uint8Array;
}

/** Everything `ClientEngine.pollEvent()` returns. */
export type ClientEvent =
  | ClientOpenEvent
  | ClientSentEvent
  | ClientRetryEvent
  | ClientFailedEvent
  | ClientMessageEvent
  | ClientSyncedEvent
  | ClientUploadProgressEvent
  | ClientUploadCompleteEvent
  | ClientUploadFailedEvent
  | ClientHeartbeatEvent
  | ClientLinkDeadEvent
  | ClientDisconnectedEvent
  | ClientErrorEvent
  | ClientApplicationEvent;
