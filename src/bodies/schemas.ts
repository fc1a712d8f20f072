/**
 * Which protobuf message each op carries: the one table the body codec is driven by.
 *
 * Ops not in the table — BATCH (its body is frames, see `splitBatch`), application ops (≥ 1000) and
 * reserved numbers — are opaque to the bodies layer and stay bytes.
 */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Op } from "../wire/ops.js";
import { ChunkAckSchema, ChunkSchema } from "../gen/syncwire/v1/chunk_pb.js";
import { AckSchema, MessagePacketSchema } from "../gen/syncwire/v1/message_pb.js";
import { DisconnectSchema, HeartbeatAckSchema, HeartbeatSchema, HelloSchema, WelcomeSchema } from "../gen/syncwire/v1/session_pb.js";
import { NotifySchema, SyncCommitSchema, SyncRequestSchema, SyncResultSchema } from "../gen/syncwire/v1/sync_pb.js";

/** The table: each typed op and the schema of its body. The types, the op list and the lookup below derive from it. */
const BODY_SCHEMAS = {
  [Op.HEARTBEAT]: HeartbeatSchema,
  [Op.HEARTBEAT_ACK]: HeartbeatAckSchema,
  [Op.SEND]: MessagePacketSchema,
  [Op.ACK]: AckSchema,
  [Op.DISCONNECT]: DisconnectSchema,
  [Op.HELLO]: HelloSchema,
  [Op.WELCOME]: WelcomeSchema,
  [Op.NOTIFY]: NotifySchema,
  [Op.SYNC]: SyncRequestSchema,
  [Op.SYNC_RESULT]: SyncResultSchema,
  [Op.SYNC_COMMIT]: SyncCommitSchema,
  [Op.CHUNK]: ChunkSchema,
  [Op.CHUNK_ACK]: ChunkAckSchema,
} as const;

/** The message type each typed op carries. */
export type BodyMessages = { [O in keyof typeof BODY_SCHEMAS]: MessageShape<(typeof BODY_SCHEMAS)[O]> };

/** An op whose body is a protobuf message: every defined op except BATCH. */
export type BodyOp = keyof BodyMessages;

/** The message type carried by `O`. */
export type MessageOf<O extends BodyOp> = BodyMessages[O];

/** Every typed op, in op order (integer keys enumerate in ascending order). */
export const BODY_OPS: readonly BodyOp[] = Object.freeze(Object.keys(BODY_SCHEMAS).map((op) => Number(op) as BodyOp));

/** The table as an array indexed by op: the lookup on every decode. */
const SCHEMAS: readonly (DescMessage | undefined)[] = (() => {
  const table: (DescMessage | undefined)[] = [];
  for (const op of BODY_OPS) table[op] = BODY_SCHEMAS[op];
  return table;
})();

/**
 * Ops whose body may be empty (an empty body decodes to the message's default value). HEARTBEAT,
 * HEARTBEAT_ACK, ACK (goim's bare ack) and NOTIFY (a bare poke) by design; SYNC and SYNC_RESULT because
 * their all-default value is meaningful (sync from the start; nothing to send to a new account) and
 * protobuf encodes an all-default message as zero bytes.
 */
const EMPTY_OK: ReadonlySet<number> = new Set<number>([
  Op.HEARTBEAT,
  Op.HEARTBEAT_ACK,
  Op.ACK,
  Op.NOTIFY,
  Op.SYNC,
  Op.SYNC_RESULT,
]);

/**
 * The schema (protobuf-es message descriptor) of `op`'s body.
 * @returns a shared descriptor, or `undefined` for ops whose body is opaque (BATCH, application and
 *   reserved ops). Never throws.
 */
export function bodySchemaOf(op: number): DescMessage | undefined {
  return SCHEMAS[op];
}

/** True for the ops whose body is a protobuf message (see {@link BodyOp}). Never throws. */
export function isBodyOp(op: number): op is BodyOp {
  return SCHEMAS[op] !== undefined;
}

/** True if `op`'s body may be empty; false for ops that require a body (and for opaque ops). Never throws. */
export function acceptsEmptyBody(op: number): boolean {
  return EMPTY_OK.has(op);
}
