// `syncwire serve` as a child process, driven by a minimal client written from docs/PROTOCOL.md alone:
// raw sockets, encodeFrame/decodeFrames for the 16-byte header, protobuf-es create/toBinary/fromBinary
// for the bodies (proto/syncwire/v1), op numbers from the §2 table. No ClientEngine: if this client can
// log in, send, be acked, receive NOTIFY, sync and commit, the document suffices.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { decodeFrames, encodeFrame, type Frame } from "../../src/index.js";
import { AckSchema, AckStatus, MessageKind, MessagePacketSchema } from "../../src/gen/syncwire/v1/message_pb.js";
import { DisconnectCode, DisconnectSchema, HeartbeatAckSchema, HeartbeatSchema, HelloSchema, WelcomeSchema } from "../../src/gen/syncwire/v1/session_pb.js";
import { NotifySchema, SyncCommitSchema, SyncRequestSchema, SyncResultSchema, type SyncKey } from "../../src/gen/syncwire/v1/sync_pb.js";
import { createClient } from "../../src/node/index.js";
import type { SyncwireClient } from "../../src/web/index.js";
import { ensureDistBuilt, REPO_ROOT } from "../support/dist.js";
import { testCertificate } from "./support.js";

/** docs/PROTOCOL.md §2. */
const OP = { HEARTBEAT: 2, HEARTBEAT_ACK: 3, SEND: 4, ACK: 5, DISCONNECT: 6, HELLO: 7, WELCOME: 8, BATCH: 9, NOTIFY: 10, SYNC: 11, SYNC_RESULT: 12, SYNC_COMMIT: 13 } as const;

/** A client from the document: numbers its requests 1, 2, 3 (§3, §11.1) and reads whole frames off the stream (§9). */
class DocClient {
  readonly socket: Socket;
  readonly frames: Frame[] = [];
  #pending = new Uint8Array(0);
  #seq = 0;
  #waiters = new Set<() => void>();
  readonly ended: Promise<void>;

  constructor(port: number) {
    this.socket = connect(port, "127.0.0.1");
    this.socket.on("data", (chunk: Buffer) => {
      const bytes = new Uint8Array(this.#pending.byteLength + chunk.byteLength);
      bytes.set(this.#pending);
      bytes.set(chunk, this.#pending.byteLength);
      // Whole frames now; the cut-off rest waits for the next chunk.
      const { frames, trailer } = decodeFrames(bytes, { allowTrailer: true });
      this.#pending = trailer.slice();
      this.frames.push(...frames);
      for (const wake of this.#waiters) wake();
    });
    this.socket.on("error", () => undefined);
    this.ended = new Promise((resolve) => this.socket.on("close", () => resolve()));
  }

  request<D extends DescMessage>(op: number, schema: D, init: MessageInitShape<D>): number {
    const seq = ++this.#seq;
    this.socket.write(encodeFrame({ op, seq, body: toBinary(schema, create(schema, init)) }));
    return seq;
  }

  /** The first frame not yet taken with this op (and seq, if given); its body decoded with `schema`. */
  async take<D extends DescMessage>(op: number, schema: D, seq?: number): Promise<{ frame: Frame; body: MessageShape<D> }> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const index = this.frames.findIndex((f) => f.op === op && (seq === undefined || f.seq === seq));
      if (index >= 0) {
        const [frame] = this.frames.splice(index, 1);
        return { frame: frame!, body: fromBinary(schema, frame!.body) };
      }
      if (Date.now() > deadline) throw new Error(`no op ${op} (seq ${seq}) within 10 s; have ${this.frames.map((f) => `${f.op}/${f.seq}`).join(" ")}`);
      await new Promise<void>((resolve) => {
        const wake = () => (this.#waiters.delete(wake), resolve());
        this.#waiters.add(wake);
        setTimeout(wake, 100);
      });
    }
  }

  /** HELLO → WELCOME (§11.2), then the SYNC every WELCOME is followed by (§11.5). */
  async logIn(token: string, clientId: string): Promise<{ welcome: MessageShape<typeof WelcomeSchema>; key: SyncKey | undefined }> {
    const hello = this.request(OP.HELLO, HelloSchema, { versions: [1], clientId, token, capabilities: { maxFrameSize: 0, batching: false } });
    const { frame, body: welcome } = await this.take(OP.WELCOME, WelcomeSchema, hello);
    expect(frame.version).toBe(1);
    const sync = this.request(OP.SYNC, SyncRequestSchema, {});
    const { body: result } = await this.take(OP.SYNC_RESULT, SyncResultSchema, sync);
    return { welcome, key: result.syncKey };
  }
}

let child: ChildProcessWithoutNullStreams;
let stdout = "";
let tokenDir: string;
const ports: Record<string, number> = {};

beforeAll(async () => {
  ensureDistBuilt();
  tokenDir = mkdtempSync(join(tmpdir(), "syncwire-serve-"));
  writeFileSync(join(tokenDir, "tokens"), "# user:token\nalice:a-secret\nbob:b-secret\n");
  child = spawn(process.execPath, [join(REPO_ROOT, "bin/syncwire.js"), "serve", "--tcp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--token-file", join(tokenDir, "tokens"), "--retry-after-ms", "1500"], { cwd: REPO_ROOT });
  child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  const deadline = Date.now() + 20_000;
  while (!/^in-memory stores; .*$/m.test(stdout)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`syncwire serve did not start:\n${stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const [, kind, port] of stdout.matchAll(/^listening (\w+) +\w+:\/\/127\.0\.0\.1:(\d+)/gm)) ports[kind!] = Number(port);
}, 60_000);

afterAll(() => {
  if (child.exitCode === null) child.kill("SIGKILL");
  rmSync(tokenDir, { recursive: true, force: true });
});

describe("syncwire serve, spoken to by a client written from docs/PROTOCOL.md", () => {
  const alice = () => new DocClient(ports.tcp!);

  test("prints where it listens and what it stores", () => {
    expect(stdout).toMatch(/^listening tcp  tcp:\/\/127\.0\.0\.1:\d+$/m);
    expect(stdout).toMatch(/^in-memory stores; 2 tokens from .*tokens$/m);
  });

  test("log in, send, be acked, receive NOTIFY, sync, commit; a resend is answered DUPLICATE; a heartbeat is answered", async () => {
    const a = alice();
    const b = new DocClient(ports.tcp!);
    try {
      const { welcome } = await a.logIn("a-secret", "doc-a");
      expect(welcome.version).toBe(1);
      expect(welcome.heartbeatIntervalMs).toBe(30_000);
      expect(welcome.limits?.maxFrameSize).toBe(1 << 20);
      const bobStart = await b.logIn("b-secret", "doc-b");

      // §11.4: SEND → ACK with the ids, only after storing; then NOTIFY to the recipient.
      const content = new TextEncoder().encode("written from the spec");
      const send = a.request(OP.SEND, MessagePacketSchema, { clientMsgId: 7001n, conversationId: "c2c:alice:bob", recipientId: "bob", kind: MessageKind.TEXT, content });
      const { body: ack } = await a.take(OP.ACK, AckSchema, send);
      expect([ack.status, ack.clientMsgId]).toEqual([AckStatus.OK, 7001n]);
      expect(ack.serverMsgId).toBeGreaterThan(0n);

      const { frame: notifyFrame, body: notify } = await b.take(OP.NOTIFY, NotifySchema);
      expect(notifyFrame.seq).toBe(0);
      // §11.5: SYNC with the stored key → the new entries, then SYNC_COMMIT → ACK.
      const sync = b.request(OP.SYNC, SyncRequestSchema, { syncKey: bobStart.key ?? { entries: [] } });
      const { body: result } = await b.take(OP.SYNC_RESULT, SyncResultSchema, sync);
      expect(result.messages.map((m) => [m.senderId, new TextDecoder().decode(m.content), m.serverMsgId])).toEqual([["alice", "written from the spec", ack.serverMsgId]]);
      expect(result.hasMore).toBe(false);
      expect(result.syncKey!.entries.map((e) => [e.key, e.version])).toEqual(notify.syncKey!.entries.map((e) => [e.key, e.version]));
      const commit = b.request(OP.SYNC_COMMIT, SyncCommitSchema, { syncKey: result.syncKey! });
      expect((await b.take(OP.ACK, AckSchema, commit)).body.status).toBe(AckStatus.OK);
      // Committed: a SYNC from the new key finds nothing.
      const again = b.request(OP.SYNC, SyncRequestSchema, { syncKey: result.syncKey! });
      expect((await b.take(OP.SYNC_RESULT, SyncResultSchema, again)).body.messages).toEqual([]);

      // A retransmission with the same client_msg_id: DUPLICATE with the original ids, stored once.
      const resend = a.request(OP.SEND, MessagePacketSchema, { clientMsgId: 7001n, conversationId: "c2c:alice:bob", recipientId: "bob", kind: MessageKind.TEXT, content });
      const { body: duplicate } = await a.take(OP.ACK, AckSchema, resend);
      expect([duplicate.status, duplicate.serverMsgId]).toEqual([AckStatus.DUPLICATE, ack.serverMsgId]);

      // §11.3: HEARTBEAT → HEARTBEAT_ACK echoing client_time_ms.
      const beat = a.request(OP.HEARTBEAT, HeartbeatSchema, { clientTimeMs: 12345n });
      expect((await a.take(OP.HEARTBEAT_ACK, HeartbeatAckSchema, beat)).body.clientTimeMs).toBe(12345n);
    } finally {
      a.socket.destroy();
      b.socket.destroy();
    }
  });

  test("an unknown token is refused: DISCONNECT AUTH_FAILED echoing HELLO's seq, then the socket closes", async () => {
    const m = alice();
    const hello = m.request(OP.HELLO, HelloSchema, { versions: [1], clientId: "m", token: "guess" });
    const { body } = await m.take(OP.DISCONNECT, DisconnectSchema, hello);
    expect(body.code).toBe(DisconnectCode.AUTH_FAILED);
    await m.ended;
  });

  test("a short link: POST HELLO + SYNC to the HTTP listener, get WELCOME + SYNC_RESULT", async () => {
    const hello = encodeFrame({ op: OP.HELLO, seq: 1, body: toBinary(HelloSchema, create(HelloSchema, { versions: [1], clientId: "doc-phone", token: "b-secret" })) });
    const sync = encodeFrame({ op: OP.SYNC, seq: 2, body: toBinary(SyncRequestSchema, create(SyncRequestSchema, {})) });
    const response = await fetch(`http://127.0.0.1:${ports.http}/`, { method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: new Uint8Array([...hello, ...sync]) });
    expect(response.status).toBe(200);
    const { frames } = decodeFrames(new Uint8Array(await response.arrayBuffer()));
    expect(frames.map((f) => [f.op, f.seq])).toEqual([
      [OP.WELCOME, 1],
      [OP.SYNC_RESULT, 2],
    ]);
    expect(fromBinary(SyncResultSchema, frames[1]!.body).messages.length).toBe(1);
  });

  test("SIGTERM: every link gets DISCONNECT SERVER_SHUTDOWN with retry_after_ms, the socket closes, exit 0; one log line per connection event", async () => {
    const a = alice();
    await a.logIn("a-secret", "doc-a2");
    child.kill("SIGTERM");
    const { frame, body } = await a.take(OP.DISCONNECT, DisconnectSchema);
    expect([frame.seq, body.code, body.retryAfterMs]).toEqual([0, DisconnectCode.SERVER_SHUTDOWN, 1500]);
    await a.ended;
    const [code] = (await once(child, "exit")) as [number];
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\S+Z tcp#\d+ 127\.0\.0\.1:\d+ accepted$/m);
    expect(stdout).toMatch(/^\S+Z tcp#\d+ 127\.0\.0\.1:\d+ authenticated user=alice client=doc-a session=\S+ v1$/m);
    expect(stdout).toMatch(/^\S+Z tcp#\d+ 127\.0\.0\.1:\d+ refused AUTH_FAILED: unknown token$/m);
    expect(stdout).toMatch(/^\S+Z http#\d+ 127\.0\.0\.1:\d+ closed by server NORMAL: every request was answered$/m);
    expect(stdout).toMatch(/^\S+Z tcp#\d+ 127\.0\.0\.1:\d+ closed by server SERVER_SHUTDOWN: the server is shutting down$/m);
    expect(stdout).toMatch(/^SIGTERM: stopping \(DISCONNECT SERVER_SHUTDOWN, retry after 1500 ms, to 1 link\)$/m);
    expect(stdout.endsWith("\nstopped\n")).toBe(true);
  });
});

describe("syncwire serve --ws --tls (certificate files) --heartbeat-ms, any user, stopped by SIGINT", () => {
  test("clients over WebSocket and TLS exchange a message and measure heartbeats; SIGINT sends both DISCONNECT SERVER_SHUTDOWN, exit 0", { timeout: 60_000 }, async () => {
    ensureDistBuilt();
    const { cert, key } = testCertificate();
    const dir = mkdtempSync(join(tmpdir(), "syncwire-serve-tls-"));
    writeFileSync(join(dir, "cert.pem"), cert);
    writeFileSync(join(dir, "key.pem"), key);
    const server = spawn(process.execPath, [join(REPO_ROOT, "bin/syncwire.js"), "serve", "--ws", "127.0.0.1:0", "--tls", "127.0.0.1:0", "--tls-cert", join(dir, "cert.pem"), "--tls-key", join(dir, "key.pem"), "--heartbeat-ms", "100"], { cwd: REPO_ROOT });
    let out = "";
    server.stdout.setEncoding("utf8").on("data", (text: string) => (out += text));
    server.stderr.setEncoding("utf8").on("data", (text: string) => (out += text));
    const clients: SyncwireClient[] = [];
    try {
      const deadline = Date.now() + 20_000;
      while (!/^in-memory stores; any user logs in: the token is the user id$/m.test(out)) {
        if (Date.now() > deadline || server.exitCode !== null) throw new Error(`syncwire serve did not start:\n${out}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const ws = /^listening ws +(ws:\/\/127\.0\.0\.1:\d+\/)$/m.exec(out)?.[1];
      const tls = /^listening tls +(tls:\/\/127\.0\.0\.1:\d+)$/m.exec(out)?.[1];
      expect([ws, tls]).toEqual([expect.any(String), expect.any(String)]);
      const alice = createClient({ url: tls!, tls: { ca: cert }, engine: { clientId: "alice-tls", token: "alice", userId: "alice" }, reconnect: { initialMs: 5000, maxMs: 5000 } });
      const bob = createClient({ url: ws!, engine: { clientId: "bob-ws", token: "bob", userId: "bob" }, reconnect: { initialMs: 5000, maxMs: 5000 } });
      clients.push(alice, bob);
      const bobGot = new Promise<string>((resolve) => bob.on("message", (e) => resolve(new TextDecoder().decode(e.message.content))));
      await Promise.all([alice.once("open", () => true, 20_000), bob.once("open", () => true, 20_000)]);
      alice.send({ conversationId: "c2c:alice:bob", recipientId: "bob", kind: MessageKind.TEXT, content: new TextEncoder().encode("over TLS, to a WebSocket") });
      expect(await bobGot).toBe("over TLS, to a WebSocket");
      // --heartbeat-ms 100 is WELCOME's interval: both clients beat and measure their round trip.
      await Promise.all([alice.once("heartbeat", () => true, 5000), bob.once("heartbeat", () => true, 5000)]);

      const shutdowns = Promise.all(clients.map((c) => c.once("disconnected", () => true, 10_000)));
      server.kill("SIGINT");
      for (const event of await shutdowns) expect([event.code, event.retryAfterMs]).toEqual([DisconnectCode.SERVER_SHUTDOWN, 1000]);
      const [code] = (await once(server, "exit")) as [number];
      expect(code).toBe(0);
      expect(out).toMatch(/^SIGINT: stopping \(DISCONNECT SERVER_SHUTDOWN, retry after 1000 ms, to 2 links\)$/m);
      expect(out).toMatch(/^\S+Z tls#\d+ 127\.0\.0\.1:\d+ authenticated user=alice client=alice-tls session=\S+ v1$/m);
      expect(out).toMatch(/^\S+Z ws#\d+ 127\.0\.0\.1:\d+ authenticated user=bob client=bob-ws session=\S+ v1$/m);
      expect(out.endsWith("\nstopped\n")).toBe(true);
    } finally {
      for (const client of clients) client.close();
      if (server.exitCode === null) server.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("syncwire serve's command line", () => {
  async function runServe(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const { run } = await import("../../src/cli/main.js");
    let out = "";
    let err = "";
    const code = await run(["serve", ...args], { stdout: { write: (t: string | Uint8Array) => (out += String(t)) }, stderr: { write: (t: string) => (err += t) }, stdin: process.stdin });
    return { code, out, err };
  }

  test.each([
    [[], /needs at least one listener/],
    [["--tcp", "9000"], /--tcp needs HOST:PORT such as 127\.0\.0\.1:9000/],
    [["--tcp", "127.0.0.1:70000"], /--tcp needs HOST:PORT/],
    [["--tls", "127.0.0.1:0"], /--tls, --tls-cert and --tls-key go together/],
    [["--tcp", "127.0.0.1:0", "--tls-cert", "c.pem"], /go together/],
    [["--tcp", "127.0.0.1:0", "--token-file", "/nonexistent/tokens"], /cannot read --token-file '\/nonexistent\/tokens': ENOENT/],
    [["--tcp", "127.0.0.1:0", "--heartbeat-ms", "soon"], /--heartbeat-ms needs a whole number/],
    [["--tcp", "127.0.0.1:0", "extra"], /serve takes no arguments/],
  ])("%j is a usage error (exit 2)", async (args, message) => {
    const { code, err } = await runServe(args);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).toMatch(/Try 'syncwire --help'\.\n$/);
  });

  test("a token file with a bad line is a usage error naming the line", async () => {
    writeFileSync(join(tokenDir, "bad"), "alice:a\nno colon here\n");
    const { code, err } = await runServe(["--tcp", "127.0.0.1:0", "--token-file", join(tokenDir, "bad")]);
    expect([code, err]).toEqual([2, expect.stringMatching(/line 2: expected user:token/)]);
  });

  test("a port in use: 'cannot listen', exit 1", async () => {
    const holder = createServer().listen(0, "127.0.0.1");
    await once(holder, "listening");
    try {
      const { code, err } = await runServe(["--tcp", `127.0.0.1:${(holder.address() as AddressInfo).port}`]);
      expect(code).toBe(1);
      expect(err).toMatch(/^syncwire: cannot listen: .*EADDRINUSE/);
    } finally {
      holder.close();
    }
  });
});
