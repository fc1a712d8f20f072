// SyncKey helpers: the text form round-trips and validates; merge is commutative, associative and
// idempotent; comparison and equality ignore order, repeats and zero versions.
import { create } from "@bufbuild/protobuf";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import {
  SyncKeyEntrySchema,
  SyncKeyFormatError,
  SyncKeySchema,
  compareSyncKeys,
  createSyncKey,
  formatSyncKey,
  hasNewer,
  mergeSyncKeys,
  parseSyncKey,
  syncKeyEquals,
  syncKeyToMap,
  type SyncKey,
} from "../../src/bodies/index.js";

const keyArb = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(201, 202, 1000), fc.integer({ min: 0, max: 0xffff_ffff }));
const versionArb = fc.oneof(fc.bigInt({ min: 0n, max: 5n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));

/** Any SyncKey as a peer might send it: any order, repeated keys, zero versions. */
const syncKeyArb: fc.Arbitrary<SyncKey> = fc
  .array(fc.tuple(keyArb, versionArb), { maxLength: 6 })
  .map((pairs) => create(SyncKeySchema, { entries: pairs.map(([key, version]) => create(SyncKeyEntrySchema, { key, version })) }));

/** The meaning of a key, computed independently: version per key, max over repeats, zeros dropped. */
function meaning(key: SyncKey): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const e of key.entries) {
    const k = String(e.key);
    if (e.version > (out[k] ?? 0n)) out[k] = e.version;
  }
  return out;
}

describe("text form", () => {
  const distinctArb = fc
    .uniqueArray(fc.tuple(keyArb, versionArb), { selector: ([k]) => k, maxLength: 6 })
    .map((pairs) => create(SyncKeySchema, { entries: pairs.map(([key, version]) => create(SyncKeyEntrySchema, { key, version })) }));

  test.prop([distinctArb])("format → parse round-trips, order kept", (key) => {
    expect(parseSyncKey(formatSyncKey(key))).toStrictEqual(key);
  });

  test.prop([fc.uniqueArray(fc.tuple(keyArb, versionArb), { selector: ([k]) => k, maxLength: 6 })])("the format is key_version joined by |", (pairs) => {
    const key = create(SyncKeySchema, { entries: pairs.map(([key, version]) => create(SyncKeyEntrySchema, { key, version })) });
    expect(formatSyncKey(key)).toBe(pairs.map(([k, v]) => `${k}_${v}`).join("|"));
  });

  test("WeChat's long-poll example parses", () => {
    const key = parseSyncKey("1_620943725|2_620943769|3_620943649|1000_1620940000");
    expect([...syncKeyToMap(key)]).toStrictEqual([
      [1, 620943725n],
      [2, 620943769n],
      [3, 620943649n],
      [1000, 1620940000n],
    ]);
  });

  test.each([
    ["1_", 0],
    ["_1", 0],
    ["1_2|", 4],
    ["|1_2", 0],
    ["1_2||3_4", 4],
    ["1-2", 0],
    [" 1_2", 0],
    ["01_2", 0],
    ["1_02", 0],
    ["+1_2", 0],
    ["1_2|3_x", 4],
    ["4294967296_1", 0],
    ["1_18446744073709551616", 0],
    ["1_1|2_2|1_3", 8],
  ])("%j is refused at character %i", (text, offset) => {
    expect(() => parseSyncKey(text)).toThrow(SyncKeyFormatError);
    expect(() => parseSyncKey(text)).toThrow(expect.objectContaining({ code: "BAD_SYNC_KEY", offset }));
  });

  test("the error names itself, its code and where", () => {
    const error = (() => {
      try {
        parseSyncKey("1_2|3_02");
      } catch (e) {
        return e as SyncKeyFormatError;
      }
      throw new Error("no error");
    })();
    expect(error.name).toBe("SyncKeyFormatError");
    expect(error.message).toMatch(/^expected key_version, got "3_02" \(BAD_SYNC_KEY at character 4\)$/);
  });

  test("the largest key and version parse; the empty string is the empty key", () => {
    expect(formatSyncKey(parseSyncKey("4294967295_18446744073709551615"))).toBe("4294967295_18446744073709551615");
    expect(parseSyncKey("")).toStrictEqual(create(SyncKeySchema));
  });

  test.prop([fc.string({ maxLength: 30 })])("any text parses or throws SyncKeyFormatError", (text) => {
    try {
      parseSyncKey(text);
    } catch (error) {
      expect(error).toBeInstanceOf(SyncKeyFormatError);
    }
  });
});

describe("merge", () => {
  test.prop([syncKeyArb, syncKeyArb])("is the per-key maximum", (a, b) => {
    const m = meaning(mergeSyncKeys(a, b));
    const ma = meaning(a);
    const mb = meaning(b);
    const expected: Record<string, bigint> = { ...ma };
    for (const [k, v] of Object.entries(mb)) if (v > (expected[k] ?? 0n)) expected[k] = v;
    expect(m).toStrictEqual(expected);
  });

  test.prop([syncKeyArb, syncKeyArb])("is commutative", (a, b) => {
    expect(mergeSyncKeys(a, b)).toStrictEqual(mergeSyncKeys(b, a));
  });

  test.prop([syncKeyArb, syncKeyArb, syncKeyArb])("is associative", (a, b, c) => {
    expect(mergeSyncKeys(mergeSyncKeys(a, b), c)).toStrictEqual(mergeSyncKeys(a, mergeSyncKeys(b, c)));
  });

  test.prop([syncKeyArb])("is idempotent", (a) => {
    const once = mergeSyncKeys(a, a);
    expect(syncKeyEquals(once, a)).toBe(true);
    expect(mergeSyncKeys(once, once)).toStrictEqual(once);
  });

  test.prop([syncKeyArb, syncKeyArb])("does not modify its inputs", (a, b) => {
    const before = [formatSyncKey(a), formatSyncKey(b)];
    mergeSyncKeys(a, b);
    expect([formatSyncKey(a), formatSyncKey(b)]).toStrictEqual(before);
  });
});

describe("compare, hasNewer, equals", () => {
  test.prop([syncKeyArb, syncKeyArb])("agree with the per-key meaning", (a, b) => {
    const ma = meaning(a);
    const mb = meaning(b);
    const keys = new Set([...Object.keys(ma), ...Object.keys(mb)]);
    const aNewer = [...keys].some((k) => (ma[k] ?? 0n) > (mb[k] ?? 0n));
    const bNewer = [...keys].some((k) => (mb[k] ?? 0n) > (ma[k] ?? 0n));
    expect(hasNewer(a, b)).toBe(aNewer);
    expect(compareSyncKeys(a, b)).toBe(aNewer && bNewer ? undefined : aNewer ? 1 : bNewer ? -1 : 0);
    expect(syncKeyEquals(a, b)).toBe(!aNewer && !bNewer);
  });

  test.prop([syncKeyArb, fc.context()])("equality ignores order and repeats", (a) => {
    const shuffled = create(SyncKeySchema, { entries: [...a.entries].reverse().concat(a.entries.slice(0, 1)) });
    expect(syncKeyEquals(a, shuffled)).toBe(true);
    expect(compareSyncKeys(a, mergeSyncKeys(a, shuffled))).toBe(0);
  });

  test.prop([syncKeyArb, syncKeyArb])("merge is an upper bound of both", (a, b) => {
    const m = mergeSyncKeys(a, b);
    expect(hasNewer(a, m)).toBe(false);
    expect(hasNewer(b, m)).toBe(false);
  });

  test("createSyncKey validates and sorts", () => {
    expect(formatSyncKey(createSyncKey([[3, 1n], [1, 2n], [3, 5n]]))).toBe("1_2|3_5");
    // A repeated key keeps its largest version, whichever comes first.
    expect(formatSyncKey(createSyncKey([[3, 5n], [1, 2n], [3, 1n]]))).toBe("1_2|3_5");
    expect(formatSyncKey(createSyncKey(new Map([[0, 0n], [0xffff_ffff, (1n << 64n) - 1n]])))).toBe("0_0|4294967295_18446744073709551615");
    for (const key of [2 ** 32, 1.5, Number.NaN]) expect(() => createSyncKey([[key, 1n]])).toThrow(RangeError);
    expect(() => createSyncKey([[1, 1n << 64n]])).toThrow(RangeError);
    expect(() => createSyncKey([[-1, 1n]])).toThrow(RangeError);
    expect(() => createSyncKey([[1, -1n]])).toThrow(RangeError);
    expect(() => createSyncKey([[1, 1 as unknown as bigint]])).toThrow(RangeError);
  });
});
