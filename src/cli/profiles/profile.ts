/**
 * The profile interface and the one registry of profiles.
 *
 * A profile is how `dump` reads one protocol's byte stream: a streaming decoder that cuts it into frames
 * (the wire core's `FrameDecoder` for the 16-byte header of syncwire, goim and Bilibili; Mars's own for
 * its 20-byte header), and a `describe` that turns each frame into the nodes the printers show, its inner
 * frames (batches, compressed bodies) after it. The frame stream (`frame-stream.ts`) runs any profile
 * the same way: offsets, errors, budgets, trailers and output pacing live there, not in the profiles.
 *
 * Each profile is one module, loaded when it is picked: protobuf-es (syncwire bodies) and zlib
 * (Bilibili) cost start-up time that `--help` and the other profiles do not pay.
 */
import type { DumpBudget, DumpLimits } from "../limits.js";
import type { NodeEvent } from "../model.js";

/** Every profile, the default first. */
export const PROFILE_NAMES = ["syncwire", "goim", "bilibili", "mars"] as const;

/** A profile's name, as `--profile` takes it and `dump --json` prints it. */
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** What every profile's frames have: their whole length, so the stream can count offsets. */
export interface FrameLike {
  readonly packetLength: number;
}

/**
 * A streaming frame decoder, in the shape of the wire core's `FrameDecoder`: frames out as soon as they
 * are whole, a coded error (sticky) for bytes that cannot be frames, and `end` to say the input is over.
 */
export interface StreamDecoder<F extends FrameLike> {
  /** Appends the frames `chunk` completes to `out`; throws the profile's coded error on bad bytes. */
  push(chunk: Uint8Array, out: F[]): unknown;
  /** Throws if the input ended inside a frame. */
  end(): void;
}

/** What `describe` may use and spend. */
export interface DescribeContext {
  readonly limits: DumpLimits;
  /** Shared by the whole input: inner frames take a frame from it each, inflation its bytes. */
  readonly budget: DumpBudget;
}

/** One protocol, as `dump` reads it. */
export interface Profile<F extends FrameLike = FrameLike> {
  readonly name: ProfileName;
  /** A decoder for one stream, with the dump's limits (a frame limit reaches inner frames too). */
  createDecoder(limits: DumpLimits): StreamDecoder<F>;
  /**
   * The frame at stream offset `offset` as nodes: its own "frame" event (depth 0), then, for a batch or
   * a compressed body, its inner frames (depth 1 and deeper) while the budget lasts, then its
   * "frame-end". A body that cannot be read makes a node with a `decoded` error, never a throw: the
   * framing is still in step, so the stream goes on.
   */
  describe(frame: F, offset: number, context: DescribeContext): Iterable<NodeEvent>;
  /**
   * Whether bytes after `frame` that do not read as frames are a trailer when the input ends there
   * (Bilibili echoes the client's heartbeat body after its HEARTBEAT_REPLY); absent: never.
   */
  trailerAfter?(frame: F): boolean;
}

/** Where each profile's module is: the only place a profile name maps to code. */
const LOADERS: { readonly [N in ProfileName]: () => Promise<Profile> } = {
  syncwire: async () => (await import("./syncwire.js")).syncwireProfile,
  goim: async () => (await import("./goim.js")).goimProfile,
  bilibili: async () => (await import("./bilibili.js")).bilibiliProfile,
  mars: async () => (await import("./mars.js")).marsProfile,
};

/** True if `name` is a profile's name. Never throws. */
export function isProfileName(name: string): name is ProfileName {
  return Object.hasOwn(LOADERS, name);
}

/**
 * Loads a profile's module.
 * @returns the profile (one shared object per name).
 */
export function loadProfile(name: ProfileName): Promise<Profile> {
  return LOADERS[name]();
}
