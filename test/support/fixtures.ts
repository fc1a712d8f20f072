/** Typed access to the golden vectors in fixtures/ (read at test time from the repo, never from ../shared). */
import { readFileSync } from "node:fs";
import type { Frame } from "../../src/index.js";
import { toHex } from "./hex.js";

export interface FrameFields {
  packetLength: number;
  headerLength: number;
  version: number;
  op: number;
  seq: number;
  extension: string;
  body: string;
}

/** A decoded frame's fields as the fixtures spell them (extension and body in hex). */
export function fieldsOf(frame: Frame): FrameFields {
  return {
    packetLength: frame.packetLength,
    headerLength: frame.headerLength,
    version: frame.version,
    op: frame.op,
    seq: frame.seq,
    extension: toHex(frame.extension),
    body: toHex(frame.body),
  };
}

/** The decoder a vector is for (fixtures/README.md): splitBatch takes the vector as one BATCH frame, splitBatchBody as a body. */
export type VectorDecoder = "decodeFrame" | "decodeFrames" | "splitBatch" | "splitBatchBody";

export interface VectorOptions {
  versions?: number[] | "any";
  maxFrameSize?: number;
  allowTrailer?: boolean;
}

/** What the bodies layer makes of a frame (fixtures/wire/frames.json): opaque, a message (JSON form) or an error. */
export type BodyOutcome = { opaque: true } | { json: unknown } | { error: { code: string; offset: number } };

export interface FrameVector {
  name: string;
  what: string;
  decoder: VectorDecoder;
  options: VectorOptions;
  hex: string;
  frames: FrameFields[];
  trailer: string;
  inner?: FrameFields[];
  bodies?: BodyOutcome[];
  profile?: string;
}

export interface ErrorVector {
  name: string;
  what: string;
  decoder: VectorDecoder;
  options: VectorOptions;
  hex: string;
  code: string;
  offset: number;
}

export function readFixture<T>(path: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), "utf8")) as T;
}
