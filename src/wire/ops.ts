import { MAX_U32 } from "./bytes.js";

/**
 * Operation codes carried in header bytes 8–11.
 *
 * 2, 3, 7, 8 and 9 keep the numbers goim and Bilibili's live service use (heartbeat, heartbeat reply,
 * auth, auth reply, raw batch), so their frames read naturally in our tools. 0, 1 and 16–999 are
 * reserved; 1000 and up belong to applications and are never interpreted by syncwire.
 */
export const Op = {
  HEARTBEAT: 2,
  HEARTBEAT_ACK: 3,
  SEND: 4,
  ACK: 5,
  DISCONNECT: 6,
  HELLO: 7,
  WELCOME: 8,
  BATCH: 9,
  NOTIFY: 10,
  SYNC: 11,
  SYNC_RESULT: 12,
  SYNC_COMMIT: 13,
  CHUNK: 14,
  CHUNK_ACK: 15,
} as const;

/** A protocol op defined by this version of syncwire. Decoded frames carry any `number` (unknown ops pass through). */
export type Op = (typeof Op)[keyof typeof Op];

/** The first op number that belongs to applications. */
export const FIRST_APPLICATION_OP = 1000;

const NAMES: readonly (string | undefined)[] = (() => {
  const names: (string | undefined)[] = [];
  for (const [name, value] of Object.entries(Op)) names[value] = name;
  return names;
})();

/**
 * A readable name for an op: `"SEND"` for defined ops, `"APPLICATION(1234)"` for ops ≥ 1000 and
 * `"RESERVED(n)"` for everything else (0, 1, 16–999, or a value that is not a u32).
 * @returns a fresh string; never throws.
 */
export function opName(op: number): string {
  const name = NAMES[op];
  if (name !== undefined) return name;
  if (isApplicationOp(op)) return `APPLICATION(${op})`;
  return `RESERVED(${op})`;
}

/** True for the ops this version of syncwire defines (2–15). */
export function isKnownOp(op: number): op is Op {
  return NAMES[op] !== undefined;
}

/** True for application ops: integers from 1000 to 2^32 − 1, carried as opaque bytes. */
export function isApplicationOp(op: number): boolean {
  return Number.isInteger(op) && op >= FIRST_APPLICATION_OP && op <= MAX_U32;
}
