/**
 * Which protobuf message each op carries: the one table the body codec is driven by.
 *
 * Ops not in the table — BATCH (its body is frames, see `splitBatch`), application ops (≥ 1000) and
 * reserved numbers — are opaque to the bodies layer and stay bytes.
 */
import type { DescMessage } from "@bufbuild/protobuf";
import { Op } from "../wire/ops.js";
import { ChunkAckSchema, ChunkSchema, type Chunk, type ChunkAck } from "../gen/syncwire/v1/chunk_pb.js";
import { AckSchema, MessagePacketSchema, type Ack, type MessagePacket } from "../gen/syncwire/v1/message_pb.js";
import {
  DisconnectSchema,
  HeartbeatAckSchema,
  HeartbeatSchema,
  HelloSchema,
  WelcomeSchema,
  type Disconnect,
  type Heartbeat,
  type HeartbeatAck,
  type Hello,
  type Welcome,
} from "../gen/syncwire/v1/session_pb.js";
import {
  NotifySchema,
  SyncCommitSchema,
  SyncRequestSchema,
  SyncResultSchema,
  type Notify,
  type SyncCommit,
  type SyncRequest,
  type SyncResult,
} from "../gen/syncwire/v1/sync_pb.js";

/** The message type each typed op carries. */
export interface BodyMessages {
  [Op.HEARTBEAT]: Heartbeat;
  [Op.HEARTBEAT_ACK]: HeartbeatAck;
  [Op.SEND]: MessagePacket;
  [Op.ACK]: Ack;
  [Op.DISCONNECT]: Disconnect;
  [Op.HELLO]: Hello;
  [Op.WELCOME]: Welcome;
  [Op.NOTIFY]: Notify;
  [Op.SYNC]: SyncRequest;
  [Op.SYNC_RESULT]: SyncResult;
  [Op.SYNC_COMMIT]: SyncCommit;
  [Op.CHUNK]: Chunk;
  [Op.CHUNK_ACK]: ChunkAck;
}

/** An op whose body is a protobuf message: every defined op except BATCH. */
export type BodyOp = keyof BodyMessages;

/** The message type carried by `O`. */
export type MessageOf<O extends BodyOp> = BodyMessages[O];

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

const SCHEMAS: readonly (DescMessage | undefined)[] = (() => {
  const table: (DescMessage | undefined)[] = [];
  table[Op.HEARTBEAT] = HeartbeatSchema;
  table[Op.HEARTBEAT_ACK] = HeartbeatAckSchema;
  table[Op.SEND] = MessagePacketSchema;
  table[Op.ACK] = AckSchema;
  table[Op.DISCONNECT] = DisconnectSchema;
  table[Op.HELLO] = HelloSchema;
  table[Op.WELCOME] = WelcomeSchema;
  table[Op.NOTIFY] = NotifySchema;
  table[Op.SYNC] = SyncRequestSchema;
  table[Op.SYNC_RESULT] = SyncResultSchema;
  table[Op.SYNC_COMMIT] = SyncCommitSchema;
  table[Op.CHUNK] = ChunkSchema;
  table[Op.CHUNK_ACK] = ChunkAckSchema;
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
