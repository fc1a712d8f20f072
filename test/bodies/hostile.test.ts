// Hostile bodies: whatever the bytes, decoding a body returns a message or throws BodyError — never
// another error — and the offset points inside the frame at the offending field.
import { toBinary } from "@bufbuild/protobuf";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { BODY_OPS, BodyError, MAX_GROUP_DEPTH, SyncKeySchema, bodySchemaOf, decodeBody, decodeMessage, decodeProto, type BodyOp } from "../../src/bodies/index.js";
import { decodeFrame, encodeFrame, HEADER_SIZE, Op, opName } from "../../src/index.js";
import { mangledArb, messageArb, varint } from "./arbitraries.js";
import { runs } from "../support/runs.js";

function bodyErrorOf(op: number, body: Uint8Array, extension = new Uint8Array(0)): BodyError {
  const typed = decodeBody(decodeFrame(encodeFrame({ op, body, extension })));
  if (typed.opaque) throw new Error("expected a typed op");
  try {
    void typed.message;
  } catch (error) {
    if (error instanceof BodyError) return error;
    throw error;
  }
  throw new Error("expected a BodyError");
}

describe.each(BODY_OPS.map((op) => [opName(op), op] as const))("%s", (_name, op) => {
  const schema = bodySchemaOf(op)!;
  test.prop([mangledArb(messageArb(schema, { roundTrippable: false }).map((m) => toBinary(schema, m)))], { numRuns: runs(300) })(
    "mangled bodies decode or throw BodyError, with an offset inside the body",
    (body) => {
      try {
        decodeMessage(op as BodyOp, body, 16);
      } catch (error) {
        expect(error).toBeInstanceOf(BodyError);
        const e = error as BodyError;
        expect(e.op).toBe(op);
        expect(e.offset).toBeGreaterThanOrEqual(16);
        expect(e.offset).toBeLessThanOrEqual(16 + body.byteLength);
      }
    },
  );
});

// Field 1 of SEND is client_msg_id (fixed64), field 7 content (bytes), field 8 media (MediaRef).
describe("each kind of damage, with its offset", () => {
  test.prop([fc.integer({ min: 0, max: 8 }), fc.uint8Array({ maxLength: 6 })])("a truncated varint points at the varint", (ext, prefixPad) => {
    // server_msg_id (field 2, varint) whose last byte still says "more follows".
    const pad = [...prefixPad].flatMap((b) => [0x98, 0x01, b & 0x7f]); // unknown field 19 (varint), valid
    const body = new Uint8Array([...pad, 0x10, 0xff, 0xff]);
    const e = bodyErrorOf(Op.SEND, body, new Uint8Array(ext));
    expect(e.code).toBe("BAD_BODY");
    expect(e.offset).toBe(HEADER_SIZE + ext + pad.length + 1);
  });

  test.prop([fc.integer({ min: 1, max: 300 })])("a length past the end points at the length", (missing) => {
    const content = new Uint8Array(5);
    const body = new Uint8Array([0x3a, ...varint(BigInt(content.length + missing)), ...content]);
    const e = bodyErrorOf(Op.SEND, body);
    expect(e.offset).toBe(HEADER_SIZE + 1);
  });

  // Hand-written vectors: the length must be read whole, not as its low 32 bits (2^32 + 1 → 1).
  test.each([
    ["Ack error (field 5), length 2^32 + 1", Op.ACK, "2a818080801061"],
    ["Ack error, length 2^63 + 1 in 10 bytes", Op.ACK, "2a81808080808080808001" + "61"],
    ["Disconnect reason (field 2), length 2^32 + 1", Op.DISCONNECT, "1281808080106162"],
    ["SEND content (field 7), length 2^35", Op.SEND, "3a808080808001" + "61"],
  ])("%s is refused at the length", (_name, op, hex) => {
    const body = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
    const e = bodyErrorOf(op, body);
    expect(e.code).toBe("BAD_BODY");
    expect(e.offset).toBe(HEADER_SIZE + 1);
  });

  test("a nested length past its parent's end is refused (protobuf-es alone would read on)", () => {
    // media (field 8) of length 3 whose object_id claims 4 bytes; the 4th byte exists after the media.
    const body = new Uint8Array([0x42, 0x03, 0x0a, 0x04, 0x61, 0x62, 0x63]);
    expect(bodyErrorOf(Op.SEND, body).offset).toBe(HEADER_SIZE + 3);
    // The same inside a cold message (Hello.sync_key, field 5): validator path.
    const hello = new Uint8Array([0x0a, 0x01, 0x01, 0x2a, 0x02, 0x0a, 0x05, 0x08, 0x01, 0x10, 0x01]);
    expect(bodyErrorOf(Op.HELLO, hello).offset).toBe(HEADER_SIZE + 6);
  });

  test.prop([fc.constantFrom(0, 2, 5), fc.constantFrom(Op.SEND, Op.ACK, Op.HELLO, Op.CHUNK)])("a known field with the wrong wire type points at its tag", (wireType, op) => {
    // [field number, its wire type]; the field is sent with another wire type.
    const fieldByOp: Record<number, [number, number]> = {
      [Op.SEND]: [1, 1], // client_msg_id: fixed64
      [Op.ACK]: [2, 1], // client_msg_id: fixed64
      [Op.HELLO]: [2, 2], // client_id: string
      [Op.CHUNK]: [6, 5], // crc32: fixed32
    };
    const [field, expected] = fieldByOp[op]!;
    const sent = wireType === expected ? 0 : wireType;
    if (sent === expected) return;
    const value = sent === 0 ? [0x01] : sent === 2 ? [0x01, 0x61] : [0, 0, 0, 0];
    const body = new Uint8Array([0x78, 0x01, (field << 3) | sent, ...value]); // after a valid unknown field 15
    const e = bodyErrorOf(op, body);
    expect(e.offset).toBe(HEADER_SIZE + 2);
    expect(e.message).toContain("wire type");
  });

  test.prop([fc.integer({ min: MAX_GROUP_DEPTH + 1, max: 5000 }), fc.constantFrom(Op.SEND, Op.ACK, Op.HELLO, Op.SYNC_RESULT)])(
    "groups nested too deep are refused without exhausting the stack",
    (depth, op) => {
      // Unknown field 20 as a group, nested `depth` times, then closed.
      const open = [0xa3, 0x01]; // 20 << 3 | 3
      const close = [0xa4, 0x01]; // 20 << 3 | 4
      const body = new Uint8Array([...Array(depth).fill(open).flat(), ...Array(depth).fill(close).flat()]);
      const e = bodyErrorOf(op, body);
      expect(e.code).toBe("BAD_BODY");
      expect(e.offset).toBe(HEADER_SIZE + 2 * MAX_GROUP_DEPTH);
    },
  );

  test("groups within the depth limit are kept as unknown fields", () => {
    const depth = MAX_GROUP_DEPTH;
    const body = new Uint8Array([...Array(depth).fill([0xa3, 0x01]).flat(), ...Array(depth).fill([0xa4, 0x01]).flat()]);
    const typed = decodeBody(decodeFrame(encodeFrame({ op: Op.ACK, body })));
    if (typed.opaque || typed.op !== Op.ACK) throw new Error("expected ACK");
    expect(typed.message.$unknown).toHaveLength(1);
  });

  test("invalid UTF-8 in a string is refused at the string's bytes", () => {
    const body = new Uint8Array([0x1a, 0x02, 0xc3, 0x28]); // conversation_id
    expect(bodyErrorOf(Op.SEND, body).offset).toBe(HEADER_SIZE + 2);
  });

  test("an end-group tag with no group, a field number 0 and wire types 6/7 are refused at the tag", () => {
    for (const tag of [0x0c, 0x00, 0x0e, 0x0f]) expect(bodyErrorOf(Op.ACK, new Uint8Array([0x78, 0x00, tag, 0x00])).offset).toBe(HEADER_SIZE + 2);
  });

  test("an unknown field's varint of 11 bytes, or with a 10th byte above 1, is refused at the varint", () => {
    // Unknown field 15 of Ack (tag 0x78) after a valid known field: skipped, but still checked.
    for (const op of [Op.ACK, Op.HELLO]) {
      const eleven = new Uint8Array([0x08, 0x01, 0x78, ...Array(10).fill(0x80), 0x00]);
      expect(bodyErrorOf(op, eleven).offset).toBe(HEADER_SIZE + 3);
      const above = new Uint8Array([0x08, 0x01, 0x78, ...Array(9).fill(0xff), 0x02]);
      expect(bodyErrorOf(op, above).offset).toBe(HEADER_SIZE + 3);
    }
    // The largest 10-byte varint (2^64 − 1) is fine.
    const max = new Uint8Array([0x78, ...Array(9).fill(0xff), 0x01]);
    const typed = decodeBody(decodeFrame(encodeFrame({ op: Op.ACK, body: max })));
    if (typed.opaque || typed.op !== Op.ACK) throw new Error("expected ACK");
    expect(typed.message.$unknown).toHaveLength(1);
  });

  test("a non-ASCII byte anywhere in a short string makes it invalid UTF-8 (the ASCII shortcut must not accept it)", () => {
    // conversation_id (SEND field 3) of 1…70 bytes with one lone 0x80 or 0xff at each position.
    for (let length = 1; length <= 70; length++) {
      for (let at = 0; at < length; at++) {
        for (const bad of [0x80, 0xff]) {
          const text = new Uint8Array(length).fill(0x61);
          text[at] = bad;
          const body = new Uint8Array([0x1a, length, ...text]);
          const e = bodyErrorOf(Op.SEND, body);
          expect([e.code, e.offset]).toStrictEqual(["BAD_BODY", HEADER_SIZE + 2]);
        }
      }
    }
  });

  test("a varint of 11 bytes, or a 10th byte above 1, is refused", () => {
    const eleven = new Uint8Array([0x18, ...Array(10).fill(0x80), 0x00]);
    expect(bodyErrorOf(Op.ACK, eleven).offset).toBe(HEADER_SIZE + 1);
    const overflow = new Uint8Array([0x18, ...Array(9).fill(0xff), 0x02]);
    expect(bodyErrorOf(Op.ACK, overflow).offset).toBe(HEADER_SIZE + 1);
  });
});

// Every known field of the fast-path messages, sent with every wrong wire type: refused at its tag
// (never taken for an unknown field, which would be kept). One table per message, nested ones inside
// their parent, so each field-number boundary of the hand-written decoders is pinned.
describe("every known field of the fast-path messages with a wrong wire type", () => {
  /** A valid value for each wire type (group: an empty group needs its end tag, added below). */
  const payload: Record<number, number[]> = { 0: [0x01], 1: [1, 2, 3, 4, 5, 6, 7, 8], 2: [0x01, 0x61], 5: [1, 2, 3, 4] };
  const tag = (no: number, wireType: number): number[] => varint(BigInt((no << 3) | wireType));
  const field = (no: number, wireType: number): number[] =>
    wireType === 3 ? [...tag(no, 3), ...tag(no, 4)] : wireType === 4 ? tag(no, 4) : [...tag(no, wireType), ...payload[wireType]!];

  // [message, its fields' wire types by number, how to wrap its bytes into a decodable body, where the message starts in the body]
  const tables: [string, Record<number, number>, (inner: number[]) => { decode: () => unknown; at: number }][] = [
    ["MessagePacket", { 1: 1, 2: 0, 3: 2, 4: 2, 5: 2, 6: 0, 7: 2, 8: 2, 9: 0 }, (inner) => ({ decode: () => decodeMessage(Op.SEND, new Uint8Array(inner)), at: 0 })],
    ["MediaRef in MessagePacket.media", { 1: 2, 2: 2, 3: 0, 4: 2 }, (inner) => ({ decode: () => decodeMessage(Op.SEND, new Uint8Array([0x42, inner.length, ...inner])), at: 2 })],
    ["Ack", { 1: 0, 2: 1, 3: 0, 4: 0, 5: 2 }, (inner) => ({ decode: () => decodeMessage(Op.ACK, new Uint8Array(inner)), at: 0 })],
    ["SyncKey", { 1: 2 }, (inner) => ({ decode: () => decodeProto(SyncKeySchema, new Uint8Array(inner)), at: 0 })],
    ["SyncKeyEntry in SyncKey.entries", { 1: 0, 2: 0 }, (inner) => ({ decode: () => decodeProto(SyncKeySchema, new Uint8Array([0x0a, inner.length, ...inner])), at: 2 })],
  ];

  test.each(tables.map(([name, fields, wrap]) => [name, fields, wrap] as const))("%s", (_name, fields, wrap) => {
    for (const [no, right] of Object.entries(fields).map(([n, w]) => [Number(n), w] as const)) {
      for (let wireType = 0; wireType <= 5; wireType++) {
        if (wireType === right) continue;
        // After a valid unknown field 15 (varint), so the offset is not the message's start.
        const bytes = [...tag(15, 0), 0x07, ...field(no, wireType)];
        const { decode, at } = wrap(bytes);
        let caught: unknown;
        try {
          decode();
        } catch (error) {
          caught = error;
        }
        expect(caught, `field ${no}, wire type ${wireType}`).toBeInstanceOf(BodyError);
        expect((caught as BodyError).offset, `field ${no}, wire type ${wireType}`).toBe(at + 2);
      }
      // The next field number past the last known one is unknown: kept, not refused.
      const next = Math.max(...Object.keys(fields).map(Number)) + 1;
      expect(() => wrap([...field(next, 5)]).decode()).not.toThrow();
    }
  });
});
