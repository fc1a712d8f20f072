/**
 * Test support for the transports: servers and clients on loopback that a test registers and `afterEach`
 * stops (bounded), a throwaway self-signed certificate made with openssl, and small helpers to wait for
 * conditions and read messages.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { MessageKind, syncKeyEquals, type ClientEngineOptions, type MessagePacket, type SyncKey } from "../../src/index.js";
import type { SyncwireClient, SyncwireClientOptions } from "../../src/web/index.js";
import { createClient, SyncwireServer, tokenAuthenticator, type CreateClientOptions, type SyncwireServerOptions } from "../../src/node/index.js";

export const LOOPBACK = "127.0.0.1";

/** A fixed reconnect policy that keeps tests fast: 20 ms, ×2, up to 200 ms. */
export const FAST_RECONNECT = { initialMs: 20, factor: 2, jitter: 0.2, maxMs: 200 } as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const text = (s: string): Uint8Array => encoder.encode(s);
export const textOf = (m: MessagePacket): string => decoder.decode(m.content);

/** A one-to-one conversation id, the same whoever names it first. */
export function conversation(a: string, b: string): string {
  return `c2c:${[a, b].sort().join(":")}`;
}

/** A TEXT message from `from` to `to`. */
export function textMessage(from: string, to: string, body: string) {
  return { conversationId: conversation(from, to), recipientId: to, kind: MessageKind.TEXT, content: text(body) };
}

/**
 * Polls `condition` every 10 ms.
 * @throws Error saying `what` if it is not true within `timeoutMs`.
 */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A client and what it has seen, for assertions. */
export interface TrackedClient {
  readonly client: SyncwireClient;
  readonly user: string;
  /** Every message handed over, in order. */
  readonly messages: MessagePacket[];
  /** Event types in order. */
  readonly events: string[];
}

/** Servers and clients of one test; `stop()` ends them all (afterEach calls it). */
export class Harness {
  readonly servers: SyncwireServer[] = [];
  readonly clients: TrackedClient[] = [];

  /** A started server on loopback (any port) with the token-is-user authentication unless given. */
  async server(options: Partial<SyncwireServerOptions> & Pick<SyncwireServerOptions, "tcp" | "tls" | "ws" | "http"> = {}): Promise<SyncwireServer> {
    const server = new SyncwireServer({ authenticate: tokenAuthenticator(), ...options } as SyncwireServerOptions);
    this.servers.push(server);
    await server.listen();
    return server;
  }

  /** A started client for `url`, logged in as `user` (token = user id), tracking its messages and events. */
  client(url: string, user: string, options: Omit<Partial<CreateClientOptions>, "engine"> & { engine?: Partial<ClientEngineOptions> } = {}): TrackedClient {
    const client = createClient({
      reconnect: FAST_RECONNECT,
      ...options,
      url,
      engine: { clientId: `${user}-device`, token: user, userId: user, ...options.engine } as SyncwireClientOptions["engine"],
      start: false,
    });
    const tracked: TrackedClient = { client, user, messages: [], events: [] };
    client.on("*", (event) => {
      tracked.events.push(event.type);
      if (event.type === "message") tracked.messages.push(event.message);
    });
    this.clients.push(tracked);
    if (options.start !== false) client.start();
    return tracked;
  }

  /** Stops every client, then every server (bounded: the servers drop links after 1 s). */
  async stop(): Promise<void> {
    for (const { client } of this.clients.splice(0)) client.close();
    await Promise.all(this.servers.splice(0).map((s) => s.close({ graceMs: 1000 })));
  }
}

/** A harness whose clients and servers are stopped after each test of the calling file. */
export function useHarness(): Harness {
  const harness = new Harness();
  afterEach(() => harness.stop(), 15_000);
  return harness;
}

/** True when `client`'s SyncKey equals the server's head of the user's log. */
export async function keyMatchesServer(server: SyncwireServer, user: string, key: SyncKey): Promise<boolean> {
  return syncKeyEquals(key, await server.stores.log.head(user));
}

let certificate: { cert: string; key: string } | undefined;

/**
 * A throwaway self-signed certificate for 127.0.0.1, ::1 and localhost (test-only: made with openssl in a
 * temp dir, removed at once, never written to the repository). Made once per test file.
 */
export function testCertificate(): { cert: string; key: string } {
  if (certificate !== undefined) return certificate;
  const dir = mkdtempSync(join(tmpdir(), "syncwire-cert-"));
  try {
    execFileSync(
      "openssl",
      [
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost",
        "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
      ],
      { stdio: "ignore", timeout: 20_000 },
    );
    certificate = { cert: readFileSync(join(dir, "cert.pem"), "utf8"), key: readFileSync(join(dir, "key.pem"), "utf8") };
    return certificate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
