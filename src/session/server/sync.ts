/**
 * SYNC and SYNC_COMMIT (docs/PROTOCOL.md §11.5). A SYNC reads the user's own log after the client's key,
 * at most min(limit, page limit) entries, and answers them with the key advanced to the last entry
 * returned. A page is also cut so that its SYNC_RESULT fits the largest frame the client accepts
 * (`has_more` then tells it to come back). Reading consumes nothing: only the device's commit lets the
 * store trim, so an unconfirmed page is returned again on the next SYNC, on any link.
 */
import type { SyncCommit, SyncKey, SyncRequest } from "../../gen/syncwire/v1/sync_pb.js";
import { createSyncKey, mergeSyncKeys } from "../../bodies/sync-key.js";
import { HEADER_SIZE } from "../../wire/header.js";
import type { ServerStores, SyncLogEntry } from "../stores.js";
import { encodeResultKey, encodeSyncMessage, lengthFieldSize, syncResultFrame, syncResultFrameSize } from "./sync-result.js";

/** What a sync request needs from its connection. */
export interface SyncContext {
  readonly stores: ServerStores;
  readonly user: string;
  /** The device (HELLO's client_id) whose commits these are. */
  readonly device: string;
  readonly pageLimit: number;
  /** Largest frame the client accepts (Capabilities.max_frame_size, 0 resolved to 1 MiB). */
  readonly peerMaxFrameSize: number;
  readonly version: number;
}

const EMPTY_KEY: SyncKey = createSyncKey([]);

/** Room kept for the `sync_key` and `has_more` fields when a page is first cut (a key of a few streams). */
const KEY_ROOM = 64;

/** The request's key advanced to the newest of `entries` per stream key. */
function keyAfter(from: SyncKey, entries: readonly SyncLogEntry[]): SyncKey {
  if (entries.length === 0) return mergeSyncKeys(from, EMPTY_KEY);
  return mergeSyncKeys(from, createSyncKey(entries.map((e) => [e.key, e.version] as const)));
}

/**
 * Reads one page and encodes the SYNC_RESULT frame answering `seq`.
 * @returns the whole frame (a fresh array).
 * @throws (rejects) whatever the log rejects with.
 */
export async function syncPage(ctx: SyncContext, seq: number, request: SyncRequest): Promise<Uint8Array> {
  const after = request.syncKey ?? EMPTY_KEY;
  const limit = request.limit === 0 ? ctx.pageLimit : Math.min(request.limit, ctx.pageLimit);
  const { entries, hasMore } = await ctx.stores.log.read(ctx.user, after, limit);
  // Each message is encoded once; the page is cut where the frame would exceed the client's limit
  // (always at least one entry: an entry that alone exceeds it cannot be sent any other way).
  const encoded = entries.map((e) => encodeSyncMessage(e.message));
  let count = 0;
  let fields = 0;
  for (const message of encoded) {
    const next = fields + lengthFieldSize(message.byteLength);
    // Leave room for the key and the flag; the loop below settles the exact size.
    if (count > 0 && HEADER_SIZE + next + KEY_ROOM > ctx.peerMaxFrameSize) break;
    fields = next;
    count++;
  }
  for (;;) {
    const page = entries.length === count ? entries : entries.slice(0, count);
    const key = encodeResultKey(keyAfter(after, page));
    const more = hasMore || count < entries.length;
    if (syncResultFrameSize(fields, key, more) <= ctx.peerMaxFrameSize || count <= 1) {
      return syncResultFrame(count === encoded.length ? encoded : encoded.slice(0, count), key, more, seq, ctx.version);
    }
    count--;
    fields -= lengthFieldSize(encoded[count]!.byteLength);
  }
}

/**
 * Records a device's commit.
 * @throws (rejects) whatever the log rejects with.
 */
export async function commitSync(ctx: SyncContext, commit: SyncCommit): Promise<void> {
  await ctx.stores.log.commit(ctx.user, ctx.device, commit.syncKey ?? EMPTY_KEY);
}
