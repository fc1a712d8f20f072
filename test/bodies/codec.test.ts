// The body codec over whole frames: every op round-trips through frame encode → decodeFrame →
// decodeBody; decoding is lazy; empty bodies follow the op table; opaque ops stay bytes; bytes fields
// alias the frame.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import {
  AckSchema,
  BODY_OPS,
  BodyError,
  MessagePacketSchema,
  acceptsEmptyBody,
  bodyFrame,
  bodySchemaOf,
  decodeBody,
  decodeMessage,
  encodeBody,
  encodeBodyFrame,
  type BodyOp,
} from "../../src/bodies/index.js";
import { decodeFrame, encodeBatch, encodeFrame, HEADER_SIZE, Op, opName, splitBatch } from "../../src/index.js";
import { atOffset } from "../support/hex.js";
import { messageArb } from "./arbitraries.js";

const opCases = BODY_OPS.map((op) => [opName(op), op] as const);

describe.each(opCases)("%s", (_name, op) => {
  const schema = bodySchemaOf(op)!;
  const nonEmpty = messageArb(schema).filter((m) => acceptsEmptyBody(op) || toBinary(schema, m).byteLength > 0);

  test.prop([nonEmpty, fc.integer({ min: 0, max: 0xffff_ffff }), fc.uint8Array({ maxLength: 8 })])(
    "round-trips through encodeBodyFrame → decodeFrame → decodeBody",
    (message, seq, extension) => {
      const bytes = atOffset(encodeBodyFrame(op as BodyOp, message as never, { seq, extension }));
      const frame = decodeFrame(bytes);
      expect(frame.op).toBe(op);
      expect(frame.seq).toBe(seq);
      expect(frame.body).toStrictEqual(toBinary(schema, message));
      const body = decodeBody(frame);
      expect(body.opaque).toBe(false);
      if (body.opaque) return;
      expect(body.offset).toBe(HEADER_SIZE + extension.byteLength);
      expect(body.message).toStrictEqual(message);
      expect(body.message).toBe(body.message); // decoded once, cached
    },
  );

  test.prop([nonEmpty])("encodeBodyFrame equals encodeFrame(bodyFrame) and encodeBody equals toBinary", (message) => {
    expect(encodeBodyFrame(op as BodyOp, message as never, { seq: 9 })).toStrictEqual(encodeFrame(bodyFrame(op as BodyOp, message as never, { seq: 9 })));
    expect(encodeBody(op as BodyOp, message as never)).toStrictEqual(toBinary(schema, message));
  });

  test("an empty body is accepted or refused by the op table", () => {
    const frame = decodeFrame(encodeFrame({ op }));
    const body = decodeBody(frame);
    if (body.opaque) throw new Error("typed op decoded as opaque");
    if (acceptsEmptyBody(op)) {
      expect(body.message).toStrictEqual(create(schema));
    } else {
      expect(() => body.message).toThrow(expect.objectContaining({ name: "BodyError", code: "EMPTY_BODY", offset: HEADER_SIZE, op }));
      expect(() => encodeBody(op as BodyOp, create(schema) as never)).toThrow(RangeError);
    }
  });
});

test("only the documented ops accept an empty body", () => {
  const empty = BODY_OPS.filter((op) => acceptsEmptyBody(op)).sort((a, b) => a - b);
  expect(empty).toStrictEqual([Op.HEARTBEAT, Op.HEARTBEAT_ACK, Op.ACK, Op.NOTIFY, Op.SYNC, Op.SYNC_RESULT].sort((a, b) => a - b));
});

test("decodeBody parses nothing: a malformed body only fails when message is read", () => {
  const frame = decodeFrame(encodeFrame({ op: Op.SEND, body: new Uint8Array([0x0a, 0x05, 0x01]) }));
  const body = decodeBody(frame); // no throw
  expect(body.op).toBe(Op.SEND);
  if (body.opaque) throw new Error("SEND decoded as opaque");
  expect(() => body.message).toThrow(BodyError);
});

test.prop([fc.oneof(fc.constant(Op.BATCH), fc.integer({ min: 1000, max: 0xffff_ffff }), fc.integer({ min: 16, max: 999 }), fc.constantFrom(0, 1)), fc.uint8Array({ maxLength: 40 })])(
  "BATCH, application and reserved ops stay opaque bytes (views of the frame)",
  (op, payload) => {
    const bytes = encodeFrame({ op, body: payload });
    const body = decodeBody(decodeFrame(bytes));
    expect(body).toStrictEqual({ opaque: true, op, body: payload, offset: HEADER_SIZE });
    expect(body.body.buffer).toBe(bytes.buffer);
    expect(() => decodeMessage(op as BodyOp, payload)).toThrow(RangeError);
  },
);

test("a BATCH of typed frames splits into frames whose bodies decode", () => {
  const ack = create(AckSchema, { clientMsgId: 42n, serverMsgId: 7n });
  const batch = encodeBatch([bodyFrame(Op.ACK, ack, { seq: 3 }), bodyFrame(Op.ACK, create(AckSchema), { seq: 4 })]);
  const inner = splitBatch(decodeFrame(batch)).map(decodeBody);
  expect(inner.map((b) => (b.opaque ? null : b.message))).toStrictEqual([ack, create(AckSchema)]);
});

describe("bytes fields alias the frame", () => {
  const message = create(MessagePacketSchema, {
    clientMsgId: 1n,
    content: new Uint8Array([1, 2, 3, 4]),
    media: { objectId: "o", thumbnail: new Uint8Array([9, 9]) },
  });

  test("content and thumbnail are views of the frame's buffer, not copies", () => {
    const bytes = encodeBodyFrame(Op.SEND, message);
    const body = decodeBody(decodeFrame(bytes));
    if (body.opaque || body.op !== Op.SEND) throw new Error("expected SEND");
    const decoded = body.message;
    expect(decoded.content.buffer).toBe(bytes.buffer);
    expect(decoded.media?.thumbnail?.buffer).toBe(bytes.buffer);
    // Overwriting the frame changes the decoded message: the documented hazard of reusing a buffer.
    const at = decoded.content.byteOffset - bytes.byteOffset;
    bytes[at] = 0xaa;
    expect(decoded.content[0]).toBe(0xaa);
  });

  test("protobuf-es's fromBinary aliases the same way (the fast path did not invent it)", () => {
    const bytes = toBinary(MessagePacketSchema, message);
    expect(fromBinary(MessagePacketSchema, bytes).content.buffer).toBe(bytes.buffer);
  });

  test("encoding copies: the frame does not alias the message, and later encodes never touch it", () => {
    const bytes = encodeBodyFrame(Op.SEND, message);
    const snapshot = Uint8Array.from(bytes);
    expect(bytes.buffer).not.toBe(message.content.buffer);
    // Results share a pooled slab; each result's bytes are its own. Fill the rest of the slab and more.
    for (let i = 0; i < 2000; i++) encodeBody(Op.SEND, create(MessagePacketSchema, { clientMsgId: BigInt(i + 1), content: new Uint8Array(100).fill(i) }));
    message.content[0] = 77; // and the message's own bytes are not the frame's
    expect(bytes).toStrictEqual(snapshot);
    message.content[0] = 1;
  });

  test("a message larger than a slab encodes whole", () => {
    const big = create(MessagePacketSchema, { clientMsgId: 1n, content: new Uint8Array(200_000).fill(5), conversationId: "é".repeat(30_000) });
    const reference = toBinary(MessagePacketSchema, big);
    // Buffer.compare, not toStrictEqual: a deep equal over 260 KB is most of this test's time.
    expect(Buffer.compare(encodeBody(Op.SEND, big), reference)).toBe(0);
    expect(Buffer.compare(encodeBodyFrame(Op.SEND, big).subarray(HEADER_SIZE), reference)).toBe(0);
  });
});

describe("encoder misuse", () => {
  test("a message of the wrong type is a TypeError", () => {
    expect(() => encodeBody(Op.SEND, create(AckSchema) as never)).toThrow(TypeError);
    expect(() => encodeBodyFrame(Op.ACK, create(MessagePacketSchema) as never)).toThrow(TypeError);
  });

  test("an op without a typed body is a RangeError", () => {
    expect(() => encodeBody(Op.BATCH as BodyOp, create(AckSchema) as never)).toThrow(RangeError);
    expect(() => encodeBody(1234 as BodyOp, create(AckSchema) as never)).toThrow(RangeError);
  });

  test("an out-of-range value is refused (by protobuf-es, after the fast path declines)", () => {
    const bad = create(AckSchema, { clientMsgId: 1n });
    (bad as { clientMsgId: bigint }).clientMsgId = 1n << 64n;
    expect(() => encodeBody(Op.ACK, bad)).toThrow(TypeError);
    const seqBad = () => encodeBodyFrame(Op.ACK, create(AckSchema), { seq: -1 });
    expect(seqBad).toThrow(RangeError);
  });

  test("a number where a bigint belongs is left to protobuf-es, and the bytes still match", () => {
    const loose = create(AckSchema, { serverMsgId: 5n });
    (loose as unknown as { serverMsgId: number }).serverMsgId = 5;
    expect(encodeBody(Op.ACK, loose)).toStrictEqual(toBinary(AckSchema, loose));
  });
});
