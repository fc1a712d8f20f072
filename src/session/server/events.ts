/**
 * What a `ServerConnection` reports to the application through `pollEvent()`: one value per thing that
 * happened on the link, for logging, metrics and application frames. The protocol itself never waits for
 * an event to be polled.
 */
import type { DisconnectCode } from "../../gen/syncwire/v1/session_pb.js";
import type { BodyError } from "../../bodies/errors.js";
import type { Frame } from "../../wire/decode.js";
import type { FrameError } from "../../wire/errors.js";

/** Who ended a link. */
export type CloseInitiator =
  /** This server sent DISCONNECT (or finished a short link). */
  | "server"
  /** The client sent DISCONNECT. */
  | "client"
  /** The transport went away (`linkClosed`). */
  | "transport";

/**
 * Where an unexpected failure came from. After "store", "authenticate" and "onApplicationFrame" the link
 * carries on (a handshake is refused); "internal" is a bug in the engine and closes this link alone.
 */
export type ServerErrorSource = "store" | "authenticate" | "onApplicationFrame" | "internal";

/** Events of a {@link ServerConnection}, narrowed by `type`. */
export type ServerEvent =
  /** WELCOME was sent: the link belongs to `user`. */
  | { readonly type: "authenticated"; readonly user: string; readonly clientId: string; readonly sessionId: string; readonly version: number }
  /** The handshake was refused with DISCONNECT `code` (echoing HELLO's seq). A `closed` event follows. */
  | { readonly type: "refused"; readonly code: DisconnectCode; readonly reason: string }
  /**
   * The peer broke the protocol (a FrameError, a BodyError, a reserved or wrong-direction op, a frame
   * out of place, too many requests). `error` is the decoder's error when there was one. DISCONNECT
   * and a `closed` event follow.
   */
  | { readonly type: "protocol-error"; readonly reason: string; readonly error?: FrameError | BodyError }
  /** An application frame (op ≥ 1000) arrived; its body is a view of the received bytes (copy to keep). */
  | { readonly type: "application"; readonly frame: Frame }
  /**
   * A store call or a hook failed. For a request, no answer was sent (the client retries); for
   * `authenticate`, the handshake was refused with SERVER_SHUTDOWN and `retry_after_ms`.
   */
  | { readonly type: "error"; readonly source: ServerErrorSource; readonly request: string; readonly error: unknown }
  /** The link is closed for good (the last event). `code` is the DISCONNECT code sent or received (UNSPECIFIED for a transport loss, NORMAL for a finished short link). */
  | { readonly type: "closed"; readonly code: DisconnectCode; readonly reason: string; readonly initiator: CloseInitiator };
