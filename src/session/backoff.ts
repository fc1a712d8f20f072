/**
 * Exponential backoff with jitter: how long to wait before attempt `n + 1` after `n` failures. The
 * client engine times its retransmissions with it (docs/PROTOCOL.md §11.4: 3 s, ×2, ±20 %), and the
 * transport adapters time their reconnects with it.
 *
 * Pure: the randomness comes in as a function, so a test passes a constant and gets exact deadlines
 * (`random` returning 0.5 means "no jitter"), and a simulation passes a seeded generator.
 *
 * Why jitter: a server restart drops thousands of links at once; clients that all wait exactly 1 s, 2 s,
 * 4 s reconnect in synchronised waves. Spreading each wait uniformly over ±`jitter` of its nominal value
 * breaks the waves up.
 */

/** How the waits grow. */
export interface BackoffPolicy {
  /** The wait after the first failure (attempt 0), in ms. A finite number ≥ 0. */
  initialMs: number;
  /** Each further attempt multiplies the wait by this. Default 2; a finite number ≥ 1. */
  factor?: number;
  /**
   * The wait is drawn uniformly from nominal × (1 − jitter) … nominal × (1 + jitter). Default 0.2
   * (±20 %); from 0 (no jitter) to 1.
   */
  jitter?: number;
  /** Upper bound of the nominal wait (before jitter). Default no bound. A number ≥ `initialMs`. */
  maxMs?: number;
}

/**
 * The wait before the next attempt after `attempt` failures: `min(initialMs × factor^attempt, maxMs)`,
 * spread by ±`jitter` with `random()`.
 *
 * Example: `backoffDelay(2, { initialMs: 3000 }, () => 0.5)` is 12000 (3 s × 2², no jitter);
 * with `Math.random` it lies between 9600 and 14400.
 *
 * @param attempt failures so far: 0 for the wait after the first failure. An integer ≥ 0.
 * @param random returns a number in [0, 1), like `Math.random`; 0.5 gives the nominal wait exactly.
 * @returns a whole number of milliseconds ≥ 0 (rounded to the nearest ms).
 * @throws RangeError if `attempt` is not an integer ≥ 0, a policy field is out of its range, or
 *   `random()` returns something outside [0, 1).
 * @throws TypeError if `random` is not a function.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be an integer ≥ 0, got ${attempt}`);
  checkBackoffPolicy(policy);
  if (typeof random !== "function") throw new TypeError("random must be a function returning a number in [0, 1)");
  const factor = policy.factor ?? 2;
  const jitter = policy.jitter ?? 0.2;
  const maxMs = policy.maxMs ?? Infinity;
  // factor^attempt overflows to Infinity for large attempts; min() with maxMs (or Infinity) still holds.
  const nominal = Math.min(policy.initialMs * factor ** attempt, maxMs);
  const r = random();
  if (!(r >= 0 && r < 1)) throw new RangeError(`random() must return a number in [0, 1), got ${r}`);
  const wait = nominal * (1 + jitter * (2 * r - 1));
  if (!Number.isFinite(wait)) throw new RangeError(`the wait after attempt ${attempt} is not finite: give the policy a maxMs`);
  return Math.round(wait);
}

/**
 * Checks a policy once (the engine does so at construction, so a bad option fails early).
 * @throws RangeError naming the field that is out of range.
 * @throws TypeError if `policy` is not an object.
 */
export function checkBackoffPolicy(policy: BackoffPolicy): void {
  if (policy === null || typeof policy !== "object") throw new TypeError("policy must be an object");
  const { initialMs, factor = 2, jitter = 0.2, maxMs = Infinity } = policy;
  if (typeof initialMs !== "number" || !Number.isFinite(initialMs) || initialMs < 0) {
    throw new RangeError(`initialMs must be a finite number ≥ 0, got ${initialMs}`);
  }
  if (typeof factor !== "number" || !Number.isFinite(factor) || factor < 1) throw new RangeError(`factor must be a finite number ≥ 1, got ${factor}`);
  if (typeof jitter !== "number" || !(jitter >= 0 && jitter <= 1)) throw new RangeError(`jitter must be a number from 0 to 1, got ${jitter}`);
  if (typeof maxMs !== "number" || !(maxMs >= initialMs)) throw new RangeError(`maxMs must be a number ≥ initialMs (${initialMs}), got ${maxMs}`);
}
