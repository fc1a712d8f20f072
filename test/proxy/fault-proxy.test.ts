// createFaultProxy over real loopback sockets: forwarding, each fault, kills, backpressure, half-close,
// framing errors, and the events it reports.
import { createServer } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { encodeFrame, FrameDecoder, type Frame } from "../../src/index.js";
import { createFaultProxy, type FaultProxy, type FaultProxyEvent, type FaultProxyOptions, type FaultSettings } from "../../src/node/index.js";
import { closeAll, concat, connect, echo, sleep, someFrames, startUpstream, track, until, type Peer } from "./support.js";

afterEach(closeAll);

type Event = FaultProxyEvent<Frame>;
type FrameEvent = Extract<Event, { type: "frame" }>;

/** A proxy to `port` that records its events; closed by closeAll. */
async function proxyTo(port: number, options: Partial<FaultProxyOptions> = {}): Promise<{ proxy: FaultProxy; events: Event[] }> {
  const events: Event[] = [];
  const proxy = await createFaultProxy({ upstream: { port }, onEvent: (e) => void events.push(e), ...options });
  track(proxy, (p) => (p.killAll(), p.close()));
  return { proxy, events };
}

const framesOf = (events: Event[], direction: "up" | "down"): FrameEvent[] => events.filter((e): e is FrameEvent => e.type === "frame" && e.direction === direction);
const ofType = <T extends Event["type"]>(events: Event[], type: T) => events.filter((e): e is Extract<Event, { type: T }> => e.type === type);

/** Writes `bytes` to `peer` in pieces cut at pseudo-random places (1…`max` bytes). */
function writeInPieces(peer: Peer, bytes: Uint8Array, max = 500): void {
  let seed = 7;
  for (let at = 0; at < bytes.byteLength; ) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const n = 1 + (seed % max);
    peer.socket.write(bytes.subarray(at, at + n));
    at += n;
  }
}

/** A plain Uint8Array view of `bytes` (a Buffer from a socket compares unequal to a Uint8Array). */
const plain = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Seqs of the whole frames in `bytes`. */
const seqsIn = (bytes: Uint8Array): number[] => new FrameDecoder({ versions: "any" }).push(bytes).map((f) => f.seq);

describe("forwarding", () => {
  const cases: [string, FaultSettings][] = [
    ["no faults", {}],
    ["split 7 and a 5 ms delay", { split: 7, delayMs: 5 }],
    ["merged writes (10 ms)", { mergeMs: 10 }],
    ["1-byte writes client → server only", { up: { split: 1 } }],
  ];
  test.each(cases)("%s: every byte arrives, in order, both ways; every frame is reported once", async (_, faults) => {
    const upFrames = someFrames(40, 1);
    const downFrames = someFrames(40, 2);
    const up = concat(upFrames);
    const down = concat(downFrames);
    const upstream = await startUpstream((peer) => writeInPieces(peer, down));
    const { proxy, events } = await proxyTo(upstream.port, { faults });
    const client = await connect(proxy.address.port);
    writeInPieces(client, up);
    const server = await upstream.peer();
    await server.received(up.byteLength);
    await client.received(down.byteLength);
    expect(server.bytes).toStrictEqual(up);
    expect(client.bytes).toStrictEqual(down);
    for (const [direction, sent] of [
      ["up", upFrames],
      ["down", downFrames],
    ] as const) {
      const seen = framesOf(events, direction);
      expect(seen.map((e) => e.index)).toStrictEqual(sent.map((_, i) => i));
      expect(seen.map((e) => plain(e.bytes))).toStrictEqual(sent);
      expect(seen.map((e) => e.frame.seq)).toStrictEqual(sent.map((_, i) => i + 1));
      expect(seen.map((e) => e.offset)).toStrictEqual(sent.map((_, i) => concat(sent.slice(0, i)).byteLength));
    }
    expect(proxy.stats.up).toMatchObject({ bytesIn: up.byteLength, bytesOut: up.byteLength, frames: 40, framesDropped: 0 });
    expect(proxy.stats.down).toMatchObject({ bytesIn: down.byteLength, bytesOut: down.byteLength, frames: 40, framesDropped: 0 });
  });

  test("a frame inside one read is reported as a view of that read; one that straddles reads is joined once", async () => {
    const upstream = await startUpstream();
    const { proxy, events } = await proxyTo(upstream.port);
    const client = await connect(proxy.address.port);
    const [a, b] = someFrames(2, 3);
    client.socket.write(concat([a!, b!.subarray(0, 5)]));
    await until("the first frame", () => framesOf(events, "up").length === 1);
    client.socket.write(b!.subarray(5));
    await until("the second frame", () => framesOf(events, "up").length === 2);
    const [first, second] = framesOf(events, "up");
    // The first is a view of the read that held both it and the start of the second.
    expect(first!.bytes.buffer.byteLength).toBeGreaterThanOrEqual(a!.byteLength + 5);
    expect(first!.frame.body.buffer).toBe(first!.bytes.buffer);
    expect(plain(second!.bytes)).toStrictEqual(b);
    expect(second!.bytes.byteOffset).toBe(0);
    expect(second!.bytes.buffer.byteLength).toBe(b!.byteLength);
  });

  test("a frame larger than the high-water mark still passes (the part being gathered does not stop reading)", async () => {
    const big = encodeFrame({ op: 1000, seq: 1, body: new Uint8Array(300_000).fill(7) });
    const upstream = await startUpstream();
    const { proxy } = await proxyTo(upstream.port, { highWaterMark: 16 * 1024 });
    const client = await connect(proxy.address.port);
    client.socket.write(big);
    const server = await upstream.peer();
    await server.received(big.byteLength, 10_000);
    expect(server.bytes).toStrictEqual(big);
    expect(proxy.stats.up.peakHeldBytes).toBeGreaterThanOrEqual(big.byteLength);
  });

  test("split 1: the receiver reads the stream one byte at a time", async () => {
    const upstream = await startUpstream();
    const { proxy } = await proxyTo(upstream.port, { faults: { split: 1 } });
    const client = await connect(proxy.address.port);
    // Once the upstream has accepted the link (else its first read may hold the first two bytes).
    const server = await upstream.peer();
    const bytes = concat(someFrames(5, 4, 40));
    client.socket.write(bytes);
    await server.received(bytes.byteLength);
    expect(server.bytes).toStrictEqual(bytes);
    expect(server.reads.length).toBe(bytes.byteLength);
  });

  test("merged writes: frames written apart reach the receiver in one read (and apart without merging)", async () => {
    const frames = someFrames(8, 5, 100);
    const run = async (mergeMs: number): Promise<Peer> => {
      const upstream = await startUpstream();
      const { proxy } = await proxyTo(upstream.port, { faults: { mergeMs } });
      const client = await connect(proxy.address.port);
      for (const frame of frames) {
        client.socket.write(frame);
        await sleep(15);
      }
      const server = await upstream.peer();
      await server.received(concat(frames).byteLength);
      expect(server.bytes).toStrictEqual(concat(frames));
      return server;
    };
    expect((await run(400)).reads.length).toBe(1);
    expect((await run(0)).reads.length).toBeGreaterThan(1);
  });

  test("delay: each frame is held at least delayMs, as latency (order kept, not one frame per delay)", async () => {
    const sentAt: number[] = [];
    const arrivedAt: number[] = [];
    const upstream = await startUpstream((peer) => peer.socket.on("data", () => arrivedAt.push(performance.now())));
    const { proxy } = await proxyTo(upstream.port, { faults: { delayMs: 200 } });
    const client = await connect(proxy.address.port);
    const frames = someFrames(10, 6, 50);
    for (const frame of frames) {
      sentAt.push(performance.now());
      client.socket.write(frame);
      await sleep(10);
    }
    const server = await upstream.peer();
    await server.received(concat(frames).byteLength);
    expect(server.bytes).toStrictEqual(concat(frames));
    // Each read holds whole frames; the first byte of frame i cannot arrive before sentAt[i] + 200.
    expect(arrivedAt[0]! - sentAt[0]!).toBeGreaterThanOrEqual(195);
    expect(server.reads.length).toBeGreaterThan(1);
    let frame = 0;
    for (const [i, read] of server.reads.entries()) {
      expect(arrivedAt[i]! - sentAt[frame]!).toBeGreaterThanOrEqual(195);
      frame += seqsIn(read).length;
    }
    // Ten frames 10 ms apart, each 200 ms late: the last is there well before ten delays have passed.
    expect(arrivedAt.at(-1)! - sentAt[0]!).toBeLessThan(1500);
  });
});

describe("dropping whole frames", () => {
  const run = async (seed: number): Promise<{ dropped: number[]; arrived: number[]; events: Event[] }> => {
    const upstream = await startUpstream();
    const { proxy, events } = await proxyTo(upstream.port, { faults: { drop: 0.3 }, seed });
    const client = await connect(proxy.address.port);
    const frames = someFrames(200, 8, 30);
    writeInPieces(client, concat(frames), 97);
    await until("200 frames", () => framesOf(events, "up").length === 200);
    const dropped = framesOf(events, "up").filter((e) => e.dropped).map((e) => e.index);
    const kept = frames.filter((_, i) => !dropped.includes(i));
    const server = await upstream.peer();
    await server.received(concat(kept).byteLength);
    await sleep(20);
    expect(server.bytes).toStrictEqual(concat(kept));
    expect(proxy.stats.up.framesDropped).toBe(dropped.length);
    return { dropped, arrived: seqsIn(server.bytes).map((s) => s - 1), events };
  };

  test("the frames reported dropped are exactly those missing; the same seed drops the same frames", async () => {
    const first = await run(42);
    expect(first.dropped.length).toBeGreaterThan(30);
    expect(first.dropped.length).toBeLessThan(90);
    expect(first.arrived).toStrictEqual([...Array(200).keys()].filter((i) => !first.dropped.includes(i)));
    const again = await run(42);
    expect(again.dropped).toStrictEqual(first.dropped);
    const other = await run(43);
    expect(other.dropped).not.toStrictEqual(first.dropped);
  });

  test("drop 1 on one direction only: client → server loses everything, server → client nothing", async () => {
    const frames = someFrames(5, 9);
    const upstream = await startUpstream(echo);
    const { proxy } = await proxyTo(upstream.port, { faults: { up: { drop: 1 } } });
    const client = await connect(proxy.address.port);
    client.socket.write(concat(frames));
    await until("5 frames up", () => proxy.stats.up.frames === 5);
    await sleep(50);
    expect((await upstream.peer()).byteCount).toBe(0);
    proxy.setFaults({ down: { drop: 1 } });
    client.socket.write(concat(frames));
    const server = upstream.peers[0]!;
    await server.received(concat(frames).byteLength);
    await until("5 frames down", () => proxy.stats.down.frames === 5);
    await sleep(50);
    expect(client.byteCount).toBe(0);
  });
});

describe("kills", () => {
  test("killAfterFrames: the Nth frame is forwarded, then both sides see the link close", async () => {
    const frames = someFrames(6, 10);
    const upstream = await startUpstream();
    const { proxy, events } = await proxyTo(upstream.port, { faults: { up: { killAfterFrames: 3 } } });
    const client = await connect(proxy.address.port);
    client.socket.write(concat(frames));
    const server = await upstream.peer();
    await server.gone;
    await client.gone;
    expect(server.bytes).toStrictEqual(concat(frames.slice(0, 3)));
    expect(server.isEnded).toBe(true); // the receiver got its last bytes and a FIN
    const kill = ofType(events, "kill");
    expect(kill).toMatchObject([{ direction: "up", reason: "killAfterFrames", link: 1 }]);
    await until("close", () => ofType(events, "close").length === 1);
    expect(ofType(events, "close")[0]).toMatchObject({ reason: "killed", up: { frames: 3, bytesOut: concat(frames.slice(0, 3)).byteLength } });
    expect(proxy.stats.linksKilled).toBe(1);
  });

  test("killAfterBytes: exactly N bytes go out, cutting a frame, then the link closes", async () => {
    const frames = someFrames(4, 11, 100);
    const upstream = await startUpstream((peer) => peer.socket.write(concat(frames)));
    const { proxy } = await proxyTo(upstream.port, { faults: { down: { killAfterBytes: 50 } } });
    const client = await connect(proxy.address.port);
    await client.gone;
    expect(client.bytes).toStrictEqual(concat(frames).subarray(0, 50));
    await (await upstream.peer()).gone;
  });

  test("kill limits count from when they are set", async () => {
    const frames = someFrames(10, 12, 20);
    const upstream = await startUpstream();
    const { proxy } = await proxyTo(upstream.port);
    const client = await connect(proxy.address.port);
    client.socket.write(concat(frames.slice(0, 5)));
    const server = await upstream.peer();
    await server.received(concat(frames.slice(0, 5)).byteLength);
    proxy.setFaults({ killAfterFrames: 2 });
    client.socket.write(concat(frames.slice(5)));
    await server.gone;
    expect(server.bytes).toStrictEqual(concat(frames.slice(0, 7)));
  });

  test("killAll cuts every link at once; the proxy keeps accepting", async () => {
    const upstream = await startUpstream(echo);
    const { proxy, events } = await proxyTo(upstream.port);
    const a = await connect(proxy.address.port);
    const b = await connect(proxy.address.port);
    const [frame] = someFrames(1, 13);
    a.socket.write(frame!);
    b.socket.write(frame!);
    await a.received(frame!.byteLength);
    await b.received(frame!.byteLength);
    expect(proxy.killAll()).toBe(2);
    await a.gone;
    await b.gone;
    await until("both links closed", () => ofType(events, "close").length === 2);
    expect(ofType(events, "close").map((e) => e.reason)).toStrictEqual(["killed", "killed"]);
    expect(ofType(events, "kill").map((e) => [e.reason, e.direction])).toStrictEqual([
      ["killAll", undefined],
      ["killAll", undefined],
    ]);
    const c = await connect(proxy.address.port);
    c.socket.write(frame!);
    await c.received(frame!.byteLength);
    expect(c.bytes).toStrictEqual(frame);
    expect(proxy.stats).toMatchObject({ linksOpened: 3, linksOpen: 1, linksKilled: 2 });
  });
});

describe("backpressure", () => {
  test("a receiver that never reads holds the proxy to its mark, and everything arrives once it reads", async () => {
    const upstream = await startUpstream((peer) => peer.socket.pause());
    const highWaterMark = 64 * 1024;
    const { proxy } = await proxyTo(upstream.port, { highWaterMark, onEvent: undefined });
    const client = await connect(proxy.address.port);
    const body = new Uint8Array(16 * 1024 - 16).fill(0xab);
    const total = 2048; // 32 MiB of frames
    let written = 0;
    let stalled = false;
    while (written < total) {
      if (!client.socket.write(encodeFrame({ op: 1000, seq: written + 1, body }))) {
        const drained = await Promise.race([new Promise<boolean>((resolve) => client.socket.once("drain", () => resolve(true))), sleep(400).then(() => false)]);
        if (!drained) {
          stalled = true;
          written++;
          break;
        }
      }
      written++;
    }
    expect(stalled).toBe(true);
    expect(written).toBeLessThan(total);
    const stats = proxy.stats.up;
    // At most the mark, plus one read (≤ 64 KiB) and one frame being gathered.
    expect(stats.peakHeldBytes).toBeLessThanOrEqual(highWaterMark + 64 * 1024 + 16 * 1024);
    expect(stats.bytesIn).toBeLessThan(written * 16 * 1024);
    // Now the receiver reads: every frame written arrives, in order.
    const server = await upstream.peer();
    server.socket.resume();
    await server.received(written * 16 * 1024, 20_000);
    const seqs = new FrameDecoder({ versions: "any" }).push(server.bytes).map((f) => f.seq);
    expect(seqs).toStrictEqual([...Array(written).keys()].map((i) => i + 1));
  });
});

describe("the life of a link", () => {
  test("half-close: a client that ends its side still gets the answer, then the link closes as ended", async () => {
    const request = concat(someFrames(3, 14));
    const answer = concat(someFrames(4, 15));
    const upstream = await startUpstream((peer) => peer.socket.on("end", () => peer.socket.end(answer)));
    const { proxy, events } = await proxyTo(upstream.port, { faults: { delayMs: 30 } });
    const client = await connect(proxy.address.port);
    client.socket.end(request);
    await client.ended;
    expect(client.bytes).toStrictEqual(answer);
    expect((await upstream.peer()).bytes).toStrictEqual(request);
    await until("close", () => ofType(events, "close").length === 1);
    expect(events.map((e) => e.type === "end" ? `end ${e.direction}` : e.type).filter((t) => t !== "frame")).toStrictEqual(["open", "end up", "end down", "close"]);
    expect(ofType(events, "close")[0]!.reason).toBe("ended");
  });

  test("bytes that are not frames: reported once, then forwarded as they are, never dropped", async () => {
    const [good] = someFrames(1, 16);
    const garbage = new Uint8Array(60).fill(0xff); // packetLength 0xffffffff: over any limit
    const upstream = await startUpstream();
    const { proxy, events } = await proxyTo(upstream.port, { faults: { drop: 1 } });
    const client = await connect(proxy.address.port);
    client.socket.write(concat([good!, garbage.subarray(0, 10)]));
    await sleep(20);
    client.socket.write(garbage.subarray(10));
    const server = await upstream.peer();
    await server.received(garbage.byteLength);
    await sleep(20);
    expect(server.bytes).toStrictEqual(garbage); // the good frame was dropped; the rest is not frames
    const error = ofType(events, "framing-error");
    expect(error).toHaveLength(1);
    expect(error[0]).toMatchObject({ direction: "up", offset: good!.byteLength, error: { code: "FRAME_TOO_LARGE", offset: good!.byteLength } });
    expect(ofType(events, "bytes").map((e) => [e.offset, e.bytes.byteLength])).toStrictEqual([
      [good!.byteLength, 10],
      [good!.byteLength + 10, 50],
    ]);
  });

  test("a frame cut off by the end of the stream is forwarded as bytes, then the end", async () => {
    const [frame] = someFrames(1, 17);
    const upstream = await startUpstream();
    const { proxy, events } = await proxyTo(upstream.port);
    const client = await connect(proxy.address.port);
    client.socket.end(frame!.subarray(0, 20));
    const server = await upstream.peer();
    await server.ended;
    expect(server.bytes).toStrictEqual(frame!.subarray(0, 20));
    expect(ofType(events, "bytes").map((e) => plain(e.bytes))).toStrictEqual([frame!.subarray(0, 20)]);
  });

  test("framing null: bytes pass as they are read; frame faults do nothing", async () => {
    const bytes = concat(someFrames(5, 18));
    const upstream = await startUpstream();
    const { proxy, events } = await proxyTo(upstream.port, { framing: null, faults: { drop: 1, killAfterFrames: 1 } });
    const client = await connect(proxy.address.port);
    client.socket.write(bytes);
    const server = await upstream.peer();
    await server.received(bytes.byteLength);
    expect(server.bytes).toStrictEqual(bytes);
    expect(framesOf(events, "up")).toHaveLength(0);
    expect(concat(ofType(events, "bytes").map((e) => e.bytes))).toStrictEqual(bytes);
  });

  test("an unreachable upstream: the client's connection closes, the link reports refused", async () => {
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, "127.0.0.1", resolve));
    const port = (spare.address() as { port: number }).port;
    await new Promise<void>((resolve) => spare.close(() => resolve()));
    const { proxy, events } = await proxyTo(port);
    const client = await connect(proxy.address.port);
    await client.gone;
    await until("close", () => ofType(events, "close").length === 1);
    expect(ofType(events, "close")[0]).toMatchObject({ reason: "refused", error: "upstream: ECONNREFUSED" });
  });

  test("each client gets its own upstream connection; links are numbered in accept order", async () => {
    const upstream = await startUpstream(echo);
    const { proxy, events } = await proxyTo(upstream.port);
    const clients = [await connect(proxy.address.port), await connect(proxy.address.port), await connect(proxy.address.port)];
    const frames = someFrames(3, 19);
    clients.forEach((c, i) => c.socket.write(frames[i]!));
    for (const [i, c] of clients.entries()) {
      await c.received(frames[i]!.byteLength);
      expect(c.bytes).toStrictEqual(frames[i]);
    }
    expect(upstream.peers).toHaveLength(3);
    expect(ofType(events, "open").map((e) => e.link)).toStrictEqual([1, 2, 3]);
    const links = new Map(framesOf(events, "up").map((e) => [e.link, e.frame.seq]));
    expect(links.size).toBe(3);
  });

  test("close(): what is held goes out at once, streams end, and it resolves soon", async () => {
    const bytes = concat(someFrames(3, 20));
    const upstream = await startUpstream();
    const { proxy, events } = await proxyTo(upstream.port, { faults: { delayMs: 60_000 } });
    const client = await connect(proxy.address.port);
    client.socket.write(bytes);
    await until("3 frames", () => proxy.stats.up.frames === 3);
    const started = performance.now();
    await proxy.close();
    expect(performance.now() - started).toBeLessThan(5000);
    const server = await upstream.peer();
    await server.ended;
    expect(server.bytes).toStrictEqual(bytes);
    await client.gone;
    expect(ofType(events, "close")[0]!.reason).toBe("proxy-closed");
    expect(proxy.close()).toBe(proxy.close());
  });

  test("a listener's promise holds reading until it settles", async () => {
    const bytes = concat(someFrames(4, 21));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const upstream = await startUpstream();
    const { proxy } = await proxyTo(upstream.port, { onEvent: (e) => (e.type === "frame" && e.index === 0 ? gate : undefined) });
    const client = await connect(proxy.address.port);
    client.socket.write(bytes.subarray(0, 10));
    await sleep(20);
    client.socket.write(bytes.subarray(10));
    // The first frame is forwarded, but the source stays paused while its event's promise is pending.
    const server = await upstream.peer();
    await until("the first frame", () => proxy.stats.up.frames >= 1);
    await sleep(100);
    const before = proxy.stats.up.bytesIn;
    release();
    await server.received(bytes.byteLength);
    expect(server.bytes).toStrictEqual(bytes);
    expect(before).toBeLessThanOrEqual(bytes.byteLength);
  });
});

describe("misuse", () => {
  test("bad options and faults throw TypeError / RangeError, and setFaults leaves the faults as they were", async () => {
    expect(() => createFaultProxy(undefined as never)).toThrow(TypeError);
    expect(() => createFaultProxy({ upstream: { port: 0 } })).toThrow(RangeError);
    expect(() => createFaultProxy({ upstream: { port: 1 }, faults: { split: 0 } })).toThrow(/split must be an integer from 1/);
    expect(() => createFaultProxy({ upstream: { port: 1 }, faults: { drop: 2 } })).toThrow(RangeError);
    expect(() => createFaultProxy({ upstream: { port: 1 }, faults: { up: { delayMs: -1 } } })).toThrow(/faults\.up\.delayMs/);
    expect(() => createFaultProxy({ upstream: { port: 1 }, faults: { killAfterFrames: "3" as never } })).toThrow(TypeError);
    expect(() => createFaultProxy({ upstream: { port: 1 }, highWaterMark: 0 })).toThrow(RangeError);
    expect(() => createFaultProxy({ upstream: { port: 1 }, framing: 5 as never })).toThrow(TypeError);

    const upstream = await startUpstream(echo);
    const { proxy } = await proxyTo(upstream.port, { faults: { up: { drop: 1 } } });
    expect(() => proxy.setFaults({ drop: 0, down: { split: -1 } })).toThrow(RangeError);
    const client = await connect(proxy.address.port);
    const [frame] = someFrames(1, 22);
    client.socket.write(frame!);
    await until("the frame", () => proxy.stats.up.frames === 1);
    expect(proxy.stats.up.framesDropped).toBe(1);
  });

  test("listening on a port in use rejects with Node's error", async () => {
    const upstream = await startUpstream();
    await expect(createFaultProxy({ listen: { port: upstream.port }, upstream: { port: upstream.port } })).rejects.toMatchObject({ code: "EADDRINUSE" });
  });
});
