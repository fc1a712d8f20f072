/**
 * fast-check arbitraries for protobuf messages, driven by the protobuf-es descriptors (so every message
 * type gets one without hand-written records), plus unknown fields encoded by an independent little
 * encoder written here (not src/bodies' writer).
 */
import { create, ScalarType, type DescField, type DescMessage, type Message, type MessageShape } from "@bufbuild/protobuf";
import { fc } from "@fast-check/vitest";

export interface MessageArbOptions {
  /** Only strings that survive a UTF-8 round trip (no lone surrogates, no leading BOM). Default true. */
  roundTrippable?: boolean;
  /** Attach unknown fields (numbers above the schema's) at every level. Default true. */
  unknown?: boolean;
  /** Depth budget for nested messages. */
  depth?: number;
}

const MAX_U64 = (1n << 64n) - 1n;

/** Independent varint encoder for test data. */
export function varint(v: bigint): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  while (x > 0x7fn) {
    out.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

/** Powers of two and their neighbours: where varint lengths and 32/53-bit splits change. */
const boundaryArb = fc
  .tuple(fc.integer({ min: 0, max: 64 }), fc.constantFrom(-1n, 0n, 1n))
  .map(([k, d]) => (1n << BigInt(k)) + d)
  .filter((v) => v >= 0n && v <= MAX_U64);

const u64Arb = fc.oneof(
  fc.bigInt({ min: 0n, max: 300n }),
  boundaryArb,
  fc.bigInt({ min: 0n, max: 1n << 36n }),
  fc.bigInt({ min: 0n, max: (1n << 53n) - 1n }),
  fc.constantFrom(0xffff_ffffn, 0x1_0000_0000n, 1n << 63n, MAX_U64),
  fc.bigInt({ min: 0n, max: MAX_U64 }),
);
const u32Arb = fc.oneof(
  fc.integer({ min: 0, max: 300 }),
  boundaryArb.filter((v) => v <= 0xffff_ffffn).map(Number),
  fc.integer({ min: 0, max: 0xffff_ffff }),
);
const i32Arb = fc.oneof(fc.integer({ min: -2, max: 8 }), fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }));

function stringArb(roundTrippable: boolean): fc.Arbitrary<string> {
  if (roundTrippable) {
    return fc
      .oneof(fc.string({ maxLength: 20 }), fc.string({ unit: "grapheme", maxLength: 12 }), fc.string({ minLength: 40, maxLength: 200 }))
      .filter((s) => !s.startsWith("\ufeff"));
  }
  return fc.oneof(
    fc.string({ unit: "binary", maxLength: 20 }),
    fc.string({ unit: "binary", minLength: 40, maxLength: 200 }),
    fc.constantFrom("\ud800", "a\udc00b", "\ufeffbom", "é".repeat(43), "x".repeat(130)),
  );
}

function scalarArb(scalar: ScalarType, roundTrippable: boolean): fc.Arbitrary<unknown> {
  switch (scalar) {
    case ScalarType.STRING:
      return stringArb(roundTrippable);
    case ScalarType.BYTES:
      return fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ minLength: 120, maxLength: 300 }));
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return u32Arb;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return u64Arb;
    case ScalarType.INT32:
      return i32Arb;
    default:
      throw new Error(`no arbitrary for scalar ${scalar} (not used by the schema)`);
  }
}

/** One unknown field as protobuf-es stores it, with a valid encoding of its value. */
export function unknownFieldArb(minNo: number): fc.Arbitrary<{ no: number; wireType: number; data: Uint8Array }> {
  const no = fc.integer({ min: minNo, max: 0x1fff_ffff });
  return fc.oneof(
    fc.record({ no, wireType: fc.constant(0), data: u64Arb.map((v) => new Uint8Array(varint(v))) }, { noNullPrototype: true }),
    fc.record({ no, wireType: fc.constant(1), data: fc.uint8Array({ minLength: 8, maxLength: 8 }) }, { noNullPrototype: true }),
    fc.record(
      { no, wireType: fc.constant(2), data: fc.uint8Array({ maxLength: 140 }).map((b) => new Uint8Array([...varint(BigInt(b.length)), ...b])) },
      { noNullPrototype: true },
    ),
    fc.record({ no, wireType: fc.constant(5), data: fc.uint8Array({ minLength: 4, maxLength: 4 }) }, { noNullPrototype: true }),
    // A group holding one varint field, closed by its end tag.
    fc
      .record({ no, inner: fc.integer({ min: 1, max: 1000 }), value: u64Arb }, { noNullPrototype: true })
      .map(({ no, inner, value }) => ({
        no,
        wireType: 3,
        data: new Uint8Array([...varint(BigInt(inner << 3)), ...varint(value), ...varint((BigInt(no) << 3n) | 4n)]),
      })),
  );
}

function fieldArb(field: DescField, options: Required<MessageArbOptions>): fc.Arbitrary<unknown> | undefined {
  const rt = options.roundTrippable;
  switch (field.fieldKind) {
    case "scalar":
      return scalarArb(field.scalar, rt);
    case "enum":
      return fc.oneof(fc.constantFrom(...field.enum.values.map((v) => v.number)), i32Arb);
    case "message":
      return options.depth <= 0 ? undefined : messageArb(field.message, { ...options, depth: options.depth - 1 });
    case "list":
      if (field.listKind === "message") {
        return options.depth <= 0 ? fc.constant([]) : fc.array(messageArb(field.message, { ...options, depth: options.depth - 1 }), { maxLength: 4 });
      }
      if (field.listKind === "enum") return fc.array(i32Arb, { maxLength: 5 });
      return fc.array(scalarArb(field.scalar, rt), { maxLength: 5 });
    default:
      return undefined;
  }
}

/** Any message of type `desc`: every field sometimes absent/default, sometimes set; unknown fields sometimes. */
export function messageArb<Desc extends DescMessage>(desc: Desc, options: MessageArbOptions = {}): fc.Arbitrary<MessageShape<Desc>> {
  const opts: Required<MessageArbOptions> = { roundTrippable: true, unknown: true, depth: 3, ...options };
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of desc.fields) {
    const arb = fieldArb(field, opts);
    if (arb !== undefined) parts[field.localName] = fc.option(arb, { nil: undefined, freq: 3 });
  }
  const maxNo = Math.max(...desc.fields.map((f) => f.number));
  const unknown = opts.unknown ? fc.option(fc.array(unknownFieldArb(maxNo + 1), { minLength: 1, maxLength: 3 }), { nil: undefined }) : fc.constant(undefined);
  return fc.tuple(fc.record(parts, { noNullPrototype: true }), unknown).map(([init, unknownFields]) => {
    const clean: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(init)) if (v !== undefined) clean[k] = v;
    const message = create(desc, clean as never) as Message;
    if (unknownFields !== undefined) message.$unknown = unknownFields;
    return message as MessageShape<Desc>;
  });
}

/** Bytes close to a valid encoding: truncated, with bytes flipped, inserted or appended — or pure noise. */
export function mangledArb(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.tuple(valid, fc.nat()).map(([b, n]) => b.subarray(0, b.length === 0 ? 0 : n % b.length)),
    fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, n, v]) => {
      const c = Uint8Array.from(b);
      if (c.length > 0) c[n % c.length] = v;
      return c;
    }),
    fc.tuple(valid, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 })).map(([b, n, extra]) => {
      const at = b.length === 0 ? 0 : n % b.length;
      return new Uint8Array([...b.subarray(0, at), ...extra, ...b.subarray(at)]);
    }),
  );
}
