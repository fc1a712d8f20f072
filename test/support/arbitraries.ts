/** fast-check arbitraries shared by the property tests. */
import fc from "fast-check";
import { Op, type FrameInit } from "../../src/index.js";

export const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
export const u16 = fc.integer({ min: 0, max: 0xffff });

/** Any op: the defined ones often, any u32 sometimes. BATCH excluded unless asked for. */
export function opArb(allowBatch = false): fc.Arbitrary<number> {
  return fc
    .oneof(fc.constantFrom(...Object.values(Op)), fc.integer({ min: 1000, max: 1100 }), u32)
    .filter((op) => allowBatch || op !== Op.BATCH);
}

/** A frame as a caller would build it, version 1 unless `anyVersion`. */
export function frameInitArb(options: { maxBody?: number; anyVersion?: boolean; allowBatch?: boolean } = {}): fc.Arbitrary<FrameInit> {
  return fc.record(
    {
      op: opArb(options.allowBatch),
      seq: u32,
      version: options.anyVersion ? u16 : fc.constant(1),
      body: fc.uint8Array({ maxLength: options.maxBody ?? 300 }),
      extension: fc.oneof({ weight: 4, arbitrary: fc.constant(new Uint8Array(0)) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 24 }) }),
    },
    { noNullPrototype: true },
  );
}
