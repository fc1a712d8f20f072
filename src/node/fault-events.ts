/**
 * What a fault proxy reports as traffic passes (`FaultProxyOptions.onEvent`), and its counters.
 * Types only.
 */
import type { Direction } from "./fault-settings.js";

/** What the proxy needs of a frame: its whole length, so it can cut the stream at frame boundaries. */
export interface FrameLike {
  readonly packetLength: number;
}

/**
 * A streaming frame decoder, as the proxy uses one per direction of each link: `push` appends the
 * frames `chunk` completes to `out` and throws on bytes that cannot be frames. The wire core's
 * `FrameDecoder` fits, and so does any decoder of the same shape (the CLI's Mars profile).
 */
export interface FrameSplitter<F extends FrameLike> {
  push(chunk: Uint8Array, out: F[]): unknown;
}

/** Counters of one direction (of one link, or of every link together). */
export interface DirectionStats {
  /** Bytes read from the sending side. */
  readonly bytesIn: number;
  /** Bytes written to the receiving side. */
  readonly bytesOut: number;
  /** Whole frames seen (dropped ones included). */
  readonly frames: number;
  /** Frames dropped by the `drop` fault. */
  readonly framesDropped: number;
}

/** The proxy's counters (`FaultProxy.stats`). */
export interface FaultProxyStats {
  /** Links accepted so far. */
  readonly linksOpened: number;
  /** Links open now. */
  readonly linksOpen: number;
  /** Links ended by a kill fault or `killAll()`. */
  readonly linksKilled: number;
  readonly up: DirectionStats & {
    /** Bytes held now, over every link: parts of frames not yet whole, and what waits to be written. */
    readonly heldBytes: number;
    /** The most bytes one direction of one link ever held: the proxy's memory bound at work. */
    readonly peakHeldBytes: number;
  };
  readonly down: FaultProxyStats["up"];
}

/** Fields every event has. */
interface LinkEventBase {
  /** The link (one accepted client and its upstream connection), numbered from 1 in accept order. */
  readonly link: number;
  /** When it happened: `Date.now()`. */
  readonly time: number;
}

/**
 * What a fault proxy reports, in the order it happens.
 *
 * - `open`: a client connected; the proxy now connects upstream.
 * - `frame`: a whole frame arrived from `direction`'s sending side. `bytes` are all its bytes (a view of
 *   what the socket read when the frame lay inside one read, else a copy joined from several reads).
 *   `offset` counts the bytes received in that direction before it. `dropped`: the drop fault took it.
 * - `bytes`: bytes forwarded without framing — after a framing error, with framing off, or the part of
 *   a frame that never completed when its sender ended the stream. Same view/copy rule and offsets.
 * - `framing-error`: bytes that cannot be frames (the decoder's error, with its own offset); from here
 *   on this direction is forwarded as bytes, with no drop or frame counting.
 * - `end`: the sending side ended its stream (TCP FIN); the proxy ends the other side's once what it
 *   holds is written.
 * - `kill`: a kill fault fired in `direction` (or `killAll()` was called: no direction), and the link
 *   is being closed.
 * - `close`: both sockets are closed; `reason` says why and `up` / `down` hold the link's counters.
 *
 * Views alias memory the proxy never reuses, but a listener that keeps `bytes` past the event keeps
 * the read's whole buffer alive.
 */
export type FaultProxyEvent<F extends FrameLike> =
  | (LinkEventBase & { readonly type: "open"; /** The client's address, "host:port". */ readonly client: string })
  | (LinkEventBase & {
      readonly type: "frame";
      readonly direction: Direction;
      /** 0 for the first frame in this direction of this link. */
      readonly index: number;
      readonly offset: number;
      readonly frame: F;
      readonly bytes: Uint8Array;
      readonly dropped: boolean;
    })
  | (LinkEventBase & { readonly type: "bytes"; readonly direction: Direction; readonly offset: number; readonly bytes: Uint8Array })
  | (LinkEventBase & { readonly type: "framing-error"; readonly direction: Direction; /** Where the unframed bytes start. */ readonly offset: number; readonly error: unknown })
  | (LinkEventBase & { readonly type: "end"; readonly direction: Direction })
  | (LinkEventBase & {
      readonly type: "kill";
      /** The direction whose limit was reached; absent for `killAll()`. */
      readonly direction?: Direction;
      readonly reason: "killAfterFrames" | "killAfterBytes" | "killAll";
    })
  | (LinkEventBase & {
      readonly type: "close";
      /**
       * - `ended`: both sides ended their streams and everything was forwarded;
       * - `reset`: a side closed or failed abruptly (`error` says how, when Node said);
       * - `refused`: the upstream could not be reached (`error`);
       * - `killed`: a kill fault or `killAll()`;
       * - `proxy-closed`: `close()` ended it.
       */
      readonly reason: "ended" | "reset" | "refused" | "killed" | "proxy-closed";
      readonly error?: string;
      readonly up: DirectionStats;
      readonly down: DirectionStats;
    });
