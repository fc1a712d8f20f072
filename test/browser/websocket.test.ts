// The browser client in real headless Chromium (Debian's, driven by playwright-core): the package's root
// entry bundled with esbuild for the browser platform (a Node import anywhere in it would fail the
// bundle), run in a page against a loopback server. A WebSocket session over the browser's own
// WebSocket: it sends, receives a NOTIFY and syncs, survives the server dropping the socket (reconnects,
// resumes, nothing lost, nothing twice), and a short-link sync over the browser's fetch.
import { existsSync } from "node:fs";
import { build } from "esbuild";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { formatSyncKey, MessageKind } from "../../src/index.js";
import { createClient, SyncwireServer, tokenAuthenticator, type ServerAddresses } from "../../src/node/index.js";
import type { SyncwireClient } from "../../src/web/index.js";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let bundle: string;
let browser: Browser;
let page: Page;
let server: SyncwireServer;
let addresses: ServerAddresses;
let bob: SyncwireClient;
const bobGot: string[] = [];

// CI installs Debian's chromium (.ci/run); a machine without it cannot run this file at all.
describe.skipIf(!existsSync(CHROMIUM) && process.env.CI === undefined)("in headless Chromium", () => {
  beforeAll(async () => {
    const result = await build({ entryPoints: ["src/index.ts"], bundle: true, format: "iife", globalName: "syncwire", platform: "browser", target: "chrome120", write: false, logLevel: "silent" });
    bundle = result.outputFiles[0]!.text;
    server = new SyncwireServer({ authenticate: tokenAuthenticator(), ws: { host: "127.0.0.1", port: 0 }, http: { host: "127.0.0.1", port: 0, allowOrigin: "*" }, tcp: { host: "127.0.0.1", port: 0 } });
    addresses = await server.listen();
    bob = createClient({ url: addresses.tcp!.url, engine: { clientId: "bob-node", token: "bob", userId: "bob" }, reconnect: { initialMs: 50, maxMs: 500 } });
    bob.on("message", (e) => {
      if (!e.own) bobGot.push(new TextDecoder().decode(e.message.content));
    });
    await bob.once("open");
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
    page = await browser.newPage();
    await page.setContent("<!doctype html><title>syncwire</title>");
    await page.addScriptTag({ content: bundle });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    bob?.close();
    await server?.close({ graceMs: 500 });
  }, 20_000);

  test("the bundle is the package's root entry, made for the browser", async () => {
    expect(bundle.length).toBeGreaterThan(10_000);
    expect(await page.evaluate(() => typeof WebSocket === "function" && typeof (window as unknown as { syncwire: { SyncwireClient: unknown } }).syncwire.SyncwireClient)).toBe("function");
  });

  test("a WebSocket session: open, send → ACK, NOTIFY → sync, then the server drops the socket and the client resumes", { timeout: 30_000 }, async () => {
    // Alice lives in the page: the browser's own WebSocket, no constructor given.
    await page.evaluate(async (url) => {
      const { SyncwireClient, webSocketTransport } = (window as unknown as { syncwire: typeof import("../../src/index.js") }).syncwire;
      const w = window as unknown as Record<string, unknown>;
      const events: string[] = [];
      const messages: string[] = [];
      const client = new SyncwireClient({ transport: webSocketTransport(url), engine: { clientId: "browser-tab", token: "alice", userId: "alice" }, reconnect: { initialMs: 50, maxMs: 500 } });
      client.on("*", (e) => events.push(e.type === "state" ? `state:${e.state}` : e.type));
      client.on("message", (e) => {
        if (!e.own) messages.push(new TextDecoder().decode(e.message.content));
      });
      Object.assign(w, { alice: client, events, messages });
      client.start();
      await client.once("open");
    }, addresses.ws!.url);

    // Send from the browser: acked, and bob (Node, TCP) gets it through his NOTIFY and sync.
    const ack = await page.evaluate(async () => {
      const alice = (window as unknown as { alice: SyncwireClient }).alice;
      const sent = alice.once("sent");
      alice.send({ conversationId: "c2c:alice:bob", recipientId: "bob", kind: 1, content: new TextEncoder().encode("hello from Chromium") });
      const event = await sent;
      return { duplicate: event.duplicate, serverMsgId: String(event.serverMsgId) };
    });
    expect(ack).toEqual({ duplicate: false, serverMsgId: "1" });
    await waitFor(() => bobGot.length === 1, "bob got the browser's message");
    expect(bobGot).toEqual(["hello from Chromium"]);

    // Bob answers: the browser gets a NOTIFY and syncs.
    bob.send({ conversationId: "c2c:alice:bob", recipientId: "alice", kind: MessageKind.TEXT, content: new TextEncoder().encode("hello, browser") });
    await page.waitForFunction(() => (window as unknown as { messages: string[] }).messages.length === 1, undefined, { timeout: 10_000 });

    // The server drops the browser's socket (no DISCONNECT): it reconnects with backoff and resumes.
    // Meanwhile bob sends again and the browser queues a message: both arrive, once each.
    await page.evaluate(() => {
      const w = window as unknown as { alice: SyncwireClient; closed: Promise<unknown>; resumed: Promise<unknown> };
      w.closed = w.alice.once("transport-closed");
      w.resumed = w.alice.once("open", (e) => e.resumed);
    });
    const link = server.links.find((l) => l.connection.user === "alice" && l.description.startsWith("ws#"))!;
    link.abort();
    bob.send({ conversationId: "c2c:alice:bob", recipientId: "alice", kind: MessageKind.TEXT, content: new TextEncoder().encode("are you still there?") });
    await page.evaluate(async () => {
      const w = window as unknown as { alice: SyncwireClient; closed: Promise<unknown>; resumed: Promise<unknown> };
      await w.closed;
      w.alice.send({ conversationId: "c2c:alice:bob", recipientId: "bob", kind: 1, content: new TextEncoder().encode("back again") });
      await w.resumed;
    });
    await page.waitForFunction(() => (window as unknown as { messages: string[] }).messages.length === 2, undefined, { timeout: 10_000 });
    await waitFor(() => bobGot.length === 2, "bob got the message queued during the outage");

    const seen = await page.evaluate(async () => {
      const w = window as unknown as { alice: SyncwireClient; events: string[]; messages: string[]; syncwire: typeof import("../../src/index.js") };
      await w.alice.quiet();
      return { messages: w.messages, events: w.events, key: w.syncwire.formatSyncKey(w.alice.syncKey) };
    });
    expect(seen.messages).toEqual(["hello, browser", "are you still there?"]);
    expect(bobGot).toEqual(["hello from Chromium", "back again"]);
    expect(seen.events).toEqual(expect.arrayContaining(["state:connecting", "state:handshaking", "state:open", "transport-closed", "reconnecting", "state:waiting"]));
    expect(seen.key).toBe(formatSyncKey(await server.stores.log.head("alice")));
  });

  test("a short-link sync over the browser's fetch (CORS from the page's origin)", { timeout: 20_000 }, async () => {
    const synced = await page.evaluate(async (url) => {
      const { ShortLinkClient } = (window as unknown as { syncwire: typeof import("../../src/index.js") }).syncwire;
      const phone = new ShortLinkClient({ url, engine: { clientId: "browser-short", token: "alice", userId: "alice" }, reconnect: { initialMs: 50, maxMs: 500 } });
      try {
        const { messages } = await phone.sync();
        return messages.map((m) => new TextDecoder().decode(m.content));
      } finally {
        phone.close();
      }
    }, addresses.http!.url);
    // The short-link device has its own key: it gets alice's whole log, her own messages included.
    expect(synced).toEqual(["hello from Chromium", "hello, browser", "are you still there?", "back again"]);
  });
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
