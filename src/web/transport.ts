/**
 * What a client transport is, to the reconnecting client (`SyncwireClient`): something that opens links
 * and moves whole frames over them. TCP and TLS (`syncwire/node`), a WebSocket (`webSocketTransport`,
 * here) and HTTP short links (`shortLinkTransport`, here) all fit it, so one driver serves them all.
 *
 * A transport knows bytes, not the protocol: it never reads a frame's body, never answers anything and
 * never retries. Whatever it delivers goes to the client engine; whatever the engine polls, it writes.
 */

/** What a link reports to its driver. Called asynchronously (never from inside `connect`, `send` or `close`). */
export interface TransportHandlers {
  /** The link is up: the engine may send HELLO. */
  open(): void;
  /** Bytes of a byte stream (TCP, TLS), cut anywhere. The driver keeps views of them: do not reuse the memory. */
  bytes(chunk: Uint8Array): void;
  /** One whole message (a WebSocket message, an HTTP response body): whole frames, end to end. */
  message(message: Uint8Array): void;
  /** The link takes writes again after `send` returned false. */
  writable(): void;
  /**
   * The link is gone: closed by either side, reset, or it never opened. Called once, last; `reason` is
   * for logs and events.
   */
  closed(reason: string): void;
}

/** One open (or opening) link. */
export interface TransportLink {
  /**
   * Writes one whole frame as `pollTransmit()` returned it (one write on a stream, one WebSocket
   * message, part of an HTTP request body). The bytes are written by reference or copied before the
   * call returns control to the event loop, so they must not change until then.
   * @returns false when the link's outgoing buffer is over its bound: send nothing more until
   *   `writable()` (the transport also stops reading meanwhile, so backpressure holds both ways).
   */
  send(frame: Uint8Array): boolean;
  /** Closes after writing what was sent. `closed()` follows. */
  close(): void;
  /** Drops the link at once (a connect timeout, `SyncwireClient.close()`). `closed()` may follow; the driver ignores it. */
  abort(): void;
}

/** Opens links of one kind to one place. */
export interface ClientTransport {
  /** For logs and events: "tcp", "tls", "ws", "http", … */
  readonly kind: string;
  /**
   * True for HTTP short links (docs/PROTOCOL.md §11.9): the engine connects with `short`, every request
   * carries HELLO first, and there is no connection to keep alive.
   */
  readonly short?: boolean;
  /**
   * Starts a new link. The handlers are called later, never from inside this call.
   * @throws only for a transport that cannot even start (a bad URL): the driver treats it as a link that
   *   closed at once.
   */
  connect(handlers: TransportHandlers): TransportLink;
}
