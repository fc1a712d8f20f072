/**
 * Command-line options more than one command takes: integers checked digit by digit, the profile, and
 * how frames are shown (`--json`, `--no-hex`, `--no-body`, `--color`, `--hex-bytes`). `dump` and
 * `proxy` print frames the same way, so they read these options the same way.
 */
import { UsageError } from "./errors.js";
import { DEFAULT_HEX_BYTES } from "./limits.js";
import { createPaint } from "./paint.js";
import { isProfileName, PROFILE_NAMES, type ProfileName } from "./profiles/profile.js";
import type { RenderOptions } from "./render.js";

/**
 * An integer option in `[min, max]`, digits only (`Number()` would also take "1e3", "0x10" and " 7 ").
 * With `zeroMeans`, 0 is accepted too and stands for that value.
 * @throws UsageError for anything else.
 */
export function integerOption(name: string, value: string | undefined, fallback: number, max: number, zeroMeans?: number): number {
  if (value === undefined) return fallback;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (n === 0 && zeroMeans !== undefined) return zeroMeans;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new UsageError(`--${name} needs an integer from ${zeroMeans === undefined ? 1 : 0} to ${max}, got '${value}'`);
  return n;
}

/**
 * `--profile`'s value, checked.
 * @throws UsageError for a name that is not a profile's.
 */
export function profileOption(value: string): ProfileName {
  if (!isProfileName(value)) throw new UsageError(`unknown profile '${value}' (one of ${PROFILE_NAMES.join(", ")})`);
  return value;
}

/** The `parseArgs` options of how frames are shown. */
export const RENDER_ARGS = {
  json: { type: "boolean", default: false },
  "no-hex": { type: "boolean", default: false },
  "no-body": { type: "boolean", default: false },
  color: { type: "boolean" },
  "no-color": { type: "boolean" },
  "hex-bytes": { type: "string" },
} as const;

/** What `parseArgs` gives for {@link RENDER_ARGS}. */
export interface RenderArgs {
  readonly json: boolean;
  readonly "no-hex": boolean;
  readonly "no-body": boolean;
  readonly color?: boolean | undefined;
  readonly "no-color"?: boolean | undefined;
  readonly "hex-bytes"?: string | undefined;
}

/**
 * How the text form shows frames: colour when stdout is a terminal unless `--color`/`--no-color` say
 * otherwise, never with `--json`.
 * @throws UsageError for a bad `--hex-bytes`.
 */
export function renderOptions(values: RenderArgs, stdoutIsTTY: boolean): RenderOptions {
  const color = values["no-color"] === true ? false : values.color === true ? true : stdoutIsTTY;
  return {
    hex: !values["no-hex"],
    hexBytes: integerOption("hex-bytes", values["hex-bytes"], DEFAULT_HEX_BYTES, Number.MAX_SAFE_INTEGER, 0),
    body: !values["no-body"],
    paint: createPaint(color && !values.json),
  };
}
