/**
 * Which protobuf message (protobuf-es descriptor) each op carries, and the message types by op.
 *
 * Ops not in the table — BATCH (its body is frames, see `splitBatch`), application ops (≥ 1000) and
 * reserved numbers — are opaque to the bodies layer and stay bytes. The same ops, with their fast
 * readers and writers and free of protobuf-es at run time, are in body-table.ts, which the codec uses.
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

import { BODY_OPS } from "./body-table.js";

export { BODY_OPS, acceptsEmptyBody, isBodyOp } from "./body-table.js";

/** The message type each typed op carries. */
export type BodyMessages = { [O in keyof typeof BODY_SCHEMAS]: MessageShape<(typeof BODY_SCHEMAS)[O]> };

/** An op whose body is a protobuf message: every defined op except BATCH. */
export type BodyOp = keyof BodyMessages;

/** The message type carried by `O`. */
export type MessageOf<O extends BodyOp> = BodyMessages[O];

/** The table as an array indexed by op: the lookup on every decode. */
const SCHEMAS: readonly (DescMessage | undefined)[] = (() => {
  const table: (DescMessage | undefined)[] = [];
  for (const op of BODY_OPS) table[op] = BODY_SCHEMAS[op];
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
