// An independent, deliberately plain model of docs/PROTOCOL.md §10 "Decoding rules": which protobuf
// bodies syncwire refuses, and the offset it reports. It shares no code with src/bodies (BigInt
// arithmetic, one small function per rule, driven by protobuf-es message descriptors), so the fixture
// generator can compute expected errors with it and the tests can use it as an oracle for both the
// hand-written fast path and the validator in front of protobuf-es.
//
// firstBodyError(desc, bytes) → undefined when the body is well-formed, else { offset, reason } with
// the offset counted from the start of `bytes`.
import { ScalarType } from "@bufbuild/protobuf";

/** Deepest nesting of unknown groups inside one message. */
export const MAX_GROUP_DEPTH = 32;

class Refused {
  constructor(offset, reason) {
    this.offset = offset;
    this.reason = reason;
  }
}

const refuse = (offset, reason) => {
  throw new Refused(offset, reason);
};

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** A tag: a varint of at most 5 bytes whose value fits 32 bits; field number ≥ 1, wire type 0–5. */
function readTag(bytes, pos, end) {
  const start = pos;
  let value = 0n;
  for (let i = 0; ; i++) {
    if (pos >= end) refuse(start, "truncated tag");
    const b = bytes[pos++];
    if (i === 4 && b > 0x0f) refuse(start, "tag above 32 bits");
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) break;
  }
  const fieldNo = Number(value >> 3n);
  const wireType = Number(value & 7n);
  if (fieldNo === 0) refuse(start, "field number 0");
  if (wireType > 5) refuse(start, `wire type ${wireType}`);
  return { fieldNo, wireType, pos };
}

/** A varint value: at most 10 bytes, at most 2^64 − 1 (so a 10th byte of 0 or 1), inside `end`. */
function readVarint(bytes, pos, end) {
  const start = pos;
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) refuse(start, "truncated varint");
    const b = bytes[pos++];
    value |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) {
      if (i === 9 && b > 1) refuse(start, "varint above 2^64 - 1");
      return { value, pos };
    }
  }
  return refuse(start, "varint longer than 10 bytes");
}

/** A length prefix whose value fits before `end`. @returns the value's start and end. */
function readLength(bytes, pos, end) {
  const start = pos;
  const { value, pos: at } = readVarint(bytes, pos, end);
  if (value > BigInt(end - at)) refuse(start, "length past the end of the enclosing message");
  return { at, stop: at + Number(value) };
}

function fixed(pos, end, size) {
  if (end - pos < size) refuse(pos, `truncated fixed${size * 8}`);
  return pos + size;
}

/** The wire type a scalar is written with. */
function wireTypeOf(scalar) {
  switch (scalar) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return 2;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 1;
    case ScalarType.FLOAT:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return 5;
    default:
      return 0;
  }
}

function readScalar(bytes, scalar, pos, end) {
  switch (wireTypeOf(scalar)) {
    case 0:
      return readVarint(bytes, pos, end).pos;
    case 1:
      return fixed(pos, end, 8);
    case 5:
      return fixed(pos, end, 4);
    default: {
      const { at, stop } = readLength(bytes, pos, end);
      if (scalar === ScalarType.STRING) {
        try {
          strictUtf8.decode(bytes.subarray(at, stop));
        } catch {
          refuse(at, "invalid UTF-8");
        }
      }
      return stop;
    }
  }
}

/** Skips an unknown field's value; groups are followed to their end tag, at most MAX_GROUP_DEPTH deep. */
function skip(bytes, fieldNo, wireType, tagAt, pos, end, depth) {
  switch (wireType) {
    case 0:
      return readVarint(bytes, pos, end).pos;
    case 1:
      return fixed(pos, end, 8);
    case 2:
      return readLength(bytes, pos, end).stop;
    case 5:
      return fixed(pos, end, 4);
    case 4:
      return refuse(tagAt, "end-group tag without a group");
    default: {
      if (depth >= MAX_GROUP_DEPTH) refuse(tagAt, "groups nested too deep");
      for (;;) {
        const innerAt = pos;
        const inner = readTag(bytes, pos, end);
        pos = inner.pos;
        if (inner.wireType === 4) {
          if (inner.fieldNo !== fieldNo) refuse(innerAt, "end-group tag of another field");
          return pos;
        }
        pos = skip(bytes, inner.fieldNo, inner.wireType, innerAt, pos, end, depth + 1);
      }
    }
  }
}

function walk(desc, bytes, pos, end) {
  while (pos < end) {
    const tagAt = pos;
    const { fieldNo, wireType, pos: at } = readTag(bytes, pos, end);
    pos = at;
    const field = desc.fields.find((f) => f.number === fieldNo);
    if (field === undefined) {
      pos = skip(bytes, fieldNo, wireType, tagAt, pos, end, 0);
      continue;
    }
    const wrong = () => refuse(tagAt, `field ${field.name} with wire type ${wireType}`);
    let scalar;
    let message;
    let packable = false;
    switch (field.fieldKind) {
      case "scalar":
        scalar = field.scalar;
        break;
      case "enum":
        scalar = ScalarType.INT32;
        break;
      case "message":
        message = field.message;
        break;
      case "list":
        if (field.listKind === "message") message = field.message;
        else {
          scalar = field.listKind === "enum" ? ScalarType.INT32 : field.scalar;
          packable = wireTypeOf(scalar) !== 2;
        }
        break;
      default:
        throw new Error(`the model has no rule for ${field.fieldKind} fields`);
    }
    if (message !== undefined) {
      if (wireType !== 2) wrong();
      const { at: from, stop } = readLength(bytes, pos, end);
      walk(message, bytes, from, stop);
      pos = stop;
    } else if (wireType === wireTypeOf(scalar)) {
      pos = readScalar(bytes, scalar, pos, end);
    } else if (packable && wireType === 2) {
      // A packed run: values end to end, none crossing the run's end.
      const { at: from, stop } = readLength(bytes, pos, end);
      for (pos = from; pos < stop; ) pos = readScalar(bytes, scalar, pos, stop);
    } else {
      wrong();
    }
  }
  return pos;
}

/**
 * The first rule of §10 that `bytes` breaks as a message of type `desc`.
 * @returns undefined if none, else `{ offset, reason }` (offset from the start of `bytes`).
 */
export function firstBodyError(desc, bytes) {
  try {
    walk(desc, bytes, 0, bytes.byteLength);
    return undefined;
  } catch (error) {
    if (error instanceof Refused) return { offset: error.offset, reason: error.reason };
    throw error;
  }
}
