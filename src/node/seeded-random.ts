/**
 * A small seeded generator for the fault proxy's drop decisions and the tests: mulberry32 (a well-known 32-bit
 * generator, plenty for coin flips), one stream per link and direction so concurrent
 * links never disturb each other's sequence.
 */

/** Mixes a 32-bit value (murmur3's finaliser): nearby seeds give unrelated states. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85eb_ca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2_ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A generator of numbers in [0, 1) for the stream `(seed, ...keys)`: the same arguments always give the
 * same sequence.
 * @param seed any integer (taken modulo 2^32).
 * @param keys integers that name the stream (a link number, a direction index).
 * @returns a fresh function; never throws.
 */
export function seededRandom(seed: number, ...keys: readonly number[]): () => number {
  let state = mix32(seed >>> 0);
  for (const key of keys) state = mix32(state ^ mix32((key >>> 0) + 0x9e37_79b9));
  return mulberry32(state);
}

/**
 * mulberry32 started at `state` as given (no mixing): numbers in [0, 1), the same sequence for the same
 * state. The tests' seeded networks use it directly, so a seed printed by a failing run replays as is.
 * @param state any integer (taken modulo 2^32).
 * @returns a fresh function; never throws.
 */
export function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b_79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
