/**
 * The CLI's one error path. Every failure the input can cause is a coded error from one of four layers —
 * the wire core (`FrameError`), the bodies layer (`BodyError`), the peer profiles (`ProfileError`) and the
 * CLI's own input readers (`CliInputError`) — and each carries a stable `code`, a position and a bare
 * `reason`. The dump prints `reason` with the code and the stream offset as it counts them; no message
 * is taken apart again. Wrong usage is a {@link UsageError} (exit 2); anything else is a bug in syncwire.
 */
import { BodyError } from "../bodies/errors.js";
import { FrameError } from "../wire/errors.js";
import { CliInputError } from "./input/errors.js";
import { ProfileError } from "./profiles/errors.js";

/** An error the input caused: reported as "where and why", exit 1. */
export type CodedError = FrameError | BodyError | ProfileError | CliInputError;

/**
 * `error` when the input caused it.
 * @returns the error typed as a {@link CodedError}, or `undefined` for anything else (a usage error, a
 *   bug). Never throws.
 */
export function codedError(error: unknown): CodedError | undefined {
  return error instanceof FrameError || error instanceof BodyError || error instanceof ProfileError || error instanceof CliInputError
    ? error
    : undefined;
}

/** Wrong usage of the command line: one line on stderr with a hint, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
