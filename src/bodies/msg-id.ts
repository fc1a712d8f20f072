/**
 * Client message ids: 64-bit, unique per sender, made without coordination.
 *
 * Layout (most significant first): 41 bits of milliseconds since 2024-01-01T00:00:00Z (good until
 * 2093), then 23 low bits. The first id of a millisecond takes 23 random bits; further ids in the same
 * millisecond — or after the clock stepped back — are the previous id + 1. So one generator's ids
 * strictly increase and never repeat, whatever the clock does.
 *
 * Collision argument (two generators of one sender: two devices, or a restart after the clock went
 * back): ids can only meet if both generators are in the same millisecond with overlapping runs; the
 * random start makes that chance about (n₁ + n₂) / 2^23 per shared millisecond for runs of n ids.
 * A sender sending 10^6 messages from each of two devices over ten years (3 × 10^11 ms) shares about
 * 3 milliseconds, so expects about 3 × 2 / 2^23 ≈ 7 × 10^-7 collisions in that time. The server dedupes
 * on (sender, client_msg_id), so a collision shows up as a DUPLICATE ack, never as a lost or merged
 * message across senders (ids need only be unique per sender).
 */

/** Milliseconds since the Unix epoch of the id epoch, 2024-01-01T00:00:00Z. */
export const CLIENT_MSG_ID_EPOCH_MS = 1_704_067_200_000;
const RANDOM_BITS = 23n;
const MAX_TIME = 2 ** 41 - 1;

/** Sources of time and randomness, injectable for tests and for platforms without `crypto`. */
export interface ClientMsgIdSources {
  /** Milliseconds since the Unix epoch; default `Date.now`. */
  now?: () => number;
  /** 23 random bits (an integer in 0…2^23 − 1); default `crypto.getRandomValues`. */
  random23?: () => number;
}

function cryptoRandom23(): number {
  const word = new Uint32Array(1);
  globalThis.crypto.getRandomValues(word);
  return word[0]! >>> 9;
}

/**
 * A generator of client message ids with its own state (see the module doc for the layout and the
 * collision argument). Use one per process; {@link newClientMsgId} is the shared one.
 * @returns a function returning a fresh `bigint` id on each call; that function throws RangeError if
 *   the clock is before 2024 or after 2093, or `random23` returns a value that is not 23 bits.
 */
export function createClientMsgIdGenerator(sources: ClientMsgIdSources = {}): () => bigint {
  const now = sources.now ?? Date.now;
  const random23 = sources.random23 ?? cryptoRandom23;
  let last = -1n;
  let lastMs = -1;
  return () => {
    const ms = Math.floor(now()) - CLIENT_MSG_ID_EPOCH_MS;
    if (!(ms >= 0 && ms <= MAX_TIME)) throw new RangeError(`clock ${now()} is outside the id range (2024…2093)`);
    let id: bigint;
    if (ms > lastMs) {
      const r = random23();
      if (!Number.isInteger(r) || r < 0 || r >= 2 ** 23) throw new RangeError(`random23 must return 23 bits, got ${r}`);
      id = (BigInt(ms) << RANDOM_BITS) | BigInt(r);
      lastMs = ms;
      if (id <= last) id = last + 1n;
    } else {
      id = last + 1n;
    }
    last = id;
    return id;
  };
}

let shared: (() => bigint) | undefined;

/**
 * A new client message id for MessagePacket.client_msg_id: unique per sender without coordination
 * (see the module doc). Uses `Date.now` and `crypto.getRandomValues` (global in Node ≥ 19 and browsers).
 * @returns a fresh u64 `bigint`.
 * @throws RangeError if the clock is outside 2024…2093.
 */
export function newClientMsgId(): bigint {
  shared ??= createClientMsgIdGenerator();
  return shared();
}
