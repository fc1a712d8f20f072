/**
 * The guard in front of protobuf-es on the general (non-fast) path: walks a body against its message
 * descriptor and throws {@link BodyError} on the first malformed tag, length, value or wire type, so
 * that `fromBinary` only ever sees bytes it decodes faithfully.
 *
 * protobuf-es alone is lenient where a peer could exploit it: it reads a known field whatever its wire
 * type (a fixed64 field sent as a varint is misread rather than refused), lets a nested message's last
 * field run into its parent's bytes, and reports plain `Error`s without offsets. This walk uses the
 * same {@link BodyReader} as the fast decoders, so both paths agree on what is an error and where.
 */
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import type { BodyReader } from "./reader.js";

/** The wire type a scalar is written with. */
function wireTypeOf(scalar: ScalarType): number {
  switch (scalar) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return 2;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return 1;
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
    case ScalarType.FLOAT:
      return 5;
    default:
      return 0;
  }
}

/** Reads one scalar value of `scalar` (checking its bytes, UTF-8 included). */
function checkScalar(r: BodyReader, scalar: ScalarType, end: number): void {
  switch (wireTypeOf(scalar)) {
    case 0:
      r.varint64(end);
      return;
    case 1:
      r.fixed64(end);
      return;
    case 5:
      if (end - r.pos < 4) r.fail(r.pos, "truncated fixed32");
      r.pos += 4;
      return;
    default:
      if (scalar === ScalarType.STRING) r.string(end);
      else r.bytes(end);
  }
}

/** Field number → field, per message type: built once, not searched per tag. */
const FIELD_MAPS = new WeakMap<DescMessage, Map<number, DescField>>();

function fieldsByNumber(desc: DescMessage): Map<number, DescField> {
  let map = FIELD_MAPS.get(desc);
  if (map === undefined) {
    map = new Map(desc.fields.map((f) => [f.number, f]));
    FIELD_MAPS.set(desc, map);
  }
  return map;
}

function wrongWireType(r: BodyReader, tagStart: number, desc: DescMessage, field: DescField, wireType: number): never {
  return r.fail(tagStart, `field ${desc.typeName}.${field.name} arrived with wire type ${wireType}`);
}

/**
 * Validates the message of type `desc` from `r.pos` to `end`; leaves `r.pos` at `end`.
 * @throws BodyError BAD_BODY at the first offending byte.
 */
export function checkMessage(r: BodyReader, desc: DescMessage, end: number): void {
  const byNumber = fieldsByNumber(desc);
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = r.tag(end);
    const wireType = tag & 7;
    const field = byNumber.get(tag >>> 3);
    if (field === undefined) {
      r.skip(tag, tagStart, end, 0);
      continue;
    }
    switch (field.fieldKind) {
      case "scalar":
        if (wireType !== wireTypeOf(field.scalar)) wrongWireType(r, tagStart, desc, field, wireType);
        checkScalar(r, field.scalar, end);
        break;
      case "enum":
        if (wireType !== 0) wrongWireType(r, tagStart, desc, field, wireType);
        r.varint32(end);
        break;
      case "message": {
        if (wireType !== 2) wrongWireType(r, tagStart, desc, field, wireType);
        const len = r.length(end);
        checkMessage(r, field.message, r.pos + len);
        break;
      }
      case "list": {
        if (field.listKind === "message") {
          if (wireType !== 2) wrongWireType(r, tagStart, desc, field, wireType);
          const len = r.length(end);
          checkMessage(r, field.message, r.pos + len);
          break;
        }
        const scalar = field.listKind === "enum" ? ScalarType.INT32 : field.scalar;
        const single = wireTypeOf(scalar);
        if (wireType === single) {
          checkScalar(r, scalar, end);
        } else if (wireType === 2) {
          // A packed run: values laid end to end, none crossing the run's end.
          const len = r.length(end);
          const stop = r.pos + len;
          while (r.pos < stop) checkScalar(r, scalar, stop);
        } else {
          wrongWireType(r, tagStart, desc, field, wireType);
        }
        break;
      }
      case "map":
        // No maps in syncwire's schema; accept a well-formed length-delimited entry.
        if (wireType !== 2) wrongWireType(r, tagStart, desc, field, wireType);
        {
          const len = r.length(end);
          r.pos += len;
        }
        break;
    }
  }
}
