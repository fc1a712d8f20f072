/**
 * SYNC and SYNC_COMMIT (docs/PROTOCOL.md §11.5). A SYNC reads the user's own log after the client's key,
 * at most min(limit, page limit) entries, and answers them with the key advanced to the last entry
 * returned. A page is also cut so that its SYNC_RESULT fits the largest frame the client accepts
 * (`has_more` then tells it to come back). Reading consumes nothing: only the device's commit lets the
 * store trim, so an unconfirmed page is returned again on the next SYNC, on any link.
 */
import { create } from "@bufbuild/protobuf";
import { SyncResultSchema, type SyncCommit, type SyncKey, type SyncRequest } from "../../gen/syncwire/v1/sync_pb.js";
import { createSyncKey, mergeSyncKeys } from "../../bodies/sync-key.js";
import { encodeBodyFrame } from "../../bodies/frames.js";
import { Op } from "../../wire/ops.js";
import type { ServerStores, SyncLogEntry } from "../stores.js";

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

/** The request's key advanced to the newest of `entries` per stream key. */
function keyAfter(from: SyncKey, entries: readonly SyncLogEntry[]): SyncKey {
  if (entries.length === 0) return mergeSyncKeys(from, EMPTY_KEY);
  return mergeSyncKeys(from, createSyncKey(entries.map((e) => [e.key, e.version] as const)));
}

/**
 * Reads one page and encodes the SYNC_RESULT frame answering `seq`.
 * @returns the whole frame (a fresh array or a slab view, see encodeBodyFrame).
 * @throws (rejects) whatever the log rejects with.
 */
export async function syncPage(ctx: SyncContext, seq: number, request: SyncRequest): Promise<Uint8Array> {
  const after = request.syncKey ?? EMPTY_KEY;
  const limit = request.limit === 0 ? ctx.pageLimit : Math.min(request.limit, ctx.pageLimit);
  const { entries, hasMore } = await ctx.stores.log.read(ctx.user, after, limit);
  // Cut the page until its frame fits the client's limit (always at least one entry: an entry that
  // alone exceeds it cannot be sent any other way).
  let count = entries.length;
  for (;;) {
    const page = entries.slice(0, count);
    const frame = encodeBodyFrame(
      Op.SYNC_RESULT,
      create(SyncResultSchema, { messages: page.map((e) => e.message), syncKey: keyAfter(after, page), hasMore: hasMore || count < entries.length }),
      { seq, version: ctx.version },
    );
    if (frame.byteLength <= ctx.peerMaxFrameSize || count <= 1) return frame;
    count = Math.max(1, Math.floor(count / 2));
  }
}

/**
 * Records a device's commit.
 * @throws (rejects) whatever the log rejects with.
 */
export async function commitSync(ctx: SyncContext, commit: SyncCommit): Promise<void> {
  await ctx.stores.log.commit(ctx.user, ctx.device, commit.syncKey ?? EMPTY_KEY);
}
