// Types for frame-model.mjs (the tests import it as an oracle).
export interface ModelFrame {
  at: number;
  packetLength: number;
  headerLength: number;
  version: number;
  op: number;
  seq: number;
}
export interface ModelError {
  code: string;
  offset: number;
}
export interface ModelOptions {
  mode?: "frame" | "frames" | "batch";
  maxFrameSize?: number;
  versions?: readonly number[] | "any";
  allowTrailer?: boolean;
  base?: number;
}
export type ModelResult = { frames: ModelFrame[]; trailerAt: number; error?: undefined } | { error: ModelError; frames?: undefined };
export function headerError(view: DataView, at: number, left: number, limits: { maxFrameSize: number; versions: readonly number[] | "any" }): ModelError | undefined;
export function modelDecode(bytes: Uint8Array, options?: ModelOptions): ModelResult;
export function frameFields(bytes: Uint8Array, frame: ModelFrame): {
  packetLength: number;
  headerLength: number;
  version: number;
  op: number;
  seq: number;
  extension: string;
  body: string;
};
