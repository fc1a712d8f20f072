/**
 * Request numbering. A sender numbers its requests 1, 2, 3, …; after 2^32 − 1 it wraps to 1, because
 * seq 0 is reserved for unsolicited server frames (NOTIFY). Replies echo the seq
 * of the frame they answer.
 */

import { MAX_U32 } from "./bytes.js";

/** Largest seq: the field is a u32. */
export const MAX_SEQ = MAX_U32;

/**
 * The seq after `seq`: `seq + 1`, wrapping from 2^32 − 1 (and from 0, "no request yet") to 1.
 * @throws RangeError if `seq` is not an integer from 0 to 2^32 − 1.
 */
export function nextSeq(seq: number): number {
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) {
    throw new RangeError(`seq must be an integer from 0 to ${MAX_SEQ}, got ${seq}`);
  }
  return seq === MAX_SEQ ? 1 : seq + 1;
}
