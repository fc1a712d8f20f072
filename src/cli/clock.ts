/** How `syncwire proxy` shows when something happened: a wall clock in the text form, ISO 8601 in JSON. */

const two = (n: number): string => String(n).padStart(2, "0");

/**
 * `ms` (since the epoch) as local `HH:MM:SS.mmm`, like tcpdump's timestamps.
 * @returns a fresh string; never throws.
 */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

/**
 * `ms` (since the epoch) as an ISO 8601 UTC time with milliseconds, for JSON.
 * @returns a fresh string; never throws for a valid time.
 */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
