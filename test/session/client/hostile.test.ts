// Hostile server bytes: whatever arrives, in whatever chunks, the engine never throws; a FrameError,
// BodyError or broken rule ends the link with DISCONNECT (the last frame it sends) and state "closed",
// after which input is ignored. Run against an engine with sends, a sync and an upload in flight.
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { AckStatus, DisconnectCode, encodeBatch, FrameDecoder, FrameError, Op, type FrameInit } from "../../../src/index.js";
import { concat } from "../../support/hex.js";
import { decodeTransmit, Harness, key1, reply, stored, T0, text, type Sent } from "./support.js";

/** An engine mid-session: open (or handshaking), with three sends, a SYNC and an upload's parts in flight. */
function busy(handshaking: boolean): Harness {
  const h = new Harness({ partSize: 50, userId: "alice" });
  for (const c of ["a", "b", "a"]) h.engine.send({ conversationId: c, content: text(`to ${c}`) }, h.now);
  h.engine.upload(new Uint8Array(300).fill(7), "x/y", h.now, { uploadId: "u" });
  if (handshaking) {
    h.engine.connect(h.now);
    h.flush();
  } else {
    h.open({ heartbeatIntervalMs: 1000, limits: { maxBatchFrames: 4 } });
  }
  h.events();
  return h;
}

const seqArb = fc.integer({ min: 0, max: 14 });
const smallBytes = fc.uint8Array({ maxLength: 24 });

/** Frames a server could send (or almost: ops and seqs are drawn freely). */
const serverFrameArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc
    .record({ seq: seqArb, status: fc.constantFrom(AckStatus.OK, AckStatus.DUPLICATE, AckStatus.REJECTED, 7), id: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) })
    .map(({ seq, status, id }) => reply.ack(seq, { status: status as AckStatus, clientMsgId: id, serverMsgId: 5n, error: "no" })),
  fc.option(fc.integer({ min: 0, max: 9 })).map((v) => reply.notify(v === null ? {} : { syncKey: key1(v) })),
  fc
    .record({ seq: seqArb, n: fc.integer({ min: 0, max: 3 }), v: fc.integer({ min: 0, max: 9 }), more: fc.boolean() })
    .map(({ seq, n, v, more }) => reply.syncResult(seq, { messages: Array.from({ length: n }, (_, i) => stored("c", v + i, "m")), syncKey: key1(v + n), hasMore: more })),
  fc
    .record({ seq: seqArb, received: fc.array(fc.nat(8), { maxLength: 3 }), missing: fc.array(fc.nat(8), { maxLength: 4 }), complete: fc.boolean() })
    .map(({ seq, received, missing, complete }) => reply.chunkAck(seq, { uploadId: "u", received, missing, complete, objectId: complete ? "o" : "" })),
  seqArb.map((seq) => reply.heartbeatAck(seq, { clientTimeMs: BigInt(T0) })),
  fc.record({ seq: seqArb, code: fc.integer({ min: 0, max: 9 }) }).map(({ seq, code }) => reply.disconnect(seq, { code, reason: "r" })),
  fc.record({ seq: seqArb, v: fc.constantFrom(1, 2) }).map(({ seq, v }) => reply.welcome(seq, { version: v, limits: { maxBatchFrames: 3 } }, 1)),
  fc.record({ op: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1000, max: 1010 })), seq: seqArb, body: smallBytes }).map(({ op, seq, body }) => reply.raw(op, seq, body)),
);

/** A server frame, sometimes several wrapped in a BATCH. */
const unitArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: serverFrameArb },
  {
    weight: 1,
    arbitrary: fc.array(serverFrameArb, { minLength: 0, maxLength: 4 }).map((frames) => reply.raw(Op.BATCH, 0, concat(frames))),
  },
);

interface Mutation {
  flips: { at: number; xor: number }[];
  cut: number | null;
  insert: { at: number; bytes: Uint8Array } | null;
}

/** Damage: byte flips, a cut, inserted garbage. */
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  flips: fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { maxLength: 4 }),
  cut: fc.option(fc.nat()),
  insert: fc.option(fc.record({ at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 20 }) })),
});

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  let out: Uint8Array = bytes.slice();
  if (out.length > 0) for (const { at, xor } of m.flips) out[at % out.length]! ^= xor;
  if (m.insert !== null) {
    const at = out.length === 0 ? 0 : m.insert.at % out.length;
    out = concat([out.subarray(0, at), m.insert.bytes, out.subarray(at)]);
  }
  if (m.cut !== null && out.length > 0) out = out.subarray(0, m.cut % out.length);
  return out;
}

/** Splits into chunks of the given sizes (cycled), down to 1 byte. */
function chunked(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes.length === 0 ? bytes.length : sizes[i % sizes.length]!;
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

/** Feeds the chunks, interleaved with polling and time passing; returns every frame sent after the start. */
function feed(h: Harness, chunks: readonly Uint8Array[], viaMessages: boolean): Sent[] {
  const sent: Sent[] = [];
  for (const chunk of chunks) {
    if (viaMessages) h.engine.receiveMessage(chunk, h.now);
    else h.engine.receiveBytes(chunk, h.now);
    sent.push(...h.flush());
    h.advance(700);
    sent.push(...h.flush());
  }
  return sent;
}

/** The ending rule: after an `error` event, state closed, DISCONNECT was the last frame, and input is ignored. */
function checkEnding(h: Harness, sent: Sent[]): void {
  const events = h.events();
  const error = events.findIndex((e) => e.type === "error");
  const ended = events.some((e) => e.type === "error" || e.type === "disconnected" || e.type === "link-dead");
  if (error >= 0) {
    expect(h.engine.state).toBe("closed");
    const last = sent.at(-1)!;
    expect(last.op).toBe(Op.DISCONNECT);
    expect([DisconnectCode.PROTOCOL_ERROR, DisconnectCode.UNSUPPORTED_VERSION]).toContain(last.message.code);
    expect(sent.filter((f) => f.op === Op.DISCONNECT)).toHaveLength(1);
  }
  if (ended) {
    // Sticky: nothing more in, nothing more out.
    h.engine.receiveBytes(reply.notify(), h.now);
    h.engine.handleTimeout(h.now + 60_000);
    expect(h.flush()).toEqual([]);
    expect(h.events()).toEqual([]);
  } else {
    expect(["handshaking", "open"]).toContain(h.engine.state);
  }
  expect(h.engine.pendingSends).toBeLessThanOrEqual(3);
}

describe("hostile server input", () => {
  test.prop([fc.boolean(), fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 6 })], { numRuns: 300 })(
    "random bytes never throw; bytes the frame decoder refuses end in DISCONNECT PROTOCOL_ERROR and state closed",
    (handshaking, viaMessages, garbage, sizes) => {
      const h = busy(handshaking);
      const sent = feed(h, viaMessages ? [garbage] : chunked(garbage, sizes), viaMessages);
      let refused = false;
      try {
        const decoder = new FrameDecoder();
        decoder.push(garbage);
        if (viaMessages) decoder.end();
      } catch (error) {
        expect(error).toBeInstanceOf(FrameError);
        refused = true;
      }
      if (refused) {
        expect(h.engine.state).toBe("closed");
        expect(sent.at(-1)!.op).toBe(Op.DISCONNECT);
        expect(sent.at(-1)!.message.code).toBe(DisconnectCode.PROTOCOL_ERROR);
      }
      checkEnding(h, sent);
    },
  );

  test.prop([fc.boolean(), fc.boolean(), fc.array(unitArb, { minLength: 1, maxLength: 8 }), mutationArb, fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 6 })], {
    numRuns: 400,
  })("mutated server frames in any chunks never throw, and every error ends the link the same way", (handshaking, viaMessages, units, mutation, sizes) => {
    const h = busy(handshaking);
    const bytes = mutate(concat(units), mutation);
    const sent = feed(h, viaMessages ? [bytes] : chunked(bytes, sizes), viaMessages);
    checkEnding(h, sent);
  });

  test.prop([fc.array(unitArb, { minLength: 1, maxLength: 12 })], { numRuns: 200 })("well-formed but arbitrary server frames never throw", (units) => {
    const h = busy(false);
    const sent = feed(h, units, false);
    checkEnding(h, sent);
  });

  test.prop([fc.constantFrom(Op.ACK, Op.NOTIFY, Op.SYNC_RESULT, Op.CHUNK_ACK, Op.HEARTBEAT_ACK, Op.DISCONNECT, Op.WELCOME), fc.uint8Array({ minLength: 1, maxLength: 40 })], {
    numRuns: 300,
  })("garbage bodies of typed ops: a BodyError ends the link, never an exception", (op, body) => {
    const h = busy(op === Op.WELCOME);
    const seq = op === Op.WELCOME ? 1 : 3;
    const sent = feed(h, [reply.raw(op, seq, body)], false);
    checkEnding(h, sent);
  });

  test("a nested BATCH is a FrameError (NESTED_BATCH): DISCONNECT with its code and offset", () => {
    const h = busy(false);
    const inner = encodeBatch([{ op: Op.NOTIFY, body: new Uint8Array(0) } as FrameInit]);
    h.deliver(reply.raw(Op.BATCH, 0, inner));
    const [event] = h.eventsOf("error");
    expect(event).toMatchObject({ code: "NESTED_BATCH" });
    const [bye] = h.flush();
    expect(bye!.op).toBe(Op.DISCONNECT);
    expect(bye!.message.reason).toMatch(/NESTED_BATCH at byte 24/);
  });

  test("a frame over the client's maxFrameSize is refused as soon as its length is read", () => {
    const h = new Harness({ maxFrameSize: 1024 });
    h.open();
    h.events();
    h.engine.receiveBytes(new Uint8Array([0, 0, 0x04, 0x01]), h.now); // 1025, nothing else yet
    expect(h.eventsOf("error")[0]).toMatchObject({ code: "FRAME_TOO_LARGE" });
    expect(decodeTransmit(h.engine.pollTransmit(h.now)!, 0)[0]!.op).toBe(Op.DISCONNECT);
  });
});
