/**
 * What `syncwire proxy` prints besides frames: one record per thing that happens to a link (it opens, a
 * frame is dropped, a direction stops being frames, a side ends its stream, the link is killed or
 * closes), in the text form as one line headed like the frames (`12:00:01.234  #1 …`), in JSON as
 * one object per line (`"type":"link"`). Frames themselves are printed by `render.ts`, as `dump` does.
 */
import type { DirectionStats } from "../node/fault-events.js";
import { clockTime, isoTime } from "./clock.js";
import type { DumpEvent } from "./model.js";
import type { Paint } from "./paint.js";

/** One thing that happened to a link. */
export type LinkRecord = {
  readonly type: "link";
  /** When, in ms since the epoch. */
  readonly time: number;
  /** The link's number, from 1 in the order clients connected. */
  readonly link: number;
  /** The direction's label ("#1 client → server") for records about one direction. */
  readonly stream?: string;
} & (
  | { readonly event: "open"; readonly client: string; readonly upstream: string }
  /** A frame the --drop fault took (shown just before, at `offset`). */
  | { readonly event: "dropped"; readonly offset: number }
  /** From `offset` on, this direction is not frames: forwarded as bytes, not shown. */
  | { readonly event: "unframed"; readonly offset: number }
  /** The sending side ended its stream. */
  | { readonly event: "end" }
  /** A kill fault fired; `why` names the limit ("3 frames client → server (--kill-after 3)"). */
  | { readonly event: "killed"; readonly why: string }
  | {
      readonly event: "closed";
      /** ended, reset, refused, killed or proxy-closed (see `FaultProxyEvent`). */
      readonly reason: string;
      readonly error?: string;
      readonly up: DirectionStats;
      readonly down: DirectionStats;
    }
);

/** Everything the proxy prints. */
export type ProxyRecord = DumpEvent | LinkRecord;

const plural = (n: number, word: string): string => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

/** One direction's counters in words: "3 frames, 120 bytes" (+ drops, + what was not forwarded). */
function tally(label: string, stats: DirectionStats): string {
  const dropped = stats.framesDropped > 0 ? ` (${stats.framesDropped} dropped)` : "";
  const forwarded = stats.bytesOut === stats.bytesIn ? "" : `, ${stats.bytesOut.toLocaleString("en-US")} forwarded`;
  return `${label} ${plural(stats.frames, "frame")}${dropped}, ${plural(stats.bytesIn, "byte")}${forwarded}`;
}

/** What a record says, after its heading. */
function recordWords(record: LinkRecord): string {
  switch (record.event) {
    case "open":
      return `open from ${record.client} to upstream ${record.upstream}`;
    case "dropped":
      return `frame @${record.offset} dropped (--drop)`;
    case "unframed":
      return `not frames from byte ${record.offset} on: forwarded as bytes, not shown`;
    case "end":
      return "end of stream";
    case "killed":
      return `killed after ${record.why}`;
    case "closed": {
      const why = record.error === undefined ? record.reason : `${record.reason}: ${record.error}`;
      return `closed (${why}): ${tally("client → server", record.up)}; ${tally("server → client", record.down)}`;
    }
  }
}

/**
 * The text form of a record: one line, "12:00:01.234  #1 client → server  end of stream".
 * @returns the line with its newline.
 */
export function linkRecordText(record: LinkRecord, paint: Paint): string {
  // A direction's records read "#1 client → server  end of stream"; the link's own "#1 open from …".
  const where = record.stream === undefined ? `${paint.bold(`#${record.link}`)} ` : `${paint.bold(record.stream)}  `;
  return `${paint.dim(clockTime(record.time))}  ${where}${recordWords(record)}\n`;
}

/**
 * The JSON form of a record: `{"type":"link","time":"…","link":1,"event":"open",…}` and a newline.
 * @returns the line.
 */
export function linkRecordJson(record: LinkRecord): string {
  return JSON.stringify({ ...record, time: isoTime(record.time) }) + "\n";
}
