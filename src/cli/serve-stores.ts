/**
 * Where `syncwire serve` keeps its state: the one place a stores option plugs in. Today only memory
 * (`createMemoryStores()`: one process, gone when it stops). A `--redis URL` option adds a branch here
 * that returns stores on Redis, with `close` disconnecting them; nothing else in the command changes,
 * and two `serve` processes over one Redis then behave as two nodes of one server.
 */
import { createMemoryStores } from "../session/memory/index.js";
import type { ServerStores } from "../session/stores.js";

/** Stores opened for a server, with what the start-up line says about them and how to let them go. */
export interface ServeStores {
  readonly stores: ServerStores;
  /** For the start-up line, e.g. "in-memory stores". */
  readonly description: string;
  /** Called after the server stopped. */
  close(): Promise<void>;
}

/** The command line's values that choose the stores (none yet: memory is the only kind). */
export type ServeStoreArgs = Readonly<Record<string, string | boolean | undefined>>;

/**
 * Opens the stores the command line asks for.
 * @returns fresh memory stores (today).
 */
export async function openServeStores(_args: ServeStoreArgs): Promise<ServeStores> {
  return { stores: createMemoryStores(), description: "in-memory stores", close: async () => undefined };
}
