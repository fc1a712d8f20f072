/**
 * Encoding and decoding one protobuf message: every body message (and SyncKey) goes through the
 * hand-written reader and writer (fast-decode.ts, fast-encode.ts); any other schema through
 * protobuf-es, behind the validator (validate.ts). Both paths give the same values, the same bytes and
 * the same errors; protobuf-es remains the schema, the types and the reference, and encodes the values
 * the fast writers leave to it (see `Bail`).
 */
import { fromBinary, toBinary, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { BodyError } from "./errors.js";
import { BODY_OPS, bodyTypeNameOf } from "./body-table.js";
import { BODY_READERS, readSyncKey, type FastRead } from "./fast-decode.js";
import { Bail, BODY_WRITERS, writeSyncKey, type FastWrite } from "./fast-encode.js";
import { BodyReader } from "./reader.js";
import { checkMessage } from "./validate.js";
import { BodyWriter } from "./writer.js";

/** A message with a fast path: its reader and writer. */
interface FastCodec {
  readonly read: FastRead;
  readonly write: FastWrite;
}

/** Every message with a fast path, by type name: the body messages and SyncKey (which users encode alone). */
const FAST_BY_TYPE_NAME: ReadonlyMap<string, FastCodec> = new Map<string, FastCodec>([
  ...BODY_OPS.map((op): [string, FastCodec] => [bodyTypeNameOf(op)!, { read: BODY_READERS[op]!, write: BODY_WRITERS[op]! }]),
  ["syncwire.v1.SyncKey", { read: readSyncKey, write: writeSyncKey }],
]);

/** The last schema looked up and its entry: callers decode runs of one type, and this skips the map. */
let lastSchema: DescMessage | undefined;
let lastFast: FastCodec | undefined;

/** The hand-written reader and writer for `schema`, if it has them. */
function fastOf(schema: DescMessage): FastCodec | undefined {
  if (schema === lastSchema) return lastFast;
  const fast = FAST_BY_TYPE_NAME.get(schema.typeName);
  lastSchema = schema;
  lastFast = fast;
  return fast;
}

/** The shared scratch writer (see writer.ts for why sharing is safe). */
const WRITER = new BodyWriter();

/** True if `schema` has a hand-written fast path. Never throws. */
export function hasFastPath(schema: DescMessage): boolean {
  return fastOf(schema) !== undefined;
}

/**
 * Checks that `message` was built for `schema` (`create(schema, …)` or a decode).
 * @throws TypeError otherwise.
 */
export function checkMessageType(schema: DescMessage, message: unknown): void {
  const typeName = message !== null && typeof message === "object" ? (message as { $typeName?: unknown }).$typeName : undefined;
  if (typeName !== schema.typeName) {
    throw new TypeError(`expected a ${schema.typeName} message (from create()), got ${String(typeName ?? typeof message)}`);
  }
}

/**
 * Writes `message`'s encoding at the shared writer's position (after `begin()`). Internal: the frame
 * helpers use it to put a header in front without a second copy.
 * @returns false if the fast path declined (what was written since `begin()` is then dropped).
 */
export function writeFast(schema: DescMessage, message: MessageShape<DescMessage>): boolean {
  const fast = fastOf(schema);
  if (fast === undefined) return false;
  try {
    fast.write(WRITER, message as never);
    return true;
  } catch (error) {
    WRITER.abandon();
    if (error === Bail.it) return false;
    throw error;
  }
}

/** The scratch writer, for the frame helpers. @internal */
export function scratchWriter(): BodyWriter {
  return WRITER;
}

/**
 * Encodes one message: the fast path for every body message and SyncKey, protobuf-es `toBinary` for
 * other schemas (and for values the fast path leaves to protobuf-es). Byte-for-byte equal to `toBinary`.
 * @returns a new array holding only this encoding (bytes fields are copied in). For the fast-path
 *   messages it is a view of a pooled 64 KiB slab shared with other results, as with Node's
 *   `Buffer.allocUnsafe`: the bytes are yours, the `.buffer` is not (never transfer it).
 * @throws TypeError if `message` is not a `schema` message, or holds a value protobuf-es cannot encode
 *   (the original error is the `cause`).
 */
export function encodeProto<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Uint8Array {
  checkMessageType(schema, message);
  WRITER.begin();
  if (writeFast(schema, message)) return WRITER.finish();
  try {
    return toBinary(schema, message);
  } catch (error) {
    throw new TypeError(`cannot encode ${schema.typeName}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * Decodes one message, equal to protobuf-es `fromBinary` on every body it accepts; stricter where
 * protobuf-es is lenient (wrong wire types, overlong varints, nested lengths past their parent).
 * Unknown fields are kept in `$unknown`.
 * @param offset added to error offsets (the bytes' position in the caller's frame); default 0.
 * @param op reported in errors; default 0.
 * @returns a fresh message whose `bytes` fields (and `$unknown` data) are **views of `bytes`**: they
 *   change if `bytes` is overwritten.
 * @throws BodyError BAD_BODY for any malformed input.
 */
export function decodeProto<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array, offset = 0, op = 0): MessageShape<Desc> {
  const reader = new BodyReader(bytes, offset, op);
  const fast = fastOf(schema);
  if (fast !== undefined) return fast.read(reader, bytes.byteLength) as MessageShape<Desc>;
  checkMessage(reader, schema, bytes.byteLength);
  try {
    return fromBinary(schema, bytes);
  } catch (error) {
    // Unreachable if the validator is right; never let a foreign error escape a decoder.
    throw new BodyError("BAD_BODY", op, offset, `protobuf-es refused the body: ${error instanceof Error ? error.message : String(error)}`);
  }
}
