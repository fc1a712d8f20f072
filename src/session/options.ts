/**
 * Option checking shared by the session engines and the memory stores: caller misuse is a RangeError
 * naming the option, raised when the object is built (never later, inside a protocol step).
 */

/**
 * `value`, or `fallback` when it is undefined, checked to be an integer in `min … max`.
 * @returns the checked number.
 * @throws RangeError naming `name` if the value is not an integer in range.
 */
export function integerOption(name: string, value: number | undefined, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const chosen = value ?? fallback;
  if (typeof chosen !== "number" || !Number.isInteger(chosen) || chosen < min || chosen > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(chosen)}`);
  }
  return chosen;
}

/**
 * Checks a clock reading passed in by the caller.
 * @throws RangeError if `now` is not a finite number.
 */
export function checkNow(now: number): void {
  if (typeof now !== "number" || !Number.isFinite(now)) throw new RangeError(`now must be a finite number of milliseconds, got ${String(now)}`);
}

/** A map key for a pair of strings that no other pair produces (the first is length-prefixed). Never throws. */
export function pairKey(a: string, b: string): string {
  return `${a.length}:${a}${b}`;
}
