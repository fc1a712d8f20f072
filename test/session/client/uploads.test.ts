// Uploads (§11.6): parts sized to the server's max_frame_size, CRC-32 per part, a window of parts in
// flight, parts resent when a CHUNK_ACK lists them missing or they time out, ACK REJECTED failing the
// upload, progress events, and a byte-identical object at the end.
import { describe, expect, test } from "vitest";
import { AckStatus, Op } from "../../../src/index.js";
import { SessionError } from "../../../src/session/index.js";
import { crc32 } from "../../../src/session/crc32.js";
import { thrownBy } from "../../support/thrown.js";
import { decodeTransmit, exchange, FakeServer, Harness, openQuiet, reply, T0, type Sent } from "./support.js";

function object(size: number, seed = 1): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

const chunks = (frames: Sent[]) => frames.filter((f) => f.op === Op.CHUNK);


describe("uploads", () => {
  test("parts fit the server's max_frame_size, carry the upload's sizes, content type and a CRC-32 of their data", () => {
    const h = openQuiet({}, { limits: { maxFrameSize: 4096 } });
    const bytes = object(20_000);
    const { uploadId } = h.engine.upload(bytes, "image/png", h.now, { uploadId: "up-1" });
    expect(uploadId).toBe("up-1");
    const transmits: Uint8Array[] = [];
    for (let t = h.engine.pollTransmit(h.now); t !== undefined; t = h.engine.pollTransmit(h.now)) transmits.push(t);
    expect(transmits.every((t) => t.byteLength <= 4096)).toBe(true);
    expect(transmits).toHaveLength(4); // the window
    const parts = transmits.flatMap((t, i) => decodeTransmit(t, i));
    const partCount = parts[0]!.message.partCount;
    expect(partCount).toBe(Math.ceil(20_000 / parts[0]!.message.data.byteLength));
    for (const [i, part] of parts.entries()) {
      expect(part.message).toMatchObject({ uploadId: "up-1", partIndex: i, partCount, totalSize: 20_000n, contentType: "image/png" });
      expect(part.message.crc32).toBe(crc32(part.message.data));
      const size = part.message.data.byteLength;
      expect(part.message.data).toEqual(bytes.subarray(i * size, (i + 1) * size));
    }
  });

  test("the window of parts in flight is uploadWindow, and within max_in_flight", () => {
    const h = openQuiet({ uploadWindow: 2, partSize: 100 }, { limits: { maxInFlight: 3 } });
    h.engine.upload(object(1000), "a/b", h.now);
    h.engine.upload(object(1000), "a/b", h.now);
    const sent = chunks(h.flush());
    expect(sent.map((f) => [f.message.uploadId === sent[0]!.message.uploadId, f.message.partIndex])).toEqual([
      [true, 0],
      [true, 1],
      [false, 0],
    ]);
    // Answering one part lets the next one of the same upload go.
    h.deliver(reply.chunkAck(sent[0]!.seq, { uploadId: sent[0]!.message.uploadId, received: [0], missing: [1, 2, 3] }));
    expect(chunks(h.flush()).map((f) => f.message.partIndex)).toEqual([2]);
  });

  test("a whole upload against the fake server: progress per part, upload-complete, done resolves, the object is byte-identical", async () => {
    const h = new Harness({ partSize: 1000 });
    const server = new FakeServer();
    h.engine.connect(h.now);
    exchange(h, server);
    h.events();
    const bytes = object(9_500, 7);
    const { uploadId, done } = h.engine.upload(bytes, "audio/ogg", h.now);
    exchange(h, server);
    const events = h.events().filter((e) => e.type.startsWith("upload"));
    const progress = events.filter((e) => e.type === "upload-progress");
    expect(progress.map((e) => (e as { acked: number }).acked)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(progress.every((e) => (e as { total: number }).total === 10)).toBe(true);
    expect(events.at(-1)).toEqual({ type: "upload-complete", uploadId, objectId: "obj-1" });
    await expect(done).resolves.toEqual({ objectId: "obj-1" });
    expect(server.objects.get("obj-1")).toEqual(bytes);
    expect(chunks(h.log)).toHaveLength(10);
  });

  test("a lost part is resent when a later CHUNK_ACK lists it missing; parts sent after that CHUNK are left alone", () => {
    const h = openQuiet({ partSize: 100 });
    h.engine.upload(object(1000), "x/y", h.now, { uploadId: "u" });
    const [p0, p1, p2, p3] = chunks(h.flush());
    // p1 never arrived; the server answers p2 listing 1 missing (and 3, not processed yet).
    h.deliver(reply.chunkAck(p0!.seq, { uploadId: "u", received: [0], missing: [1, 2, 3] }));
    expect(chunks(h.flush()).map((f) => f.message.partIndex)).toEqual([4]); // p1 and p2 were sent after p0: not lost
    h.deliver(reply.chunkAck(p2!.seq, { uploadId: "u", received: [2], missing: [1, 3, 4] }));
    expect(chunks(h.flush()).map((f) => f.message.partIndex)).toEqual([1, 5]);
    // p1's first transmission and p3 are answered late: nothing breaks, nothing is resent.
    h.deliver(reply.chunkAck(p1!.seq, { uploadId: "u", received: [1], missing: [3, 4, 5] }), reply.chunkAck(p3!.seq, { uploadId: "u", received: [3], missing: [4, 5] }));
    expect(chunks(h.flush()).map((f) => f.message.partIndex)).toEqual([6, 7]);
  });

  test("a part the server did not store (CRC mismatch: absent from received) is sent again", () => {
    const h = openQuiet({ partSize: 100 });
    h.engine.upload(object(1000), "x/y", h.now, { uploadId: "u" });
    const [p0] = chunks(h.flush());
    h.deliver(reply.chunkAck(p0!.seq, { uploadId: "u", received: [], missing: [0, 1, 2, 3] }));
    const again = chunks(h.flush());
    expect(again.map((f) => f.message.partIndex)).toEqual([0]);
    expect(again[0]!.message.crc32).toBe(p0!.message.crc32);
    expect(h.events()).toEqual([]);
  });

  test("a part acked but later listed missing (the server dropped the idle upload) is sent again", () => {
    const h = openQuiet({ partSize: 100, uploadWindow: 1 });
    h.engine.upload(object(300), "x/y", h.now, { uploadId: "u" });
    const [p0] = chunks(h.flush());
    h.deliver(reply.chunkAck(p0!.seq, { uploadId: "u", received: [0], missing: [1, 2] }));
    const [p1] = chunks(h.flush());
    h.deliver(reply.chunkAck(p1!.seq, { uploadId: "u", received: [1], missing: [0, 2] }));
    expect(chunks(h.flush()).map((f) => f.message.partIndex)).toEqual([0]);
    // 0 acked; then 1 acked and 0 lost: the count stays 1, so no second progress event.
    expect(h.eventsOf("upload-progress").map((e) => e.acked)).toEqual([1]);
  });

  test("parts that time out are resent (backoff from partTimeoutMs); after maxPartRetries the upload fails", async () => {
    const h = openQuiet({ partSize: 100, uploadWindow: 1, partTimeoutMs: 1000, maxPartRetries: 2 });
    const { done } = h.engine.upload(object(100), "x/y", h.now, { uploadId: "u" });
    expect(chunks(h.flush())).toHaveLength(1);
    h.advanceTo(T0 + 1000);
    expect(chunks(h.flush())).toHaveLength(1);
    h.advanceTo(T0 + 3000);
    expect(chunks(h.flush())).toHaveLength(1);
    h.advanceTo(T0 + 7000);
    expect(h.flush()).toEqual([]);
    expect(h.eventsOf("upload-failed")).toEqual([{ type: "upload-failed", uploadId: "u", reason: "part 0 was not stored after 3 transmissions" }]);
    const error = await done.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SessionError);
    expect((error as SessionError).code).toBe("UPLOAD_FAILED");
  });

  test("ACK REJECTED answering a CHUNK fails the upload with the server's reason; later answers are ignored", async () => {
    const h = openQuiet({ partSize: 100 });
    const { done } = h.engine.upload(object(1000), "x/y", h.now, { uploadId: "u" });
    const [p0, p1] = chunks(h.flush());
    h.deliver(reply.ack(p0!.seq, { status: AckStatus.REJECTED, error: "object too large" }));
    expect(h.events()).toEqual([{ type: "upload-failed", uploadId: "u", reason: "object too large" }]);
    await expect(done).rejects.toMatchObject({ code: "UPLOAD_FAILED" });
    h.deliver(reply.chunkAck(p1!.seq, { uploadId: "u", received: [1] }));
    expect(h.events()).toEqual([]);
    expect(h.flush()).toEqual([]);
    expect(h.engine.pollTimeout()).toBeUndefined();
  });

  test("all parts acked but no answer said complete: the last part is sent again to ask", () => {
    const h = openQuiet({ partSize: 100, uploadWindow: 2 });
    const { done } = h.engine.upload(object(200), "x/y", h.now, { uploadId: "u" });
    const [p0, p1] = chunks(h.flush());
    h.deliver(reply.chunkAck(p0!.seq, { uploadId: "u", received: [0], missing: [1] }), reply.chunkAck(p1!.seq, { uploadId: "u", received: [1] }));
    const [probe] = chunks(h.flush());
    expect(probe!.message.partIndex).toBe(1);
    h.deliver(reply.chunkAck(probe!.seq, { uploadId: "u", received: [1], complete: true, objectId: "o-9" }));
    return expect(done).resolves.toEqual({ objectId: "o-9" });
  });

  test("uploads wait for WELCOME; an upload split for one server that no longer fits the next one fails", () => {
    const h = new Harness({ partSize: 1000 });
    h.engine.upload(object(3000), "x/y", h.now, { uploadId: "u" });
    expect(h.flush().map((f) => f.op)).toEqual([]);
    const sent = h.open();
    expect(chunks(sent)).toHaveLength(3);
    h.engine.linkClosed(h.now);
    h.engine.reconnected(h.now);
    h.flush();
    h.deliver(reply.welcome(1, { limits: { maxFrameSize: 500 } }));
    expect(h.eventsOf("upload-failed")[0]!.reason).toMatch(/exceed the server's max_frame_size \(500\)/);
  });

  test("bounds and caller errors: UPLOAD_QUEUE_FULL, a duplicate id, empty bytes, close() rejects with CLOSED", async () => {
    const h = new Harness({ maxUploads: 1 });
    const { done } = h.engine.upload(object(10), "x/y", h.now, { uploadId: "u" });
    expect(thrownBy(SessionError, () => h.engine.upload(object(10), "x/y", h.now)).code).toBe("UPLOAD_QUEUE_FULL");
    const two = new Harness({ maxUploads: 2 });
    two.engine.upload(object(10), "x/y", two.now, { uploadId: "u" });
    thrownBy(RangeError, () => two.engine.upload(object(10), "x/y", two.now, { uploadId: "u" }));
    thrownBy(RangeError, () => two.engine.upload(new Uint8Array(0), "x/y", two.now));
    thrownBy(RangeError, () => two.engine.upload(object(1), "x/y", two.now, { uploadId: "" }));
    thrownBy(TypeError, () => two.engine.upload([1] as never, "x/y", two.now));
    thrownBy(TypeError, () => two.engine.upload(object(1), 5 as never, two.now));
    thrownBy(RangeError, () => two.engine.upload(object(1), "x".repeat(1_048_576), two.now));
    h.engine.close();
    await expect(done).rejects.toMatchObject({ code: "CLOSED" });
    expect(h.eventsOf("upload-failed")).toEqual([{ type: "upload-failed", uploadId: "u", reason: "closed" }]);
  });

  test("generated upload ids differ", () => {
    const h = new Harness();
    const a = h.engine.upload(object(10), "x/y", h.now).uploadId;
    const b = h.engine.upload(object(10), "x/y", h.now).uploadId;
    expect(a).not.toBe(b);
    expect(a).toMatch(/^u[0-9a-z]+$/);
  });
});
