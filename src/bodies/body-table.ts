/**
 * The op → body table the codec runs on: which ops carry a protobuf message, which of them may have an
 * empty body, and each message's type name. The hand-written readers and writers by op are beside it
 * (`BODY_READERS` in fast-decode.ts, `BODY_WRITERS` in fast-encode.ts), apart so that a bundle that
 * only decodes carries no encoder and the reverse.
 *
 * Why a table of its own, apart from schemas.ts: it needs nothing from protobuf-es at run time (the
 * generated descriptors are imported as types only), so decoding bodies by op — `decodeBody`,
 * `decodeMessage` — pulls no descriptors and no protobuf-es runtime into a bundle. protobuf-es stays the
 * schema, the types, `create()`, and the encoders' fallback for values of the wrong type (see `Bail`).
 */
import { Op } from "../wire/ops.js";
import type { BodyOp } from "./schemas.js";

/** Every typed op, in op order. */
export const BODY_OPS: readonly BodyOp[] = Object.freeze([
  Op.HEARTBEAT,
  Op.HEARTBEAT_ACK,
  Op.SEND,
  Op.ACK,
  Op.DISCONNECT,
  Op.HELLO,
  Op.WELCOME,
  Op.NOTIFY,
  Op.SYNC,
  Op.SYNC_RESULT,
  Op.SYNC_COMMIT,
  Op.CHUNK,
  Op.CHUNK_ACK,
] as const);

const TYPE_NAMES: readonly (string | undefined)[] = (() => {
  const table: (string | undefined)[] = [];
  table[Op.HEARTBEAT] = "syncwire.v1.Heartbeat";
  table[Op.HEARTBEAT_ACK] = "syncwire.v1.HeartbeatAck";
  table[Op.SEND] = "syncwire.v1.MessagePacket";
  table[Op.ACK] = "syncwire.v1.Ack";
  table[Op.DISCONNECT] = "syncwire.v1.Disconnect";
  table[Op.HELLO] = "syncwire.v1.Hello";
  table[Op.WELCOME] = "syncwire.v1.Welcome";
  table[Op.NOTIFY] = "syncwire.v1.Notify";
  table[Op.SYNC] = "syncwire.v1.SyncRequest";
  table[Op.SYNC_RESULT] = "syncwire.v1.SyncResult";
  table[Op.SYNC_COMMIT] = "syncwire.v1.SyncCommit";
  table[Op.CHUNK] = "syncwire.v1.Chunk";
  table[Op.CHUNK_ACK] = "syncwire.v1.ChunkAck";
  return table;
})();

/** The protobuf type name of `op`'s body message, or `undefined` for opaque ops. Never throws. */
export function bodyTypeNameOf(op: number): string | undefined {
  return TYPE_NAMES[op];
}

/**
 * Ops whose body may be empty (an empty body decodes to the message's default value). HEARTBEAT,
 * HEARTBEAT_ACK, ACK (goim's bare ack) and NOTIFY (a bare poke) by design; SYNC and SYNC_RESULT because
 * their all-default value is meaningful (sync from the start; nothing to send to a new account) and
 * protobuf encodes an all-default message as zero bytes.
 */
const EMPTY_OK: ReadonlySet<number> = new Set<number>([Op.HEARTBEAT, Op.HEARTBEAT_ACK, Op.ACK, Op.NOTIFY, Op.SYNC, Op.SYNC_RESULT]);

/** True for the ops whose body is a protobuf message (see {@link BodyOp}). Never throws. */
export function isBodyOp(op: number): op is BodyOp {
  return TYPE_NAMES[op] !== undefined;
}

/** True if `op`'s body may be empty; false for ops that require a body (and for opaque ops). Never throws. */
export function acceptsEmptyBody(op: number): boolean {
  return EMPTY_OK.has(op);
}
