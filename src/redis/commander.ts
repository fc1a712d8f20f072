/**
 * The one way the Redis stores talk to Redis: a command, or a Lua script, routed by the key it touches,
 * through the official client (node-redis) — a standalone client or a Cluster client. No RESP is
 * written here; node-redis encodes, pipelines (commands issued in the same tick share one write) and
 * decodes.
 *
 * Replies are decoded with one type mapping: bulk strings as `Buffer` (message bytes stay binary-safe),
 * integers as decimal strings (64-bit counters stay exact). Scripts run by EVALSHA; after a Redis
 * restart (or a SCRIPT FLUSH) the server answers NOSCRIPT and the script is sent whole with EVAL once,
 * which loads it again.
 *
 * Every command carries `commandTimeoutMs`: a Redis that hangs (rather than closing the connection)
 * makes store calls reject after that long instead of holding requests forever. A command that timed out
 * may still have run; every store write is idempotent, and the engine then answers nothing (the client
 * retries), so that is safe.
 */
import { createHash } from "node:crypto";
import { RESP_TYPES, type RedisArgument } from "redis";

/** A pub/sub listener in buffer mode: the message and channel as bytes. */
export type BufferListener = (message: Buffer, channel: Buffer) => unknown;

/** Command options the stores pass to node-redis. */
export interface CommandOptionsLike {
  typeMapping?: object;
  timeout?: number;
}

/**
 * The parts of a standalone node-redis client (`createClient()` from `redis`, RESP 2 or 3) the stores use.
 * Any `RedisClientType` satisfies it.
 */
export interface RedisClientLike {
  sendCommand(args: ReadonlyArray<RedisArgument>, options?: CommandOptionsLike): Promise<unknown>;
  duplicate(): RedisClientLike;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  readonly isOpen: boolean;
  readonly isReady: boolean;
  on(event: "error" | "ready" | "end" | "reconnecting", listener: (...args: any[]) => void): unknown;
  sSubscribe(channels: string, listener: BufferListener, bufferMode: true): Promise<void>;
  sUnsubscribe(channels: string): Promise<void>;
  subscribe(channels: string, listener: BufferListener, bufferMode: true): Promise<void>;
  unsubscribe(channels: string): Promise<void>;
}

/**
 * The parts of a node-redis Cluster client (`createCluster()` from `redis`) the stores use. Any
 * `RedisClusterType` satisfies it.
 */
export interface RedisClusterLike {
  sendCommand(firstKey: RedisArgument | undefined, isReadonly: boolean | undefined, args: ReadonlyArray<RedisArgument>, options?: CommandOptionsLike): Promise<unknown>;
  duplicate(): RedisClusterLike;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  readonly isOpen: boolean;
  on(event: "error", listener: (...args: any[]) => void): unknown;
  sSubscribe(channels: string, listener: BufferListener, bufferMode: true): Promise<void>;
  sUnsubscribe(channels: string): Promise<void>;
  subscribe(channels: string, listener: BufferListener, bufferMode: true): Promise<void>;
  unsubscribe(channels: string): Promise<void>;
}

/** A Lua script with its SHA-1 (for EVALSHA). */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha1: string;
}

/** Wraps Lua source as a {@link LuaScript}. Never throws. */
export function luaScript(name: string, source: string): LuaScript {
  return { name, source, sha1: createHash("sha1").update(source).digest("hex") };
}

const TYPE_MAPPING = {
  [RESP_TYPES.BLOB_STRING]: Buffer,
  [RESP_TYPES.NUMBER]: String,
} as const;

/** Runs commands and scripts on a client or a cluster. See the theory of operation above. */
export class RedisCommander {
  readonly #send: (routingKey: string | undefined, args: readonly RedisArgument[], options: CommandOptionsLike) => Promise<unknown>;
  readonly #options: CommandOptionsLike;

  /**
   * @param target the connection: `{ client }` or `{ cluster }`.
   * @param commandTimeoutMs how long one command may take (0: no limit).
   */
  constructor(target: { client: RedisClientLike } | { cluster: RedisClusterLike }, commandTimeoutMs: number) {
    this.#options = commandTimeoutMs > 0 ? { typeMapping: TYPE_MAPPING, timeout: commandTimeoutMs } : { typeMapping: TYPE_MAPPING };
    if ("cluster" in target) {
      const cluster = target.cluster;
      this.#send = (key, args, options) => cluster.sendCommand(key, false, args, options);
    } else {
      const client = target.client;
      this.#send = (_key, args, options) => client.sendCommand(args, options);
    }
  }

  /**
   * One command. `routingKey` is a key (or sharded channel) the command touches: a Cluster client sends
   * it to the node serving that key's slot.
   * @returns the reply, with bulk strings as Buffers and integers as decimal strings.
   * @throws (rejects) whatever node-redis rejects with (ErrorReply, ClientOfflineError, TimeoutError, …).
   */
  send(routingKey: string | undefined, args: readonly RedisArgument[]): Promise<unknown> {
    return this.#send(routingKey, args, this.#options);
  }

  /**
   * Runs `script` with `keys` (all in one slot; the first routes it) and `args`: EVALSHA, and EVAL if
   * the server does not have the script (NOSCRIPT).
   * @returns the script's reply, mapped as for {@link send}.
   * @throws (rejects) whatever node-redis rejects with, the script's own errors included.
   */
  async eval(script: LuaScript, keys: readonly string[], args: readonly RedisArgument[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.#send(keys[0], ["EVALSHA", script.sha1, ...tail], this.#options);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return this.#send(keys[0], ["EVAL", script.source, ...tail], this.#options);
    }
  }
}

/**
 * Closes a node-redis connection gracefully (pending replies are awaited) but for at most `graceMs`;
 * then, or if closing fails (Redis is unreachable and the client keeps reconnecting), destroys it.
 * Never rejects.
 */
export async function closeConnection(connection: { close(): Promise<void>; destroy(): void }, graceMs = 2_000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), graceMs);
  });
  try {
    const outcome = await Promise.race([connection.close().then(() => "closed" as const), late]);
    if (outcome === "late") connection.destroy();
  } catch {
    try {
      connection.destroy();
    } catch {
      // already gone
    }
  } finally {
    clearTimeout(timer);
  }
}

/** A reply value as text (Buffer or string); "" for null. Never throws. */
export function text(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  return String(value);
}

/** A reply that must be an array. @throws RedisStoreError CORRUPT_REPLY otherwise. */
export function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new RedisStoreError("CORRUPT_REPLY", `${what}: expected an array reply, got ${typeof value}`);
  return value;
}

/** Stable codes of {@link RedisStoreError}. */
export type RedisStoreErrorCode =
  /** Redis answered something the stores never write (another program changed the keys, or a bug). */
  | "CORRUPT_REPLY"
  /** The stores are closed (`close()` was called). */
  | "CLOSED";

/** An error of the Redis stores themselves (Redis's and node-redis's own errors pass through unchanged). */
export class RedisStoreError extends Error {
  /** Stable code; switch on this, not on the message. */
  readonly code: RedisStoreErrorCode;

  /** @param message what went wrong; the code is appended for `message`. */
  constructor(code: RedisStoreErrorCode, message: string) {
    super(`${message} (${code})`);
    this.name = "RedisStoreError";
    this.code = code;
  }
}
