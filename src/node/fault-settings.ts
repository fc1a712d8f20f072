/**
 * The faults a fault proxy injects (`createFaultProxy`), how they are set per direction, and their
 * validation. Node-only (exported from `syncwire/node`), but nothing here touches a socket.
 */

/** A direction of a proxied link: `"up"` is client → server (upstream), `"down"` server → client. */
export type Direction = "up" | "down";

/** Both directions, up first. */
export const DIRECTIONS: readonly Direction[] = ["up", "down"];

/**
 * What the proxy does to the bytes of one direction. Every field is optional; absent means "no such
 * fault". Faults apply in this order: whole frames are dropped (`drop`), the kill limits are counted,
 * what is forwarded waits `delayMs`, is gathered for `mergeMs`, then cut into `split`-byte writes.
 */
export interface Faults {
  /**
   * Cut every write into writes of at most this many bytes (an integer ≥ 1), each in its own turn of
   * the event loop with TCP_NODELAY, so the peer's reads see them apart (TCP may still merge them; the
   * proxy cannot prevent that). `1` gives the peer one byte per read.
   */
  split?: number;
  /**
   * Merged writes: hold what is forwarded for this many ms after the first byte waiting (the delay
   * included), then write all of it in one `writev`, so frames that arrived apart reach the peer in one
   * read. 0 or absent: each frame (or chunk) is its own write.
   */
  mergeMs?: number;
  /** Latency: hold every frame (chunk) this many ms after it arrived before forwarding it. Order is kept. */
  delayMs?: number;
  /**
   * Drop whole frames with this probability (0…1), drawn per frame from the proxy's seeded generator:
   * the same `seed` drops the same frames of the same link. Needs framing; bytes forwarded unframed
   * (after a framing error) are never dropped.
   */
  drop?: number;
  /**
   * Kill the link once this many frames have arrived in this direction (dropped ones included) since the
   * fault was set or the link opened (an integer ≥ 1): the last of them is forwarded (unless dropped),
   * then both sockets are closed. Needs framing.
   */
  killAfterFrames?: number;
  /**
   * Kill the link once this many bytes have been forwarded in this direction since the fault was set or
   * the link opened: exactly that many go out (cutting a frame if the count ends inside one; `0`: none),
   * then both sockets are closed.
   */
  killAfterBytes?: number;
}

/**
 * Faults for both directions: the top-level fields apply to both, and `up` / `down` override them
 * field by field for one direction. `{}` means no faults.
 *
 * @example `{ split: 1 }` (both ways), `{ delayMs: 20, down: { drop: 0.1 } }`, `{ up: { killAfterBytes: 100 } }`
 */
export interface FaultSettings extends Faults {
  up?: Faults;
  down?: Faults;
}

/** One direction's faults with their defaults applied: 0 (or `Infinity` for the kill limits) means none. */
export interface ResolvedFaults {
  readonly split: number;
  readonly mergeMs: number;
  readonly delayMs: number;
  readonly drop: number;
  readonly killAfterFrames: number;
  readonly killAfterBytes: number;
}

/** No faults. */
export const NO_FAULTS: ResolvedFaults = Object.freeze({ split: 0, mergeMs: 0, delayMs: 0, drop: 0, killAfterFrames: Infinity, killAfterBytes: Infinity });

/** The longest wait a Node timer takes (2^31 − 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 0x7fff_ffff;

function checkInteger(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}

function checkMs(name: string, value: unknown): number {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${typeof value}`);
  if (!Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) throw new RangeError(`${name} must be a number of ms from 0 to ${MAX_TIMER_MS}, got ${value}`);
  return value;
}

/** Validates one `Faults` object (of a `FaultSettings`, or its `up` / `down`). */
function checkFaults(where: string, faults: unknown): Faults {
  if (faults === null || typeof faults !== "object") throw new TypeError(`${where} must be an object, got ${faults === null ? "null" : typeof faults}`);
  const f = faults as Record<string, unknown>;
  const name = (key: string): string => (where === "faults" ? key : `${where}.${key}`);
  if (f.split !== undefined) checkInteger(name("split"), f.split, 1, Number.MAX_SAFE_INTEGER);
  if (f.mergeMs !== undefined) checkMs(name("mergeMs"), f.mergeMs);
  if (f.delayMs !== undefined) checkMs(name("delayMs"), f.delayMs);
  if (f.drop !== undefined) {
    if (typeof f.drop !== "number") throw new TypeError(`${name("drop")} must be a number, got ${typeof f.drop}`);
    if (!(f.drop >= 0 && f.drop <= 1)) throw new RangeError(`${name("drop")} must be a probability from 0 to 1, got ${f.drop}`);
  }
  if (f.killAfterFrames !== undefined) checkInteger(name("killAfterFrames"), f.killAfterFrames, 1, Number.MAX_SAFE_INTEGER);
  if (f.killAfterBytes !== undefined) checkInteger(name("killAfterBytes"), f.killAfterBytes, 0, Number.MAX_SAFE_INTEGER);
  return faults as Faults;
}

/**
 * Resolves `settings` into the faults of each direction.
 * @returns fresh frozen objects, one per direction.
 * @throws TypeError if `settings` (or its `up` / `down`) is not an object, or a field is not a number;
 *   RangeError if a field is out of range (see {@link Faults}).
 */
export function resolveFaults(settings: FaultSettings): Record<Direction, ResolvedFaults> {
  const both = checkFaults("faults", settings);
  const resolved = {} as Record<Direction, ResolvedFaults>;
  for (const direction of DIRECTIONS) {
    const own = settings[direction] === undefined ? {} : checkFaults(`faults.${direction}`, settings[direction]);
    const pick = <K extends keyof Faults>(key: K): Faults[K] => (own[key] !== undefined ? own[key] : both[key]);
    resolved[direction] = Object.freeze({
      split: pick("split") ?? 0,
      mergeMs: pick("mergeMs") ?? 0,
      delayMs: pick("delayMs") ?? 0,
      drop: pick("drop") ?? 0,
      killAfterFrames: pick("killAfterFrames") ?? Infinity,
      killAfterBytes: pick("killAfterBytes") ?? Infinity,
    });
  }
  return resolved;
}
