/**
 * In-memory implementations of every server store (src/session/stores.ts), for tests, demos and
 * single-process servers; each bounded as its file says. `createMemoryStores()` builds the set a
 * `ServerEngine` takes.
 */
import type { ServerStores } from "../stores.js";
import { MemoryDedupeStore, type MemoryDedupeOptions } from "./dedupe.js";
import { MemoryMessageIdAllocator, type MemoryIdOptions } from "./ids.js";
import { MemoryObjectStore, type MemoryObjectOptions } from "./objects.js";
import { MemoryPresence } from "./presence.js";
import { MemorySyncLog, type MemorySyncLogOptions } from "./sync-log.js";
import { MemoryUploadStore } from "./uploads.js";

export { MemoryDedupeStore, type MemoryDedupeOptions } from "./dedupe.js";
export { MemoryMessageIdAllocator, type MemoryIdOptions } from "./ids.js";
export { MemoryObjectStore, type MemoryObjectOptions } from "./objects.js";
export { MemoryPresence } from "./presence.js";
export { MemorySyncLog, type MemorySyncLogOptions } from "./sync-log.js";
export { MemoryUploadStore } from "./uploads.js";

/** Options of {@link createMemoryStores}: one group per store. */
export interface MemoryStoresOptions {
  dedupe?: MemoryDedupeOptions;
  ids?: MemoryIdOptions;
  log?: MemorySyncLogOptions;
  objects?: MemoryObjectOptions;
}

/** The memory stores, with their concrete types (for their size accessors). */
export interface MemoryStores extends ServerStores {
  readonly dedupe: MemoryDedupeStore;
  readonly ids: MemoryMessageIdAllocator;
  readonly log: MemorySyncLog;
  readonly uploads: MemoryUploadStore;
  readonly objects: MemoryObjectStore;
  readonly presence: MemoryPresence;
}

/**
 * A fresh set of in-memory stores sharing nothing with any other set.
 * @returns new stores; upload limits come from the engine on every call.
 * @throws RangeError / TypeError for an invalid option (see each store's constructor).
 */
export function createMemoryStores(options: MemoryStoresOptions = {}): MemoryStores {
  return {
    dedupe: new MemoryDedupeStore(options.dedupe),
    ids: new MemoryMessageIdAllocator(options.ids),
    log: new MemorySyncLog(options.log),
    uploads: new MemoryUploadStore(),
    objects: new MemoryObjectStore(options.objects),
    presence: new MemoryPresence(),
  };
}
