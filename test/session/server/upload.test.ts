// §11.6: CHUNK → assembler (any order, duplicates, CRC, limits, expiry), CHUNK_ACK received/missing,
// completion → object id; refusals via ACK REJECTED; only the owner completes and refers to an upload.
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { AckStatus, encodeFrame, MessageKind, Op } from "../../../src/index.js";
import { crc32 } from "../../../src/session/crc32.js";
import { chunksOf } from "../../support/chunks.js";
import { makeEngine, memoryStores, only, RawClient, T0, text } from "./support.js";

type Engine = ReturnType<typeof makeEngine>["engine"];

async function connected(engine: Engine, user = "alice", clientId = "dev1"): Promise<RawClient> {
  const client = new RawClient(engine);
  await client.connect({ token: `tok:${user}`, clientId });
  return client;
}

/** The parts of an object: an empty object is one empty part. */
function split(bytes: Uint8Array, partSize: number): Uint8Array[] {
  return bytes.byteLength === 0 ? [new Uint8Array(0)] : chunksOf(bytes, partSize);
}

describe("uploads", () => {
  test("parts in any order: CHUNK_ACK lists the part received and the lowest missing; the last one completes", async () => {
    const stores = memoryStores();
    const { engine } = makeEngine({}, stores);
    const alice = await connected(engine);
    const object = text("0123456789abcdef");
    const parts = split(object, 6);
    const chunk = (i: number) => alice.chunkFrame({ uploadId: "u1", partIndex: i, partCount: 3, totalSize: 16, data: parts[i]!, contentType: i === 0 ? "text/plain" : "" });
    const a = only(await alice.exchange(chunk(2)), Op.CHUNK_ACK);
    expect(a.seq).toBe(2);
    expect(a.body).toMatchObject({ uploadId: "u1", received: [2], missing: [0, 1], complete: false, objectId: "" });
    const b = only(await alice.exchange(chunk(0)), Op.CHUNK_ACK);
    expect(b.body).toMatchObject({ received: [0], missing: [1], complete: false });
    const c = only(await alice.exchange(chunk(1)), Op.CHUNK_ACK);
    expect(c.body).toMatchObject({ received: [1], missing: [], complete: true });
    expect(c.body.objectId).toMatch(/^[0-9a-f]{32}$/);
    expect(await stores.objects.stat(c.body.objectId)).toEqual({ owner: "alice", contentType: "text/plain", size: 16 });
    expect(await stores.objects.read(c.body.objectId)).toEqual(object);
    // The parts are freed once the object is stored.
    expect(stores.uploads.bytesHeld).toBe(0);
  });

  test("a duplicate part is acknowledged and not stored twice; a part of a completed upload gets the same object id", async () => {
    const { engine } = makeEngine({}, memoryStores());
    const alice = await connected(engine);
    const frame = (i: number) => alice.chunkFrame({ uploadId: "u", partIndex: i, partCount: 2, totalSize: 4, data: text(i === 0 ? "ab" : "cd") });
    await alice.exchange(frame(0));
    expect(only(await alice.exchange(frame(0)), Op.CHUNK_ACK).body).toMatchObject({ received: [0], missing: [1] });
    const done = only(await alice.exchange(frame(1)), Op.CHUNK_ACK).body;
    expect(done.complete).toBe(true);
    for (const i of [0, 1]) {
      const late = only(await alice.exchange(frame(i)), Op.CHUNK_ACK).body;
      expect(late).toMatchObject({ received: [i], missing: [], complete: true, objectId: done.objectId });
    }
  });

  test("a part whose CRC-32 does not match is not stored: absent from received, listed as missing", async () => {
    const { engine } = makeEngine({}, memoryStores());
    const alice = await connected(engine);
    const data = text("payload");
    const bad = only(await alice.exchange(alice.chunkFrame({ uploadId: "u", partIndex: 0, partCount: 1, totalSize: 7, data, crc: crc32(data) ^ 1 })), Op.CHUNK_ACK);
    expect(bad.body).toMatchObject({ received: [], missing: [0], complete: false });
    const good = only(await alice.exchange(alice.chunkFrame({ uploadId: "u", partIndex: 0, partCount: 1, totalSize: 7, data })), Op.CHUNK_ACK);
    expect(good.body.complete).toBe(true);
  });

  test("a corrupted copy of a part already stored does not un-receive it", async () => {
    const { engine } = makeEngine({}, memoryStores());
    const alice = await connected(engine);
    await alice.exchange(alice.chunkFrame({ uploadId: "u", partIndex: 0, partCount: 2, totalSize: 2, data: text("a") }));
    const bad = only(await alice.exchange(alice.chunkFrame({ uploadId: "u", partIndex: 0, partCount: 2, totalSize: 2, data: text("a"), crc: 5 })), Op.CHUNK_ACK);
    expect(bad.body).toMatchObject({ received: [0], missing: [1] });
  });

  test.each([
    ["an object over the size limit", { partCount: 1, totalSize: 1001, data: text("x") }, /TOO_LARGE/],
    ["part_count 0", { partCount: 0, totalSize: 1, data: text("x") }, /META_MISMATCH/],
    ["more parts than bytes", { partCount: 5, totalSize: 2, data: text("x") }, /META_MISMATCH/],
    ["part_index not below part_count", { partIndex: 3, partCount: 3, totalSize: 9, data: text("x") }, /META_MISMATCH/],
    ["more data than total_size", { partCount: 1, totalSize: 1, data: text("xy") }, /META_MISMATCH/],
    ["an empty upload_id", { uploadId: "", partCount: 1, totalSize: 1, data: text("x") }, /upload_id/],
    ["an upload_id of 257 characters", { uploadId: "u".repeat(257), partCount: 1, totalSize: 1, data: text("x") }, /upload_id/],
  ])("%s → ACK REJECTED echoing the CHUNK's seq", async (_name, init, reason) => {
    const { engine } = makeEngine({ uploads: { maxObjectSize: 1000 } }, memoryStores());
    const alice = await connected(engine);
    const ack = only(await alice.exchange(alice.chunkFrame({ uploadId: "u", partIndex: 0, ...init })), Op.ACK);
    expect(ack.seq).toBe(2);
    expect(ack.body.status).toBe(AckStatus.REJECTED);
    expect(ack.body.error).toMatch(reason);
  });

  test("parts that disagree with the upload's first part → REJECTED META_MISMATCH", async () => {
    const { engine } = makeEngine({}, memoryStores());
    const alice = await connected(engine);
    await alice.exchange(alice.chunkFrame({ uploadId: "u", partIndex: 0, partCount: 3, totalSize: 3, data: text("a") }));
    const ack = only(await alice.exchange(alice.chunkFrame({ uploadId: "u", partIndex: 1, partCount: 2, totalSize: 3, data: text("b") })), Op.ACK);
    expect(ack.body).toMatchObject({ status: AckStatus.REJECTED, error: "META_MISMATCH" });
  });

  test("parts whose sizes do not add up to total_size are refused at completion", async () => {
    const { engine } = makeEngine({}, memoryStores());
    const alice = await connected(engine);
    await alice.exchange(alice.chunkFrame({ uploadId: "u", partIndex: 0, partCount: 2, totalSize: 10, data: text("ab") }));
    const ack = only(await alice.exchange(alice.chunkFrame({ uploadId: "u", partIndex: 1, partCount: 2, totalSize: 10, data: text("cd") })), Op.ACK);
    expect(ack.body.status).toBe(AckStatus.REJECTED);
    expect(ack.body.error).toMatch(/hold 4 bytes, total_size is 10/);
  });

  test("too many open uploads → REJECTED TOO_MANY_UPLOADS; a completed one frees its slot", async () => {
    const { engine } = makeEngine({ uploads: { maxOpenUploads: 2 } }, memoryStores());
    const alice = await connected(engine);
    const open = (id: string, i = 0) => alice.chunkFrame({ uploadId: id, partIndex: i, partCount: 2, totalSize: 2, data: text("x") });
    await alice.exchange(open("a"), open("b"));
    expect(only(await alice.exchange(open("c")), Op.ACK).body).toMatchObject({ status: AckStatus.REJECTED, error: "TOO_MANY_UPLOADS" });
    expect(only(await alice.exchange(open("a", 1)), Op.CHUNK_ACK).body.complete).toBe(true);
    expect(only(await alice.exchange(open("c")), Op.CHUNK_ACK).body.received).toEqual([0]);
  });

  test("an idle upload expires and frees its memory; later parts start it anew", async () => {
    const stores = memoryStores();
    const { engine } = makeEngine({ uploads: { idleMs: 60_000 }, heartbeatIntervalMs: 0 }, stores);
    const alice = await connected(engine);
    await alice.exchange(alice.chunkFrame({ uploadId: "u", partIndex: 0, partCount: 2, totalSize: 2000, data: new Uint8Array(1000) }));
    expect(stores.uploads.bytesHeld).toBe(1000);
    // Housekeeping runs from the links' calls; any call after the idle time drops the upload.
    alice.now = T0 + 60_001;
    alice.link.handleTimeout(alice.now);
    await engine.idle();
    expect(stores.uploads.bytesHeld).toBe(0);
    const again = only(await alice.exchange(alice.chunkFrame({ uploadId: "u", partIndex: 1, partCount: 2, totalSize: 2000, data: new Uint8Array(1000) })), Op.CHUNK_ACK);
    expect(again.body).toMatchObject({ received: [1], missing: [0] });
  });

  test("the missing list holds at most the 1,024 lowest indexes", async () => {
    const { engine } = makeEngine({ limits: { maxFrameSize: 1 << 20 } }, memoryStores());
    const alice = await connected(engine);
    const ack = only(await alice.exchange(alice.chunkFrame({ uploadId: "u", partIndex: 0, partCount: 3000, totalSize: 3000, data: text("x") })), Op.CHUNK_ACK);
    expect(ack.body.missing).toHaveLength(1024);
    expect(ack.body.missing[0]).toBe(1);
    expect(ack.body.missing.at(-1)).toBe(1024);
  });

  test("uploads are per user: another user's parts under the same id are another upload", async () => {
    const { engine } = makeEngine({}, memoryStores());
    const alice = await connected(engine, "alice");
    const bob = await connected(engine, "bob");
    await alice.exchange(alice.chunkFrame({ uploadId: "same", partIndex: 0, partCount: 2, totalSize: 2, data: text("a") }));
    const bobs = only(await bob.exchange(bob.chunkFrame({ uploadId: "same", partIndex: 1, partCount: 2, totalSize: 2, data: text("b") })), Op.CHUNK_ACK);
    expect(bobs.body).toMatchObject({ received: [1], missing: [0], complete: false });
  });

  test("only the uploader may refer to the object in a message", async () => {
    const { engine } = makeEngine({}, memoryStores());
    const alice = await connected(engine, "alice");
    const done = only(await alice.exchange(alice.chunkFrame({ uploadId: "u", partIndex: 0, partCount: 1, totalSize: 1, data: text("a"), contentType: "image/png" })), Op.CHUNK_ACK).body;
    const media = { objectId: done.objectId, contentType: "image/png", size: 1n };
    expect(only(await alice.exchange(alice.sendFrame({ clientMsgId: 1n, kind: MessageKind.IMAGE, media })), Op.ACK).body.status).toBe(AckStatus.OK);
    const mallory = await connected(engine, "mallory");
    expect(only(await mallory.exchange(mallory.sendFrame({ clientMsgId: 1n, kind: MessageKind.IMAGE, media })), Op.ACK).body.status).toBe(AckStatus.REJECTED);
  });

  test("a CHUNK with an empty body is a protocol error", async () => {
    const { engine } = makeEngine({}, memoryStores());
    const alice = await connected(engine);
    const replies = await alice.exchange(encodeFrame({ op: Op.CHUNK, seq: 2 }));
    expect(replies.map((r) => r.op)).toEqual([Op.DISCONNECT]);
  });

  test("CHUNKs of different uploads are pipelined; parts of one upload run one after another", async () => {
    const { engine } = makeEngine({}, memoryStores());
    const alice = await connected(engine);
    const frames = [0, 1, 2, 3].map((i) => alice.chunkFrame({ uploadId: `u${i % 2}`, partIndex: i >> 1, partCount: 2, totalSize: 2, data: text("z") }));
    const replies = await alice.exchange(...frames);
    const acks = replies.filter((r) => r.op === Op.CHUNK_ACK);
    expect(acks).toHaveLength(4);
    expect(acks.filter((r) => r.body.complete)).toHaveLength(2);
  });

  test("property: any part order, with duplicates and corrupt copies, across two links, assembles byte-identical objects", async () => {
    const arb = fc
      .record({ object: fc.uint8Array({ minLength: 0, maxLength: 200 }), partSize: fc.integer({ min: 1, max: 40 }) })
      .chain(({ object, partSize }) => {
        const count = Math.max(1, Math.ceil(object.byteLength / partSize));
        return fc.record({
          object: fc.constant(object),
          partSize: fc.constant(partSize),
          deliveries: fc.array(fc.record({ index: fc.integer({ min: 0, max: count - 1 }), corrupt: fc.boolean(), link: fc.integer({ min: 0, max: 1 }) }), { maxLength: 20 }),
          order: fc.shuffledSubarray([...Array(count).keys()], { minLength: count }),
        });
      });
    await fc.assert(
      fc.asyncProperty(arb, async ({ object, partSize, deliveries, order }) => {
        const stores = memoryStores();
        const { engine } = makeEngine({}, stores);
        const links = [await connected(engine, "alice", "a"), await connected(engine, "alice", "b")];
        const parts = split(object, partSize);
        const all = [...deliveries, ...order.map((index) => ({ index, corrupt: false, link: index % 2 }))];
        let objectId = "";
        for (const { index, corrupt, link } of all) {
          const client = links[link]!;
          const data = parts[index]!;
          const frame = client.chunkFrame({ uploadId: "obj", partIndex: index, partCount: parts.length, totalSize: object.byteLength, data, crc: corrupt ? (crc32(data) + 1) >>> 0 : undefined });
          const ack = only(await client.exchange(frame), Op.CHUNK_ACK).body;
          if (ack.complete) {
            if (objectId !== "") expect(ack.objectId).toBe(objectId);
            objectId = ack.objectId;
          }
        }
        expect(objectId).not.toBe("");
        expect(await stores.objects.read(objectId)).toEqual(object);
        expect(stores.objects.size).toBe(1);
      }),
      { numRuns: 40 },
    );
  });
});
