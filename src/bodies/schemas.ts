/**
 * Which protobuf message (protobuf-es descriptor) each op carries, and the message types by op.
 *
 * Ops not in the table — BATCH (its body is frames, see `splitBatch`), application ops (≥ 1000) and
 * reserved numbers — are opaque to the bodies layer and stay bytes. The same ops, with their fast
 * readers and writers and free of protobuf-es at run time, are in body-table.ts, which the codec uses.
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

export { BODY_OPS, acceptsEmptyBody, isBodyOp } from "./body-table.js";

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
 * The schema (protobuf-es message descriptor) of `op`'s body.
 * @returns a shared descriptor, or `undefined` for ops whose body is opaque (BATCH, application and
 *   reserved ops). Never throws.
 */
export function bodySchemaOf(op: number): DescMessage | undefined {
  return SCHEMAS[op];
}
