/**
 * Errors the session engines throw at their caller: misuse of the API in a state that does not allow it
 * (sending on a closed engine, a full queue). These are for the application, never sent to the peer;
 * what the peer does wrong becomes a DISCONNECT and an event, not an exception.
 */

/** Stable codes of {@link SessionError}. New codes may be added; existing ones never change meaning. */
export type SessionErrorCode =
  /** The engine is closed for good (`close()`/`disconnect()` was called, or it failed): no more requests. */
  | "CLOSED"
  /** The bounded send queue is full (`maxPendingSends`): nothing was queued; retry after some are acked. */
  | "SEND_QUEUE_FULL"
  /** The bounded upload table is full (`maxUploads`): nothing was started. */
  | "UPLOAD_QUEUE_FULL"
  /** `resend(id)` named a message that is not failed (unknown, or still pending). */
  | "NOT_FAILED"
  /**
   * An upload stopped (the server refused it, or a part went unanswered too often). Never thrown: the
   * rejection of an upload's `done` promise (the `upload-failed` event says the same).
   */
  | "UPLOAD_FAILED";

/** A request the engine cannot take in its current state. Check `code`. */
export class SessionError extends Error {
  /** Stable code; switch on this, not on the message. */
  readonly code: SessionErrorCode;
  /** The message without the code appended. */
  readonly reason: string;

  constructor(code: SessionErrorCode, reason: string) {
    super(`${reason} (${code})`);
    this.name = "SessionError";
    this.code = code;
    this.reason = reason;
  }
}
