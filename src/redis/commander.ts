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
 * Every command is watched for `commandTimeoutMs`: a Redis that hangs (rather than closing the
 * connection) makes store calls reject after that long (RedisStoreError TIMEOUT) instead of holding
 * requests forever. A command that timed out may still have run; every store write is idempotent, and
 * the engine then answers nothing (the client retries), so that is safe. The watch is ours, and
 * node-redis's `timeout` option (5 s by default in node-redis 6) is set to 0 on every command: that one
 * arms an `AbortSignal.timeout` (a timer, an event listener, a DOMException) per command, which cost a
 * busy node about a seventh of its CPU (bench/redis.js). Here
 * every command in flight sits in one FIFO (they all have the same timeout, so deadlines come in order)
 * and one timer, armed for the oldest, rejects whatever is overdue.
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

/** A command in flight, watched for its deadline. */
interface Watched {
  readonly deadline: number;
  reject: ((error: Error) => void) | undefined;
}

/**
 * Rejects promises that have not settled `timeoutMs` after they were watched. One FIFO (deadlines are
 * in watch order: one timeout for all) and at most one timer, for the oldest entry still waiting.
 */
class DeadlineWatch {
  readonly #timeoutMs: number;
  #queue: Watched[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** `promise`, or a rejection with RedisStoreError TIMEOUT if it has not settled in time. Never throws. */
  watch<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Watched = { deadline: performance.now() + this.#timeoutMs, reject };
      this.#queue.push(entry);
      if (this.#timer === undefined) this.#arm(this.#timeoutMs);
      promise.then(
        (value) => {
          entry.reject = undefined;
          resolve(value);
        },
        (error: unknown) => {
          entry.reject = undefined;
          reject(error);
        },
      );
    });
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, Math.ceil(delay)));
    // A watch must never keep the process alive by itself.
    this.#timer.unref?.();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    const queue = this.#queue;
    let head = this.#head;
    for (; head < queue.length; head++) {
      const entry = queue[head]!;
      if (entry.reject === undefined) continue;
      if (entry.deadline > now) break;
      const reject = entry.reject;
      entry.reject = undefined;
      reject(new RedisStoreError("TIMEOUT", `Redis did not answer within ${this.#timeoutMs} ms`));
    }
    if (head === queue.length) {
      this.#queue = [];
      this.#head = 0;
      return;
    }
    // Compact now and then so the array does not grow with everything ever watched.
    if (head > 1024 && head * 2 > queue.length) {
      this.#queue = queue.slice(head);
      head = 0;
    }
    this.#head = head;
    this.#arm(this.#queue[head]!.deadline - now);
  }
}

/** Runs commands and scripts on a client or a cluster. See the theory of operation above. */
export class RedisCommander {
  readonly #send: (routingKey: string | undefined, args: readonly RedisArgument[]) => Promise<unknown>;
  readonly #watch: DeadlineWatch | undefined;
  readonly #clustered: boolean;
  readonly #coalesce: boolean;

  /**
   * @param target the connection: `{ client }` or `{ cluster }`.
   * @param commandTimeoutMs how long one command may take (0: no limit).
   * @param coalesce whether store calls of one event-loop turn share commands (coalesce.ts).
   */
  constructor(target: { client: RedisClientLike } | { cluster: RedisClusterLike }, commandTimeoutMs: number, coalesce = true) {
    // timeout 0 turns off node-redis's own per-command timer (its default is 5 s) for our watch.
    const options: CommandOptionsLike = { typeMapping: TYPE_MAPPING, timeout: 0 };
    this.#watch = commandTimeoutMs > 0 ? new DeadlineWatch(commandTimeoutMs) : undefined;
    this.#clustered = "cluster" in target;
    this.#coalesce = coalesce;
    if ("cluster" in target) {
      const cluster = target.cluster;
      this.#send = (key, args) => cluster.sendCommand(key, false, args, options);
    } else {
      const client = target.client;
      this.#send = (_key, args) => client.sendCommand(args, options);
    }
  }

  /** Most store calls one command may carry: `max`, or 1 with coalescing off. */
  batchLimit(max: number): number {
    return this.#coalesce ? max : 1;
  }

  /**
   * The coalescing group of a key (see coalesce.ts): on a Cluster the key's hash tag (what Redis
   * hashes to pick the slot), so one command touches one slot; on a single Redis "" (one group).
   */
  groupOf(key: string): string {
    if (!this.#clustered) return "";
    const open = key.indexOf("{");
    if (open < 0) return key;
    const close = key.indexOf("}", open + 1);
    return close <= open + 1 ? key : key.slice(open + 1, close);
  }

  #run(routingKey: string | undefined, args: readonly RedisArgument[]): Promise<unknown> {
    const reply = this.#send(routingKey, args);
    return this.#watch === undefined ? reply : this.#watch.watch(reply);
  }

  /**
   * One command. `routingKey` is a key (or sharded channel) the command touches: a Cluster client sends
   * it to the node serving that key's slot.
   * @returns the reply, with bulk strings as Buffers and integers as decimal strings.
   * @throws (rejects) RedisStoreError TIMEOUT after `commandTimeoutMs`; whatever node-redis rejects with
   *   (ErrorReply, ClientOfflineError, …).
   */
  send(routingKey: string | undefined, args: readonly RedisArgument[]): Promise<unknown> {
    return this.#run(routingKey, args);
  }

  /**
   * Runs `script` with `keys` (all in one slot; the first routes it) and `args`: EVALSHA, and EVAL if
   * the server does not have the script (NOSCRIPT).
   * @returns the script's reply, mapped as for {@link send}.
   * @throws (rejects) as {@link send}, the script's own errors included.
   */
  async eval(script: LuaScript, keys: readonly string[], args: readonly RedisArgument[]): Promise<unknown> {
    const command: RedisArgument[] = ["EVALSHA", script.sha1, String(keys.length)];
    for (const key of keys) command.push(key);
    for (const arg of args) command.push(arg);
    try {
      return await this.#run(keys[0], command);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      const whole = command.slice();
      whole[0] = "EVAL";
      whole[1] = script.source;
      return this.#run(keys[0], whole);
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
  | "CLOSED"
  /** Redis did not answer a command within `commandTimeoutMs`. */
  | "TIMEOUT";

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
