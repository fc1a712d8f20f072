/** Typed access to the golden vectors in fixtures/ (read at test time from the repo, never from ../shared). */
import { readFileSync } from "node:fs";

export interface FrameFields {
  packetLength: number;
  headerLength: number;
  version: number;
  op: number;
  seq: number;
  extension: string;
  body: string;
}

export interface FrameVector {
  name: string;
  what: string;
  kind: "frame" | "frames" | "batch";
  hex: string;
  options?: { versions?: number[] | "any"; maxFrameSize?: number };
  frames: FrameFields[];
  trailer: string;
  inner?: FrameFields[];
  profile?: string;
}

export interface ErrorVector {
  name: string;
  what: string;
  decoder: "decodeFrame" | "decodeFrames" | "splitBatch";
  hex: string;
  options?: { versions?: number[] | "any"; maxFrameSize?: number };
  code: string;
  offset: number;
}

export function readFixture<T>(path: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), "utf8")) as T;
}
