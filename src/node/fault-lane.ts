/**
 * One direction of a fault proxy's link: bytes read from one socket, cut into frames, put through the
 * faults, written to the other socket.
 *
 * Theory of operation. `receive(chunk)` runs for every read. With framing, the chunk goes to the
 * direction's decoder; each frame it completes takes its bytes off the front of what was read since the
 * last frame boundary (`#held`, views of earlier reads, plus the start of this one): a view when the
 * frame lies inside this read, a copy joined from several reads otherwise. Each frame is reported, may
 * be dropped, is counted against the kill limits, and what is to be forwarded goes into the queue with
 * the time it is due (`arrival + delayMs`). Without framing (or after a framing error, when the rest of
 * the direction is forwarded as bytes) chunks go into the queue as they are.
 *
 * The writer (`#drain`, at most one running per lane) takes the queue in order: it waits until the head
 * is due (plus `mergeMs`, then takes every item due by then, written as one `writev`), cuts writes into
 * `split`-byte pieces with an event-loop turn between them, and waits for `drain` whenever the receiving
 * socket asks. A kill limit ends the queue with a kill marker: once the writer reaches it the lane asks
 * the link to close both sockets.
 *
 * Backpressure. The sending socket is paused while `highWaterMark` bytes or more wait to be written,
 * and while an `onEvent` listener's promise is pending; it is resumed below that. A frame still being
 * gathered does not count (pausing then would keep it from ever completing): a frame is forwarded only
 * when whole, so one frame, up to the decoder's `maxFrameSize`, may be held whatever the mark. So a
 * receiver that never reads holds the proxy to about `highWaterMark` + one read + one frame per
 * direction, and the sender's own TCP window fills.
 *
 * When the sending side ends its stream, what the lane holds is forwarded (an incomplete frame as
 * bytes) and then the receiving side's stream is ended: half-closed links work.
 */
import type { Socket } from "node:net";
import type { DirectionStats, FaultProxyEvent, FrameLike, FrameSplitter } from "./fault-events.js";
import type { Direction, ResolvedFaults } from "./fault-settings.js";
import { seededRandom } from "./seeded-random.js";

/** What a lane needs from its link. */
export interface LaneHost<F extends FrameLike> {
  readonly link: number;
  /** Reports an event; a returned promise holds the lane's reading until it settles. */
  emit(event: FaultProxyEvent<F>): PromiseLike<unknown> | undefined;
  /** The lane stopped taking input because a kill limit was reached: the other lane stops too. */
  killing(): void;
  /** The kill marker was reached: close the link (`from` has just written its last bytes). */
  kill(from: Direction, reason: "killAfterFrames" | "killAfterBytes"): void;
}

/** Mutable counters: a lane's own, and the proxy's totals for its direction. */
export interface MutableDirectionStats {
  bytesIn: number;
  bytesOut: number;
  frames: number;
  framesDropped: number;
  heldBytes: number;
  peakHeldBytes: number;
}

/** Fresh zeroed counters. */
export function newStats(): MutableDirectionStats {
  return { bytesIn: 0, bytesOut: 0, frames: 0, framesDropped: 0, heldBytes: 0, peakHeldBytes: 0 };
}

/** A lane's construction parameters. */
export interface LaneOptions<F extends FrameLike> {
  readonly direction: Direction;
  readonly source: Socket;
  readonly target: Socket;
  readonly host: LaneHost<F>;
  readonly faults: ResolvedFaults;
  /** The direction's decoder, or undefined to forward bytes unframed. */
  readonly decoder: FrameSplitter<F> | undefined;
  readonly seed: number;
  readonly highWaterMark: number;
  /** The proxy's totals for this direction. */
  readonly totals: MutableDirectionStats;
}

/** Something waiting to be written. `kill` marks the end of a link: nothing after it is written. */
interface Item {
  readonly bytes: Uint8Array;
  readonly due: number;
  readonly kill?: "killAfterFrames" | "killAfterBytes";
}

const EMPTY = new Uint8Array(0);

/** Bytes of `pieces` and then `tail`, joined into one fresh array. */
function join(pieces: readonly Uint8Array[], tail: Uint8Array): Uint8Array {
  let length = tail.byteLength;
  for (const piece of pieces) length += piece.byteLength;
  const joined = new Uint8Array(length);
  let at = 0;
  for (const piece of pieces) {
    joined.set(piece, at);
    at += piece.byteLength;
  }
  joined.set(tail, at);
  return joined;
}

/**
 * Resolves once a poll phase of the event loop has passed, so a peer in this process reads what was
 * just written before the next piece goes. One `setImmediate` is not enough when the write happened in
 * a poll phase (a read callback): its check phase comes before the next poll. Two always straddle one.
 */
const afterPoll = (): Promise<void> => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

/** Resolves when `socket` can take more (at once if it can), or when it closes. */
function writable(socket: Socket): Promise<void> {
  if (!socket.writableNeedDrain || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}

/** One direction of a link. See the theory of operation at the top of this file. */
export class Lane<F extends FrameLike> {
  readonly direction: Direction;
  readonly stats: MutableDirectionStats = newStats();
  readonly #source: Socket;
  readonly #target: Socket;
  readonly #host: LaneHost<F>;
  readonly #totals: MutableDirectionStats;
  readonly #random: () => number;
  readonly #highWaterMark: number;
  #faults: ResolvedFaults;
  #decoder: FrameSplitter<F> | undefined;

  // Input: what was read since the last frame boundary, and where the stream is.
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  /** Stream offset of the next frame (or unframed chunk). */
  #next = 0;
  #frameIndex = 0;
  /** Frames seen and bytes queued since the faults were last set: what the kill limits count. */
  #framesCounted = 0;
  #bytesCounted = 0;

  // Output: the queue, read from `#head` on.
  #queue: Item[] = [];
  #head = 0;
  #queuedBytes = 0;
  #writing = false;
  #sleep: { timer: ReturnType<typeof setTimeout>; wake: () => void } | undefined;

  // Flow and life.
  #holds = 0;
  #paused = true;
  /** The source ended its stream: forward what is held, then end the target's. */
  #sourceEnded = false;
  #targetEnded = false;
  /** A kill marker is queued: take no more input. */
  #killing = false;
  /** Write everything now, ignoring delays (a graceful `close()`). */
  #rushing = false;
  /** The link is closed: do nothing more. */
  #stopped = false;

  constructor(options: LaneOptions<F>) {
    this.direction = options.direction;
    this.#source = options.source;
    this.#target = options.target;
    this.#host = options.host;
    this.#faults = options.faults;
    this.#decoder = options.decoder;
    this.#random = seededRandom(options.seed, options.host.link, options.direction === "up" ? 0 : 1);
    this.#highWaterMark = options.highWaterMark;
    this.#totals = options.totals;
  }

  /** True once the source's stream ended (a FIN arrived). */
  get sourceEnded(): boolean {
    return this.#sourceEnded;
  }

  /** True once this lane ended the target's stream. */
  get targetEnded(): boolean {
    return this.#targetEnded;
  }

  /** Starts reading (the link is connected). */
  start(): void {
    this.#updateFlow();
  }

  /** New faults from now on; the kill limits count from here. What is queued keeps its due time. */
  setFaults(faults: ResolvedFaults): void {
    this.#faults = faults;
    this.#framesCounted = 0;
    this.#bytesCounted = 0;
  }

  /** One read from the source. */
  receive(chunk: Uint8Array): void {
    if (this.#stopped || this.#killing || this.#sourceEnded) return;
    const time = Date.now();
    this.#count("bytesIn", chunk.byteLength);
    const decoder = this.#decoder;
    if (decoder === undefined) {
      this.#forwardBytes(chunk, time);
    } else {
      const frames: F[] = [];
      let failure: unknown;
      let failed = false;
      try {
        decoder.push(chunk, frames);
      } catch (error) {
        failed = true; // the frames before the bad bytes are in `frames`
        failure = error;
      }
      let at = 0;
      for (const frame of frames) {
        let bytes: Uint8Array;
        if (this.#heldBytes === 0) {
          bytes = chunk.subarray(at, at + frame.packetLength);
          at += frame.packetLength;
        } else {
          // The frame started in earlier reads: its first bytes are all that is held.
          at = frame.packetLength - this.#heldBytes;
          bytes = join(this.#held, chunk.subarray(0, at));
          this.#release();
        }
        this.#frame(frame, bytes, time);
        if (this.#killing || this.#stopped) break;
      }
      const rest = chunk.subarray(at);
      if (this.#killing || this.#stopped) {
        // The rest of this read comes after the kill: it is not forwarded.
      } else if (!failed) {
        if (rest.byteLength > 0) {
          this.#held.push(rest);
          this.#hold(rest.byteLength);
        }
      } else {
        this.#decoder = undefined;
        const raw = this.#heldBytes === 0 ? rest : join(this.#held, rest);
        this.#release();
        this.#report({ type: "framing-error", link: this.#host.link, time, direction: this.direction, offset: this.#next, error: failure });
        if (raw.byteLength > 0) this.#forwardBytes(raw, time);
      }
    }
    this.#updateFlow();
    void this.#drain();
  }

  /** The source ended its stream. */
  sourceEnd(): void {
    if (this.#stopped || this.#sourceEnded) return;
    this.#sourceEnded = true;
    if (this.#killing) return;
    const time = Date.now();
    if (this.#heldBytes > 0) {
      // A frame that never completed: forward its bytes as they are, before the end.
      const raw = join(this.#held, EMPTY);
      this.#release();
      this.#forwardBytes(raw, time);
    }
    if (!this.#stopped) this.#report({ type: "end", link: this.#host.link, time, direction: this.direction });
    void this.#drain();
  }

  /** Another lane of the link is about to kill it: take no more input. */
  stopInput(): void {
    this.#killing = true;
    this.#updateFlow();
  }

  /** A graceful close: stop reading, forward what is held now, end the target's stream. */
  finish(): void {
    if (this.#stopped) return;
    this.#rushing = true;
    this.#wake();
    if (!this.#sourceEnded) {
      this.#sourceEnded = true;
      if (this.#heldBytes > 0 && !this.#killing) {
        const raw = join(this.#held, EMPTY);
        this.#release();
        this.#forwardBytes(raw, Date.now());
      }
    }
    this.#updateFlow();
    void this.#drain();
  }

  /** The link is closed: drop everything, stop the writer. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#wake();
    this.#release();
    const queued = this.#queuedBytes;
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#adjustHeld(-queued);
  }

  /** A whole frame arrived. */
  #frame(frame: F, bytes: Uint8Array, time: number): void {
    const faults = this.#faults;
    const index = this.#frameIndex++;
    const offset = this.#next;
    this.#next += bytes.byteLength;
    this.#count("frames", 1);
    const dropped = faults.drop > 0 && this.#random() < faults.drop;
    if (dropped) this.#count("framesDropped", 1);
    this.#report({ type: "frame", link: this.#host.link, time, direction: this.direction, index, offset, frame, bytes, dropped });
    if (this.#stopped) return;
    if (!dropped) this.#enqueue(bytes, time);
    if (!this.#killing && ++this.#framesCounted >= faults.killAfterFrames) this.#queueKill("killAfterFrames", time);
  }

  /** Bytes forwarded without framing. */
  #forwardBytes(bytes: Uint8Array, time: number): void {
    const offset = this.#next;
    this.#next += bytes.byteLength;
    this.#report({ type: "bytes", link: this.#host.link, time, direction: this.direction, offset, bytes });
    if (!this.#stopped) this.#enqueue(bytes, time);
  }

  /** Queues bytes to forward, cut at the kill-after-bytes limit. */
  #enqueue(bytes: Uint8Array, time: number): void {
    if (this.#killing) return;
    const left = this.#faults.killAfterBytes - this.#bytesCounted;
    const cut = bytes.byteLength >= left;
    const forwarded = cut ? bytes.subarray(0, left) : bytes;
    this.#bytesCounted += forwarded.byteLength;
    const due = time + this.#faults.delayMs;
    this.#queue.push(cut ? { bytes: forwarded, due, kill: "killAfterBytes" } : { bytes: forwarded, due });
    this.#queuedBytes += forwarded.byteLength;
    this.#adjustHeld(forwarded.byteLength);
    if (cut) this.#startKilling();
  }

  #queueKill(reason: "killAfterFrames", time: number): void {
    this.#queue.push({ bytes: EMPTY, due: time + this.#faults.delayMs, kill: reason });
    this.#startKilling();
  }

  #startKilling(): void {
    this.#killing = true;
    this.#release();
    this.#host.killing();
    this.#updateFlow();
  }

  /** Reports an event; a promise from the listener holds reading until it settles. */
  #report(event: FaultProxyEvent<F>): void {
    const pending = this.#host.emit(event);
    if (pending === undefined) return;
    this.#holds++;
    this.#updateFlow();
    const settle = (): void => {
      this.#holds--;
      this.#updateFlow();
    };
    pending.then(settle, settle);
  }

  /**
   * Pauses the source while too much waits to be written or a listener holds it, resumes it otherwise.
   * A frame still being gathered does not count: pausing then would keep it from ever completing.
   */
  #updateFlow(): void {
    const hold = this.#stopped || this.#killing || this.#sourceEnded || this.#holds > 0 || this.#queuedBytes >= this.#highWaterMark;
    if (hold && !this.#paused) {
      this.#source.pause();
      this.#paused = true;
    } else if (!hold && this.#paused) {
      this.#paused = false;
      this.#source.resume();
    }
  }

  /** Writes the queue in order. See the theory of operation. */
  async #drain(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (!this.#stopped && this.#head < this.#queue.length) {
        const first = this.#queue[this.#head]!;
        const { mergeMs, split } = this.#faults;
        await this.#sleepUntil(first.due + mergeMs);
        if (this.#stopped) return;
        // With merging, everything due by now goes out together (up to a kill marker).
        let end = this.#head + 1;
        if (mergeMs > 0) {
          const now = Date.now();
          while (end < this.#queue.length && this.#queue[end - 1]!.kill === undefined && (this.#rushing || this.#queue[end]!.due <= now)) end++;
        }
        const items = this.#queue.slice(this.#head, end);
        let bytes = 0;
        for (const item of items) bytes += item.bytes.byteLength;
        if (split > 0 && !this.#rushing) {
          for (const item of items) {
            for (let at = 0; at < item.bytes.byteLength; at += split) {
              this.#write(item.bytes.subarray(at, at + split));
              await afterPoll();
              await writable(this.#target);
              if (this.#stopped) return;
            }
          }
        } else {
          // Several items: under cork, so Node hands them to the kernel in one writev.
          if (items.length > 1) this.#target.cork();
          for (const item of items) if (item.bytes.byteLength > 0) this.#write(item.bytes);
          if (items.length > 1) this.#target.uncork();
        }
        this.#head = end;
        this.#queuedBytes -= bytes;
        this.#adjustHeld(-bytes);
        if (this.#head > 256 && this.#head * 2 > this.#queue.length) {
          this.#queue.splice(0, this.#head);
          this.#head = 0;
        }
        const kill = items[items.length - 1]!.kill;
        if (kill !== undefined) {
          this.#host.kill(this.direction, kill);
          return;
        }
        this.#updateFlow();
        await writable(this.#target);
      }
      if (!this.#stopped && this.#sourceEnded && !this.#killing && !this.#targetEnded && this.#head >= this.#queue.length) {
        this.#targetEnded = true;
        this.#target.end();
      }
    } finally {
      this.#writing = false;
    }
  }

  #write(bytes: Uint8Array): void {
    if (this.#target.destroyed || this.#target.writableEnded) return;
    this.#target.write(bytes);
    this.#count("bytesOut", bytes.byteLength);
  }

  /** Waits until `due` (at once when past, or when rushing); `#wake` cuts it short. */
  #sleepUntil(due: number): Promise<void> {
    const wait = due - Date.now();
    if (wait <= 0 || this.#rushing) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(this.#sleep?.timer);
        this.#sleep = undefined;
        resolve();
      };
      this.#sleep = { timer: setTimeout(wake, wait), wake };
    });
  }

  #wake(): void {
    this.#sleep?.wake();
  }

  #hold(bytes: number): void {
    this.#heldBytes += bytes;
    this.#adjustHeld(bytes);
  }

  /** Lets go of what was read since the last frame boundary. */
  #release(): void {
    this.#adjustHeld(-this.#heldBytes);
    this.#held = [];
    this.#heldBytes = 0;
  }

  #adjustHeld(delta: number): void {
    const held = (this.stats.heldBytes += delta);
    this.#totals.heldBytes += delta;
    if (held > this.stats.peakHeldBytes) this.stats.peakHeldBytes = held;
    if (held > this.#totals.peakHeldBytes) this.#totals.peakHeldBytes = held;
  }

  #count(key: "bytesIn" | "bytesOut" | "frames" | "framesDropped", n: number): void {
    this.stats[key] += n;
    this.#totals[key] += n;
  }
}

/** A lane's counters as reported in a `close` event. */
export function directionStats(stats: MutableDirectionStats): DirectionStats {
  return { bytesIn: stats.bytesIn, bytesOut: stats.bytesOut, frames: stats.frames, framesDropped: stats.framesDropped };
}
