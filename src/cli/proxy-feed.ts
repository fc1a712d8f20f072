/**
 * The proxy's printing: fault-proxy events in, `dump`'s annotated output (and link records) out.
 *
 * Theory of operation. Each direction of each link gets a frame stream (`frame-stream.ts`), created
 * for the profile exactly as `dump` creates one for an input, labelled "#N client → server" or
 * "#N server → client". The bytes of every frame the proxy reports (and the bytes it forwards unframed
 * after a framing error) are pushed into that stream in order, so it sees exactly the bytes that side
 * sent: it prints what `dump` would print for them, at the same offsets, and reports a framing error,
 * a cut-off last frame or a Bilibili trailer the way `dump` does. Each record carries the time its
 * bytes passed, which heads it in the text form and is its `time` in JSON.
 *
 * Events are handled one at a time, in the order the proxy reports them, on one promise chain; the
 * output is flushed after each (a live link wants its lines now) and waits while stdout is full. While
 * more than {@link MAX_BACKLOG} events wait, the listener returns the chain, so the proxy stops reading
 * until the output catches up: the link runs at the pace of the terminal rather than buffering without
 * bound.
 */
import type { FaultProxyEvent, FrameLike } from "../node/fault-events.js";
import type { Direction, FaultSettings } from "../node/fault-settings.js";
import { createFrameStream, type EventSink, type FrameStream } from "./frame-stream.js";
import { DumpBudget, type DumpLimits } from "./limits.js";
import type { LinkRecord, ProxyRecord } from "./link-record.js";
import type { Output } from "./output.js";
import type { Profile } from "./profiles/profile.js";

/** Events that may wait to be printed before the proxy is asked to stop reading. */
const MAX_BACKLOG = 64;

/** The label of one direction of a link, as its records show it. */
export function directionLabel(link: number, direction: Direction): string {
  return `#${link} ${direction === "up" ? "client → server" : "server → client"}`;
}

/** One link's printing state. */
interface LinkState {
  readonly streams: Partial<Record<Direction, FrameStream>>;
  /** A framing error was reported in this direction: the note waits for the bytes that follow. */
  readonly unframed: Partial<Record<Direction, number>>;
}

/** Prints what a fault proxy reports. See the theory of operation at the top of this file. */
export class ProxyFeed {
  readonly #profile: Profile;
  readonly #limits: DumpLimits;
  readonly #output: Output<ProxyRecord>;
  readonly #faults: FaultSettings;
  readonly #upstream: string;
  readonly #links = new Map<number, LinkState>();
  #chain: Promise<void> = Promise.resolve();
  #backlog = 0;
  #failure: { error: unknown } | undefined;
  /** The time of the event being printed: put on every record its frame stream emits. */
  #time = 0;

  /**
   * @param limits the frame limits (`maxFrames` and `maxInflateTotal` are per direction of a link).
   * @param faults the proxy's faults, to say which limit a kill reached.
   * @param upstream "host:port", for the open records.
   */
  constructor(profile: Profile, limits: DumpLimits, output: Output<ProxyRecord>, faults: FaultSettings, upstream: string) {
    this.#profile = profile;
    this.#limits = limits;
    this.#output = output;
    this.#faults = faults;
    this.#upstream = upstream;
  }

  /**
   * The fault proxy's listener (`onEvent`): queues the event for printing.
   * @returns the printing promise while the backlog is long (the proxy then stops reading), else undefined.
   */
  readonly onEvent = (event: FaultProxyEvent<FrameLike>): Promise<void> | undefined => {
    this.#backlog++;
    this.#chain = this.#chain
      .then(() => this.#handle(event))
      .then(() => this.#output.drained())
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => void this.#backlog--);
    return this.#backlog > MAX_BACKLOG ? this.#chain : undefined;
  };

  /**
   * Resolves once everything reported so far is printed.
   * @throws (rejects with) the first error printing met: a bug, since input errors are printed.
   */
  async idle(): Promise<void> {
    let chain: Promise<void>;
    do {
      chain = this.#chain;
      await chain;
    } while (chain !== this.#chain);
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  async #handle(event: FaultProxyEvent<FrameLike>): Promise<void> {
    this.#time = event.time;
    const base = { type: "link", time: event.time, link: event.link } as const;
    switch (event.type) {
      case "open":
        this.#links.set(event.link, { streams: {}, unframed: {} });
        return this.#record({ ...base, event: "open", client: event.client, upstream: this.#upstream });
      case "frame":
        await this.#stream(event.link, event.direction).push(event.bytes);
        if (event.dropped) this.#record({ ...base, stream: directionLabel(event.link, event.direction), event: "dropped", offset: event.offset });
        return;
      case "bytes": {
        await this.#stream(event.link, event.direction).push(event.bytes);
        const unframed = this.#state(event.link).unframed;
        const offset = unframed[event.direction];
        if (offset !== undefined) {
          delete unframed[event.direction];
          this.#record({ ...base, stream: directionLabel(event.link, event.direction), event: "unframed", offset });
        }
        return;
      }
      case "framing-error":
        this.#state(event.link).unframed[event.direction] = event.offset;
        return;
      case "end":
        return this.#record({ ...base, stream: directionLabel(event.link, event.direction), event: "end" });
      case "kill":
        return this.#record({ ...base, event: "killed", why: this.#killWhy(event.direction, event.reason) });
      case "close": {
        const state = this.#links.get(event.link);
        this.#links.delete(event.link);
        // The streams end: a frame cut off by the close, or a Bilibili trailer, is reported now.
        for (const direction of ["up", "down"] as const) await state?.streams[direction]?.end();
        const error = event.error === undefined ? {} : { error: event.error };
        return this.#record({ ...base, event: "closed", reason: event.reason, ...error, up: event.up, down: event.down });
      }
    }
  }

  #record(record: LinkRecord): void {
    this.#output.emit(record);
  }

  #state(link: number): LinkState {
    let state = this.#links.get(link);
    if (state === undefined) {
      state = { streams: {}, unframed: {} };
      this.#links.set(link, state);
    }
    return state;
  }

  /** The frame stream of one direction of a link, made when its first bytes arrive. */
  #stream(link: number, direction: Direction): FrameStream {
    const streams = this.#state(link).streams;
    const existing = streams[direction];
    if (existing !== undefined) return existing;
    const output = this.#output;
    const sink: EventSink = {
      emit: (event) => output.emit(event.type === "stream" ? event : { ...event, time: this.#time }),
      ready: () => output.ready(),
    };
    const stream = createFrameStream(this.#profile, { limits: this.#limits, budget: new DumpBudget(this.#limits) }, sink, directionLabel(link, direction));
    streams[direction] = stream;
    return stream;
  }

  /** Which limit a kill reached, in words: "3 frames client → server (--kill-after 3)". */
  #killWhy(direction: Direction | undefined, reason: "killAfterFrames" | "killAfterBytes" | "killAll"): string {
    if (direction === undefined || reason === "killAll") return "a request to kill every link";
    const limit = this.#faults[direction]?.[reason] ?? this.#faults[reason] ?? 0;
    const where = direction === "up" ? "client → server" : "server → client";
    return reason === "killAfterFrames"
      ? `${limit === 1 ? "1 frame" : `${limit} frames`} ${where} (--kill-after ${limit})`
      : `${limit === 1 ? "1 byte" : `${limit} bytes`} ${where} (--kill-after-bytes ${limit})`;
  }
}
