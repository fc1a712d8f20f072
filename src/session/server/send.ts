/**
 * The SEND path (docs/PROTOCOL.md §11.4), exactly once over at-least-once delivery: validate, dedupe,
 * append to the recipient's and the sender's logs, and only then answer. The argument that every acked
 * message is stored once and none twice is at the top of src/session/stores.ts; this file is its code.
 *
 *   1. `dedupe.get(sender, id)`: a record means a retry → re-run step 3 with the record's ids (the
 *      appends are idempotent: a no-op unless an earlier attempt died before them), answer DUPLICATE;
 *   2. `ids.next(conversation)`, then `dedupe.putIfAbsent`: the record that stands wins; a loser (a
 *      concurrent retry, on this node or another) uses the winner's ids and answers DUPLICATE;
 *   3. `log.append` to each distinct user of {recipient, sender}, side by side, with the idempotency key
 *      (sender, client id);
 *   4. the caller queues the ACK, then publishes the new heads of the logs that grew.
 *
 * Any store failure rejects the returned promise: the caller answers nothing and the client retries.
 */
import type { Ack, MessagePacket } from "../../gen/syncwire/v1/message_pb.js";
import { AckStatus } from "../../gen/syncwire/v1/message_pb.js";
import type { UnknownField } from "../../bodies/reader.js";
import { pairKey } from "../options.js";
import type { AcceptedMessage, ServerStores } from "../stores.js";

/** The stream key of chat messages in a SyncKey. */
export const MESSAGES_KEY = 1;

/** The clock reading as a server_time_ms (a u64: never negative, whole milliseconds). Never throws for a finite `now`. */
export function serverTime(now: number): bigint {
  return BigInt(Math.max(0, Math.floor(now)));
}

/** What a SEND needs from its connection. */
export interface SendContext {
  readonly stores: ServerStores;
  /** The authenticated sender. */
  readonly user: string;
  /** Arrival time (ms since the Unix epoch: it becomes server_time_ms). */
  readonly now: number;
  readonly dedupeTtlMs: number;
}

/** The answer to one SEND, and the logs it made grow. */
export interface SendOutcome {
  readonly ack: Ack;
  /** Users whose log grew, with the new version of their messages stream (for NOTIFY). */
  readonly grew: readonly (readonly [user: string, version: bigint])[];
}

function ack(status: AckStatus, clientMsgId: bigint, ids?: AcceptedMessage, error = ""): Ack {
  return {
    $typeName: "syncwire.v1.Ack",
    status,
    clientMsgId,
    serverMsgId: ids?.serverMsgId ?? 0n,
    serverTimeMs: ids?.serverTimeMs ?? 0n,
    error,
  };
}

function copyUnknown(fields: readonly UnknownField[] | undefined): UnknownField[] | undefined {
  return fields?.map((f) => ({ no: f.no, wireType: f.wireType, data: f.data.slice() }));
}

/**
 * The message as it is stored: ids filled in, and every byte copied out of the received frame (the log
 * keeps it by reference; the frame's buffer belongs to the transport).
 * @returns a fresh message; never throws.
 */
export function storedMessage(message: MessagePacket, sender: string, serverMsgId: bigint): MessagePacket {
  const stored: MessagePacket = {
    $typeName: "syncwire.v1.MessagePacket",
    clientMsgId: message.clientMsgId,
    serverMsgId,
    conversationId: message.conversationId,
    senderId: sender,
    recipientId: message.recipientId,
    kind: message.kind,
    content: message.content.slice(),
    createdAtMs: message.createdAtMs,
  };
  if (message.media !== undefined) {
    const media = message.media;
    stored.media = { $typeName: "syncwire.v1.MediaRef", objectId: media.objectId, contentType: media.contentType, size: media.size };
    if (media.thumbnail !== undefined) stored.media.thumbnail = media.thumbnail.slice();
    const unknown = copyUnknown(media.$unknown);
    if (unknown !== undefined) stored.media.$unknown = unknown;
  }
  const unknown = copyUnknown(message.$unknown);
  if (unknown !== undefined) stored.$unknown = unknown;
  return stored;
}

/** Why a well-formed SEND is refused, or undefined if it may be stored (the media check aside). */
function invalid(message: MessagePacket, user: string): string | undefined {
  if (message.senderId !== "" && message.senderId !== user) return "sender_id is not the authenticated user";
  if (message.clientMsgId === 0n) return "client_msg_id must not be 0";
  if (message.recipientId === "") return "recipient_id must not be empty";
  if (message.conversationId === "") return "conversation_id must not be empty";
  return undefined;
}

/**
 * Runs one SEND through steps 1–3.
 * @returns the ACK to send and the logs that grew.
 * @throws (rejects) whatever a store call rejects with; nothing was acknowledged then.
 */
export async function acceptMessage(ctx: SendContext, message: MessagePacket): Promise<SendOutcome> {
  const { stores, user } = ctx;
  const reason = invalid(message, user);
  if (reason !== undefined) return { ack: ack(AckStatus.REJECTED, message.clientMsgId, undefined, reason), grew: [] };
  if (message.media !== undefined && message.media.objectId !== "") {
    const object = await stores.objects.stat(message.media.objectId);
    if (object === undefined || object.owner !== user) {
      return { ack: ack(AckStatus.REJECTED, message.clientMsgId, undefined, "media.object_id names no finished upload of the sender"), grew: [] };
    }
  }
  let ids = await stores.dedupe.get(user, message.clientMsgId, ctx.now);
  let status = AckStatus.DUPLICATE;
  if (ids === undefined) {
    const candidate: AcceptedMessage = { serverMsgId: await stores.ids.next(message.conversationId), serverTimeMs: serverTime(ctx.now) };
    ids = await stores.dedupe.putIfAbsent(user, message.clientMsgId, candidate, ctx.now, ctx.dedupeTtlMs);
    if (ids.serverMsgId === candidate.serverMsgId) status = AckStatus.OK;
  }
  const stored = storedMessage(message, user, ids.serverMsgId);
  const idempotencyKey = pairKey(user, String(message.clientMsgId));
  const grew: (readonly [string, bigint])[] = [];
  const recipient = message.recipientId;
  if (recipient === user) {
    const mine = await stores.log.append(user, MESSAGES_KEY, stored, idempotencyKey);
    if (mine.appended) grew.push([user, mine.version]);
  } else {
    // Both appends start before either is awaited (a remote store runs them side by side); awaiting
    // them in turn costs less than Promise.all.
    const theirs = stores.log.append(recipient, MESSAGES_KEY, stored, idempotencyKey);
    const mine = stores.log.append(user, MESSAGES_KEY, stored, idempotencyKey);
    // A rejection of `mine` while `theirs` is awaited is handled below; mark it handled meanwhile.
    mine.catch(() => undefined);
    const a = await theirs;
    const b = await mine;
    if (a.appended) grew.push([recipient, a.version]);
    if (b.appended) grew.push([user, b.version]);
  }
  return { ack: ack(status, message.clientMsgId, ids), grew };
}
