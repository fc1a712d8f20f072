/** Joining chunks for the CLI, where a whole input or a trailer is needed at once (never a hot path). */

/**
 * The bytes of `parts` end to end.
 * @returns a fresh array (one copy of every part).
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
