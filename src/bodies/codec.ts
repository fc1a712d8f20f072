/**
 * The body codec: which message an op carries (schemas.ts), encoded with `encodeBody` and decoded —
 * lazily — with `decodeBody`.
 *
 * `decodeBody(frame)` parses nothing: it returns a small object whose `message` getter decodes the body
 * on first access and caches the result, so a router that only looks at `op` (or forwards the frame)
 * never pays for a protobuf decode. Opaque bodies (BATCH, application ops ≥ 1000, reserved ops) are
 * never decoded. Errors surface when `message` is read, as {@link BodyError} with the offset inside the
 * frame.
 */
import type { Frame } from "../wire/decode.js";
import { BodyError } from "./errors.js";
import { acceptsEmptyBody, isBodyOp } from "./body-table.js";
import { BODY_READERS } from "./fast-decode.js";
import { encodeProto } from "./proto.js";
import { BodyReader } from "./reader.js";
import { bodySchemaOf, type BodyOp, type MessageOf } from "./schemas.js";

/** A frame's body that is a protobuf message of op `O`. */
export interface TypedBody<O extends BodyOp = BodyOp> {
  /** Always false: `message` is available. Check it first to narrow a {@link Body}. */
  readonly opaque: false;
  readonly op: O;
  /** The raw body: a view of the frame's bytes, no copy. */
  readonly body: Uint8Array;
  /** Where the body starts inside its frame (the header length); error offsets count from the frame start. */
  readonly offset: number;
  /**
   * The decoded message, parsed on first access and cached (later reads return the same object).
   * Its `bytes` fields are views of the frame: they change if the frame's buffer is reused.
   * @throws BodyError BAD_BODY if the body is malformed, EMPTY_BODY if the op needs a body and it is empty.
   */
  readonly message: MessageOf<O>;
}

/** A body the bodies layer does not interpret: BATCH (use `splitBatch`), application and reserved ops. */
export interface OpaqueBody {
  readonly opaque: true;
  readonly op: number;
  /** The raw body: a view of the frame's bytes, no copy. */
  readonly body: Uint8Array;
  /** Where the body starts inside its frame. */
  readonly offset: number;
}

/**
 * A decoded body: narrow with `opaque`, then switch on `op`:
 * `if (!b.opaque && b.op === Op.SEND) b.message.clientMsgId`.
 */
export type Body = { [O in BodyOp]: TypedBody<O> }[BodyOp] | OpaqueBody;

/** What `decodeBody` needs of a frame. A decoded `Frame` fits. */
export type BodySource = Pick<Frame, "op" | "body" | "headerLength">;

class LazyBody {
  readonly opaque = false as const;
  readonly op: BodyOp;
  readonly body: Uint8Array;
  readonly offset: number;
  #message: unknown;

  constructor(op: BodyOp, body: Uint8Array, offset: number) {
    this.op = op;
    this.body = body;
    this.offset = offset;
  }

  get message(): unknown {
    if (this.#message === undefined) this.#message = decodeMessage(this.op, this.body, this.offset);
    return this.#message;
  }
}

/**
 * Wraps a frame's body for typed access, without parsing anything.
 * @returns a fresh {@link Body}; `body` is the frame's body view (no copy), and for typed ops `message`
 *   decodes it on first access.
 * @throws never: decoding errors surface when `message` is read.
 */
export function decodeBody(frame: BodySource): Body {
  const op = frame.op;
  if (isBodyOp(op)) return new LazyBody(op, frame.body, frame.headerLength) as unknown as Body;
  return { opaque: true, op, body: frame.body, offset: frame.headerLength };
}

/**
 * Decodes `body` as the message of `op`, now.
 * @param offset added to error offsets: the body's position in its frame (default 0).
 * @returns a fresh message whose `bytes` fields are views of `body` (no copy).
 * @throws BodyError BAD_BODY for a malformed body, EMPTY_BODY for an empty body where the op needs one.
 * @throws RangeError if `op` has no typed body (BATCH, application or reserved ops).
 */
export function decodeMessage<O extends BodyOp>(op: O, body: Uint8Array, offset = 0): MessageOf<O> {
  // The op's hand-written reader, straight from the op table: no descriptor, no protobuf-es (see body-table.ts).
  const read = BODY_READERS[op];
  if (read === undefined) throw new RangeError(`op ${op} has no typed body`);
  const length = body.byteLength;
  if (length === 0 && !acceptsEmptyBody(op)) {
    throw new BodyError("EMPTY_BODY", op, offset, `op ${op} requires a body`);
  }
  return read(new BodyReader(body, offset, op), length) as MessageOf<O>;
}

/**
 * Encodes the body of an `op` frame. Byte-for-byte equal to protobuf-es `toBinary(schema, message)`.
 * @returns a new array holding only this body (`bytes` fields are copied in); for the fast-path
 *   messages a view of a pooled slab, as `encodeProto` explains.
 * @throws RangeError if `op` has no typed body, or the op needs a body and `message` encodes to zero
 *   bytes (all fields at their defaults) — a frame the peer would refuse with EMPTY_BODY.
 * @throws TypeError if `message` is not the op's message type (see `BodyMessages`) or holds a value
 *   protobuf cannot encode.
 */
export function encodeBody<O extends BodyOp>(op: O, message: MessageOf<O>): Uint8Array {
  const schema = bodySchemaOf(op);
  if (schema === undefined) throw new RangeError(`op ${op} has no typed body`);
  const body = encodeProto(schema, message);
  if (body.byteLength === 0 && !acceptsEmptyBody(op)) {
    throw new RangeError(`op ${op} requires a body, but every field of the ${schema.typeName} is at its default`);
  }
  return body;
}
