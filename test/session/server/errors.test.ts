// §11.8: peer garbage → DISCONNECT PROTOCOL_ERROR with the code, never a throw, never another link's harm.
import { test as propTest } from "@fast-check/vitest";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { AckStatus, BodyError, DisconnectCode, encodeFrame, FrameError, Op } from "../../../src/index.js";
import { chunksAt } from "../../support/chunks.js";
import { decodeTransmitted, makeEngine, only, RawClient, text } from "./support.js";

type Engine = ReturnType<typeof makeEngine>["engine"];

async function connected(engine: Engine, user = "alice", clientId = "dev1"): Promise<RawClient> {
  const client = new RawClient(engine);
  await client.connect({ token: `tok:${user}`, clientId });
  return client;
}

async function expectProtocolError(client: RawClient, frames: Uint8Array[], reason: RegExp): Promise<void> {
  const replies = await client.exchange(...frames);
  expect(replies.map((r) => [r.op, r.seq, r.body.code])).toEqual([[Op.DISCONNECT, 0, DisconnectCode.PROTOCOL_ERROR]]);
  expect(replies[0]!.body.reason).toMatch(reason);
  expect(client.link.state).toBe("closed");
  const events = client.events();
  expect(events.at(-2)).toMatchObject({ type: "protocol-error" });
  expect(events.at(-1)).toMatchObject({ type: "closed", code: DisconnectCode.PROTOCOL_ERROR, initiator: "server" });
}

describe("protocol errors", () => {
  test.each([0, 1, 16, 500, 999])("reserved op %i → PROTOCOL_ERROR", async (op) => {
    const { engine } = makeEngine();
    const client = await connected(engine);
    await expectProtocolError(client, [encodeFrame({ op, seq: 2 })], new RegExp(`reserved op ${op}`));
  });

  test.each([Op.HEARTBEAT_ACK, Op.ACK, Op.WELCOME, Op.NOTIFY, Op.SYNC_RESULT, Op.CHUNK_ACK])("op %i is server-to-client → PROTOCOL_ERROR", async (op) => {
    const { engine } = makeEngine();
    const client = await connected(engine);
    await expectProtocolError(client, [encodeFrame({ op, seq: 2 })], /server-to-client/);
  });

  test("a malformed SEND body → PROTOCOL_ERROR (not ACK REJECTED), the BodyError in the event", async () => {
    const { engine } = makeEngine();
    const client = await connected(engine);
    await expectProtocolError(client, [encodeFrame({ op: Op.SEND, seq: 2, body: new Uint8Array([0x1a, 0x09, 0x61]) })], /bad SEND body: BAD_BODY at byte \d+/);
    const event = client.events().find((e) => e.type === "protocol-error");
    expect(event).toMatchObject({ error: expect.any(BodyError) });
  });

  test.each([
    ["packetLength 0", new Uint8Array(16), /BAD_PACKET_LENGTH at byte 0/],
    ["packetLength over the limit", encodeFrame({ op: Op.SEND, seq: 2, body: new Uint8Array(2000) }), /FRAME_TOO_LARGE at byte 0/],
    ["headerLength 3", Uint8Array.of(0, 0, 0, 16, 0, 3, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2), /BAD_HEADER_LENGTH at byte 4/],
  ])("a frame error on the stream (%s) → PROTOCOL_ERROR with the code and offset", async (_name, bytes, reason) => {
    const { engine } = makeEngine({ limits: { maxFrameSize: 1024 } });
    const client = await connected(engine);
    // Offsets count from the start of the stream: the HELLO connect() sent is part of it.
    const helloLength = client.helloFrame({}, 1).byteLength;
    client.link.receiveBytes(bytes, client.now);
    await client.settle();
    const replies = client.drain();
    expect(replies.map((r) => [r.op, r.body.code])).toEqual([[Op.DISCONNECT, DisconnectCode.PROTOCOL_ERROR]]);
    const offset = Number(/at byte (\d+)/.exec(replies[0]!.body.reason)![1]);
    expect(replies[0]!.body.reason.replace(/at byte \d+/, `at byte ${offset - helloLength}`)).toMatch(reason);
    expect(client.events().find((e) => e.type === "protocol-error")).toMatchObject({ error: expect.any(FrameError) });
  });

  test("frames completed before a stream error are still handled, in order", async () => {
    const { engine } = makeEngine();
    const client = await connected(engine);
    const replies = await client.exchange(client.heartbeatFrame(), new Uint8Array(16));
    expect(replies.map((r) => r.op)).toEqual([Op.HEARTBEAT_ACK, Op.DISCONNECT]);
  });

  test("message mode: a cut-off frame in a message → PROTOCOL_ERROR TRUNCATED", async () => {
    const { engine } = makeEngine();
    const client = new RawClient(engine, { mode: "message" });
    await client.connect();
    await expectProtocolError(client, [client.heartbeatFrame(5n).subarray(0, 17)], /TRUNCATED/);
  });

  test("BATCH rules: a nested BATCH, too many inner frames, or any BATCH when max_batch_frames is 0", async () => {
    const nested = new Uint8Array([...encodeFrame({ op: Op.BATCH, seq: 0, body: encodeFrame({ op: Op.BATCH }) })]);
    const { engine } = makeEngine({ limits: { maxBatchFrames: 2 } });
    await expectProtocolError(await connected(engine, "a"), [nested], /NESTED_BATCH/);
    const client = await connected(engine, "b");
    await expectProtocolError(client, [client.batchFrame([{ op: Op.HEARTBEAT, seq: 2 }, { op: Op.HEARTBEAT, seq: 3 }, { op: Op.HEARTBEAT, seq: 4 }])], /exceeds max_batch_frames 2/);
    const { engine: noBatches } = makeEngine({ limits: { maxBatchFrames: 0 } });
    const strict = await connected(noBatches);
    await expectProtocolError(strict, [strict.batchFrame([{ op: Op.HEARTBEAT, seq: 2 }])], /BATCH is not accepted/);
  });

  test("an empty BATCH means nothing; a BATCH's own seq is ignored", async () => {
    const { engine } = makeEngine();
    const client = await connected(engine);
    const replies = await client.exchange(encodeFrame({ op: Op.BATCH, seq: 99 }), client.batchFrame([{ op: Op.HEARTBEAT, seq: 2 }]));
    expect(replies.map((r) => [r.op, r.seq])).toEqual([[Op.HEARTBEAT_ACK, 2]]);
    expect(client.link.state).toBe("open");
  });

  test("a valid session fed one byte at a time works", async () => {
    const { engine } = makeEngine();
    const client = new RawClient(engine);
    const bytes = [client.helloFrame(), client.sendFrame({ clientMsgId: 1n }), client.syncFrame()].flatMap((f) => [...f]);
    for (const byte of bytes) client.link.receiveBytes(Uint8Array.of(byte), client.now);
    await client.settle();
    expect(client.drain().map((r) => r.op)).toEqual([Op.WELCOME, Op.ACK, Op.NOTIFY, Op.SYNC_RESULT]);
  });
});

// ---------------------------------------------------------------------------------------- hostile

/** A valid session's frames, to mutate. */
function validSession(client: RawClient): Uint8Array[] {
  return [
    client.helloFrame(),
    client.heartbeatFrame(5n),
    client.sendFrame({ clientMsgId: 11n, content: text("hello") }),
    client.syncFrame(),
    client.chunkFrame({ uploadId: "u", partIndex: 0, partCount: 1, totalSize: 3, data: text("abc") }),
    client.batchFrame([{ op: Op.HEARTBEAT, seq: 9 }]),
    encodeFrame({ op: 1234, seq: 0, body: text("app") }),
  ];
}

/** `bytes` cut at arbitrary positions (each taken modulo the length + 1). */
function cutAnywhere(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  return chunksAt(bytes, cuts.map((c) => c % (bytes.byteLength + 1)));
}

/**
 * Runs hostile input on one link beside a well-behaved link of the same engine, and checks: no throw;
 * the link ends "closed"; everything it transmitted decodes; a non-NORMAL end the server chose was
 * announced by a DISCONNECT as the last frame, and one the input asked for (a DISCONNECT in it) got no
 * DISCONNECT back; the other link still sends and gets acked.
 */
async function survive(feed: (client: RawClient) => void, mode: "bytes" | "message"): Promise<void> {
  const { engine } = makeEngine({ limits: { maxFrameSize: 4096, maxInFlight: 8 } });
  const bystander = await connected(engine, "carol", "bystander");
  const hostile = new RawClient(engine, { mode });
  expect(() => feed(hostile)).not.toThrow();
  await hostile.settle();
  hostile.link.endOfInput(hostile.now);
  await hostile.settle();
  expect(hostile.link.state).toBe("closed");
  const transmitted = hostile.drain();
  for (const bytes of hostile.transmissions) expect(() => decodeTransmitted(bytes)).not.toThrow();
  const closed = hostile.events().at(-1);
  expect(closed?.type).toBe("closed");
  if (closed?.type === "closed" && closed.initiator === "client") {
    // The input held a DISCONNECT (a mutated op can make one, with any body): the server answers nothing
    // and closes, whatever the code (§11.7).
    expect(transmitted.map((r) => r.op)).not.toContain(Op.DISCONNECT);
  } else if (closed?.type === "closed" && closed.code !== DisconnectCode.NORMAL) {
    expect(transmitted.at(-1)?.op).toBe(Op.DISCONNECT);
    expect(transmitted.at(-1)?.body.code).toBe(closed.code);
  }
  const ack = only(await bystander.exchange(bystander.sendFrame({ clientMsgId: 77n, recipientId: "dave" })), Op.ACK);
  expect(ack.body.status).toBe(AckStatus.OK);
  expect(bystander.link.state).toBe("open");
}

describe("hostile input", () => {
  propTest.prop([fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean()], { numRuns: 150 })(
    "random bytes, cut anywhere, after a valid HELLO or not: never a throw, always closed",
    async (garbage, cuts, helloFirst) => {
      await survive((client) => {
        if (helloFirst) client.link.receiveBytes(client.helloFrame(), client.now);
        for (const chunk of cutAnywhere(garbage, cuts)) client.link.receiveBytes(chunk, client.now);
      }, "bytes");
    },
  );

  propTest.prop([fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 4 })], { numRuns: 100 })("random messages: never a throw, always closed", async (messages) => {
    await survive((client) => {
      for (const m of messages) client.link.receiveMessage(m, client.now);
    }, "message");
  });

  propTest.prop(
    [fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), fc.constantFrom("bytes" as const, "message" as const)],
    { numRuns: 200 },
  )("a valid session with mutated bytes, cut anywhere: never a throw, always closed, DISCONNECT last", async (mutations, cuts, mode) => {
    await survive((client) => {
      const frames = validSession(client);
      const session = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0));
      let at = 0;
      for (const f of frames) {
        session.set(f, at);
        at += f.byteLength;
      }
      for (const { at: where, value } of mutations) session[where % session.byteLength] = value;
      if (mode === "message") client.link.receiveMessage(session, client.now);
      else for (const chunk of cutAnywhere(session, cuts)) client.link.receiveBytes(chunk, client.now);
    }, mode);
  });
});
