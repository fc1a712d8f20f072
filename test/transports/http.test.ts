// HTTP short links (docs/PROTOCOL.md §11.9) on loopback: the server's checks and status codes, a raw
// POST read frame by frame, and the fetch-based ShortLinkClient syncing and uploading with concurrent
// POSTs beside a long link, and through a graceful server shutdown.
import { create } from "@bufbuild/protobuf";
import { describe, expect, test } from "vitest";
import {
  createMemoryStores,
  decodeFrames,
  decodeMessage,
  DisconnectCode,
  encodeBodyFrame,
  encodeFrame,
  HelloSchema,
  MessageKind,
  MessagePacketSchema,
  Op,
  syncKeyEquals,
  SyncRequestSchema,
  type Frame,
  type UploadStore,
} from "../../src/index.js";
import { ShortLinkClient, type FetchLike } from "../../src/web/index.js";
import type { ServerLogEntry } from "../../src/node/index.js";
import { conversation, FAST_RECONNECT, keyMatchesServer, LOOPBACK, textMessage, textOf, useHarness, waitUntil } from "./support.js";

const harness = useHarness();

const hello = (token: string) => encodeBodyFrame(Op.HELLO, create(HelloSchema, { versions: [1], clientId: "raw", token }), { seq: 1 });
const syncRequest = (seq: number) => encodeBodyFrame(Op.SYNC, create(SyncRequestSchema, {}), { seq });
const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

async function post(url: string, body: Uint8Array, headers: Record<string, string> = { "Content-Type": "application/octet-stream" }, method = "POST") {
  const response = await fetch(url, { method, headers, ...(method === "POST" ? { body: body as Uint8Array<ArrayBuffer> } : {}) });
  return { status: response.status, headers: response.headers, bytes: new Uint8Array(await response.arrayBuffer()) };
}

function frames(bytes: Uint8Array): Frame[] {
  return decodeFrames(bytes).frames;
}

describe("the HTTP listener", () => {
  test("checks method, path, content type and body size, with status codes that say which", async () => {
    const server = await harness.server({ http: { host: LOOPBACK, port: 0, maxBodyBytes: 1000 } });
    const url = server.addresses.http!.url;
    const get = await post(url, new Uint8Array(0), {}, "GET");
    expect([get.status, get.headers.get("allow")]).toEqual([405, "POST"]);
    expect((await post(url.replace(/\/$/, "/elsewhere"), hello("alice"))).status).toBe(404);
    expect((await post(url, hello("alice"), { "Content-Type": "text/plain" })).status).toBe(415);
    expect((await post(url, new Uint8Array(1001))).status).toBe(413);
    // Without a Content-Length (a streamed body) the limit holds as the bytes arrive: here one frame
    // that claims 1,100 bytes, sent in two halves (the decoder waits for the rest, so nothing is answered yet).
    const big = encodeFrame({ op: Op.HELLO, seq: 1, body: new Uint8Array(1100 - 16) });
    const streamed = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: new ReadableStream({ start: (c) => (c.enqueue(big.slice(0, 600)), c.enqueue(big.slice(600)), c.close()) }),
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await post(url, hello("alice"), { "Content-Type": "Application/Octet-Stream; charset=binary" })).status).toBe(200);
  });

  test("answers the CORS preflight only when allowOrigin is set", async () => {
    const open = await harness.server({ http: { host: LOOPBACK, port: 0, allowOrigin: "*" } });
    const preflight = await post(open.addresses.http!.url, new Uint8Array(0), {}, "OPTIONS");
    expect([preflight.status, preflight.headers.get("access-control-allow-origin"), preflight.headers.get("access-control-allow-headers")]).toEqual([204, "*", "Content-Type"]);
    const closed = await harness.server({ http: { host: LOOPBACK, port: 0 } });
    expect((await post(closed.addresses.http!.url, new Uint8Array(0), {}, "OPTIONS")).status).toBe(405);
  });

  test("a POST of HELLO and SYNC is answered WELCOME (no heartbeat) and SYNC_RESULT, in request order, and nothing else", async () => {
    const server = await harness.server({ http: { host: LOOPBACK, port: 0 } });
    const answer = await post(server.addresses.http!.url, concat(hello("alice"), syncRequest(2)));
    expect([answer.status, answer.headers.get("content-type")]).toEqual([200, "application/octet-stream"]);
    const got = frames(answer.bytes);
    expect(got.map((f) => [f.op, f.seq])).toEqual([
      [Op.WELCOME, 1],
      [Op.SYNC_RESULT, 2],
    ]);
    expect(decodeMessage(Op.WELCOME, got[0]!.body).heartbeatIntervalMs).toBe(0);
  });

  test("a body cut inside a frame, or a SEND, ends with DISCONNECT PROTOCOL_ERROR", async () => {
    const server = await harness.server({ http: { host: LOOPBACK, port: 0 } });
    const url = server.addresses.http!.url;
    const cut = frames((await post(url, concat(hello("alice"), syncRequest(2).subarray(0, 10)))).bytes);
    expect(cut.at(-1)!.op).toBe(Op.DISCONNECT);
    expect(decodeMessage(Op.DISCONNECT, cut.at(-1)!.body).code).toBe(DisconnectCode.PROTOCOL_ERROR);
    const send = encodeBodyFrame(Op.SEND, create(MessagePacketSchema, { clientMsgId: 1n, conversationId: "c", recipientId: "bob" }), { seq: 2 });
    // Refused on arrival, before the handshake is even answered.
    const refused = frames((await post(url, concat(hello("alice"), send))).bytes);
    expect(refused.map((f) => [f.op, f.seq])).toEqual([[Op.DISCONNECT, 0]]);
    expect(decodeMessage(Op.DISCONNECT, refused[0]!.body)).toMatchObject({ code: DisconnectCode.PROTOCOL_ERROR, reason: "SEND on a short link" });
  });
});

describe("ShortLinkClient", () => {
  /** A counting fetch: how many POSTs, and the most in flight at once. */
  function countingFetch(fail?: (n: number) => boolean) {
    const stats = { posts: 0, active: 0, maxActive: 0 };
    const wrapped: FetchLike = async (url, init) => {
      const n = ++stats.posts;
      stats.active++;
      stats.maxActive = Math.max(stats.maxActive, stats.active);
      try {
        if (fail?.(n) === true) throw new Error("network down");
        return await fetch(url, init);
      } finally {
        stats.active--;
      }
    };
    return { stats, fetch: wrapped };
  }

  test("syncs what a long link sent, page by page, commits it, and finds nothing new the second time", async () => {
    const server = await harness.server({ tcp: { host: LOOPBACK, port: 0 }, http: { host: LOOPBACK, port: 0 }, syncPageLimit: 2 });
    const alice = harness.client(server.addresses.tcp!.url, "alice");
    for (let i = 0; i < 5; i++) alice.client.send(textMessage("alice", "bob", `m${i}`));
    await waitUntil(() => alice.events.filter((e) => e === "sent").length === 5, "5 acks");

    const { stats, fetch: counting } = countingFetch();
    const bob = new ShortLinkClient({ url: server.addresses.http!.url, engine: { clientId: "bob-phone", token: "bob" }, fetch: counting, reconnect: FAST_RECONNECT });
    try {
      const first = await bob.sync();
      expect(first.messages.map(textOf)).toEqual(["m0", "m1", "m2", "m3", "m4"]);
      expect(await keyMatchesServer(server, "bob", first.syncKey)).toBe(true);
      expect(syncKeyEquals(await server.stores.log.committed("bob", "bob-phone"), first.syncKey)).toBe(true);
      expect(stats.posts).toBeGreaterThanOrEqual(3); // 3 pages of at most 2
      const again = await bob.sync();
      expect(again.messages).toEqual([]);
    } finally {
      bob.close();
    }
  });

  test("uploads in parts over concurrent POSTs, and a long link refers to the object", async () => {
    const log: ServerLogEntry[] = [];
    const server = await harness.server({ tcp: { host: LOOPBACK, port: 0 }, http: { host: LOOPBACK, port: 0 }, onLog: (e) => log.push(e) });
    const { stats, fetch: counting } = countingFetch();
    const uploader = new ShortLinkClient({ url: server.addresses.http!.url, engine: { clientId: "alice-laptop", token: "alice", partSize: 16_384 }, fetch: counting, reconnect: FAST_RECONNECT });
    try {
      const image = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) & 0xff);
      const progress: number[] = [];
      uploader.on("upload-progress", (e) => progress.push(e.acked));
      const { objectId } = await uploader.upload(image, "image/jpeg").done;
      expect(progress.at(-1)).toBe(13);
      expect(stats.posts).toBeGreaterThanOrEqual(13);
      expect(stats.maxActive).toBeGreaterThanOrEqual(2); // parts travel side by side
      expect(Buffer.from((await server.stores.objects.read(objectId))!).equals(image)).toBe(true);
      expect(log.filter((e) => e.transport === "http" && e.event.type === "accepted").length).toBe(stats.posts);

      const alice = harness.client(server.addresses.tcp!.url, "alice");
      const sent = alice.client.once("sent");
      alice.client.send({ conversationId: conversation("alice", "bob"), recipientId: "bob", kind: MessageKind.IMAGE, media: { objectId, contentType: "image/jpeg", size: 200_000n } });
      expect((await sent).serverMsgId).toBeGreaterThan(0n); // not REJECTED: the object is alice's
    } finally {
      uploader.close();
    }
  });

  test("a POST that fails ends the link; the client reconnects and the upload completes", async () => {
    const server = await harness.server({ http: { host: LOOPBACK, port: 0 } });
    const { stats, fetch: flaky } = countingFetch((n) => n === 2 || n === 5);
    const uploader = new ShortLinkClient({ url: server.addresses.http!.url, engine: { clientId: "alice-laptop", token: "alice", partSize: 8192 }, fetch: flaky, reconnect: FAST_RECONNECT });
    const events: string[] = [];
    uploader.on("*", (e) => events.push(e.type === "transport-closed" ? `transport-closed: ${e.reason}` : e.type));
    try {
      const image = new Uint8Array(50_000).fill(9);
      const { objectId } = await uploader.upload(image, "image/png").done;
      expect((await server.stores.objects.stat(objectId))?.size).toBe(50_000);
      expect(events).toContain("transport-closed: POST failed: network down");
      expect(events.filter((e) => e === "reconnecting").length).toBe(2);
      expect(stats.posts).toBeGreaterThan(7);
    } finally {
      uploader.close();
    }
  });

  test("graceful shutdown: POSTs in flight are answered DISCONNECT SERVER_SHUTDOWN with retry_after_ms; the client waits it out and the upload completes on the restarted server", { timeout: 30_000 }, async () => {
    // Parts are stored slowly while `slow`, so POSTs are in flight when the server stops.
    const stores = createMemoryStores();
    const real = stores.uploads;
    let slow = true;
    let partsArriving = 0;
    const uploads: UploadStore = {
      putPart: async (...args) => {
        partsArriving++;
        if (slow) await new Promise((resolve) => setTimeout(resolve, 200));
        return real.putPart(...args);
      },
      state: (...args) => real.state(...args),
      readParts: (...args) => real.readParts(...args),
      complete: (...args) => real.complete(...args),
      expire: (...args) => real.expire(...args),
    };
    const server = await harness.server({ http: { host: LOOPBACK, port: 0 }, stores: { ...stores, uploads } });
    const port = server.addresses.http!.port;
    const uploader = new ShortLinkClient({ url: server.addresses.http!.url, engine: { clientId: "alice-laptop", token: "alice", partSize: 8192 }, reconnect: FAST_RECONNECT });
    try {
      const disconnected = uploader.client.once("disconnected");
      const reconnecting = uploader.client.once("reconnecting");
      const image = Uint8Array.from({ length: 40_000 }, (_, i) => i & 0xff);
      const { done } = uploader.upload(image, "image/png");
      await waitUntil(() => partsArriving > 0, "a part at the store");
      await server.close({ retryAfterMs: 400 });
      const event = await disconnected;
      expect([event.code, event.retryAfterMs, event.reconnect]).toEqual([DisconnectCode.SERVER_SHUTDOWN, 400, true]);
      expect((await reconnecting).delayMs).toBeGreaterThanOrEqual(400);

      slow = false;
      const restarted = await harness.server({ http: { host: LOOPBACK, port }, stores: { ...stores, uploads } });
      const { objectId } = await done;
      expect(Buffer.from((await restarted.stores.objects.read(objectId))!).equals(image)).toBe(true);
    } finally {
      uploader.close();
    }
  });

  test("a refused token stops the client: sync rejects with CLOSED", async () => {
    const server = await harness.server({ http: { host: LOOPBACK, port: 0 } });
    const nobody = new ShortLinkClient({ url: server.addresses.http!.url, engine: { clientId: "x", token: "" }, reconnect: FAST_RECONNECT });
    try {
      await expect(nobody.sync()).rejects.toMatchObject({ code: "CLOSED" });
      expect(nobody.client.state).toBe("stopped");
    } finally {
      nobody.close();
    }
  });
});
