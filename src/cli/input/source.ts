/**
 * Where `dump` and `encode` get their bytes: the file named on the command line, or stdin (`-`, or no
 * name when stdin is not a terminal).
 *
 * `dump` decides the form of stdin as early as it can ({@link openInput}): the first byte that pasted
 * text never holds shows raw frames, which are then decoded as they arrive (a live link never ends);
 * text is decided from its first {@link DETECT_BYTES} and read whole (hex and base64 are pasted, not
 * streamed).
 */
import { readFileSync } from "node:fs";
import { concatBytes } from "../concat.js";
import { UsageError } from "../errors.js";
import { DETECT_BYTES, detectInput, isTextByte, type InputKind } from "./detect.js";

/** stdin as the CLI reads it (Node's `process.stdin`, or chunks in a test). */
export type Stdin = AsyncIterable<Uint8Array> & { readonly isTTY?: boolean };

/** An input whose form is known. */
export interface OpenedInput {
  readonly kind: InputKind;
  /** The bytes read so far: all of a file, the first of stdin. */
  readonly head: Uint8Array;
  /** stdin's bytes still to come, or `undefined` when `head` is everything. */
  readonly rest: AsyncIterator<Uint8Array> | undefined;
}

function readFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`cannot read '${path}': ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** True for "read stdin"; throws when that would wait on a terminal nobody meant to type into. */
function isStdin(path: string | undefined, stdin: Stdin): boolean {
  if (path === undefined && stdin.isTTY === true) throw new UsageError("no input: give a FILE, or '-' to read stdin");
  return path === undefined || path === "-";
}

async function readAll(source: AsyncIterator<Uint8Array>, first: Uint8Array[] = []): Promise<Uint8Array> {
  const parts = first;
  for (let next = await source.next(); next.done !== true; next = await source.next()) parts.push(next.value);
  return concatBytes(parts);
}

/**
 * Reads a whole input (for `encode`).
 * @returns the bytes (a fresh array, or the file's buffer).
 * @throws UsageError for a file that cannot be read, or no input named while stdin is a terminal.
 */
export async function readWholeInput(path: string | undefined, stdin: Stdin): Promise<Uint8Array> {
  return isStdin(path, stdin) ? readAll(stdin[Symbol.asyncIterator]()) : readFile(path!);
}

/**
 * Opens `dump`'s input and decides its form: `forced`, or a guess from the first bytes. On stdin only as
 * much is read as the guess needs.
 * @returns the form, the bytes read, and the rest of stdin still to read.
 * @throws UsageError as {@link readWholeInput}.
 */
export async function openInput(path: string | undefined, stdin: Stdin, forced: InputKind | undefined): Promise<OpenedInput> {
  if (!isStdin(path, stdin)) {
    const bytes = readFile(path!);
    return { kind: forced ?? detectInput(bytes.subarray(0, DETECT_BYTES)), head: bytes, rest: undefined };
  }
  const iterator = stdin[Symbol.asyncIterator]();
  const parts: Uint8Array[] = [];
  let read = 0;
  let ended = false;
  while (read < DETECT_BYTES) {
    const next = await iterator.next();
    if (next.done === true) {
      ended = true;
      break;
    }
    parts.push(next.value);
    read += next.value.byteLength;
    if (forced !== undefined || !next.value.every(isTextByte)) break;
  }
  const head = concatBytes(parts);
  return { kind: forced ?? detectInput(head.subarray(0, DETECT_BYTES)), head, rest: ended ? undefined : iterator };
}

/**
 * All the bytes of an opened input (reads the rest of stdin).
 * @returns a fresh array, or `input.head` when nothing is left to read.
 */
export async function readRest(input: OpenedInput): Promise<Uint8Array> {
  return input.rest === undefined ? input.head : readAll(input.rest, [input.head]);
}
