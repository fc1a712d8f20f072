/**
 * Where finished objects' bytes live: a {@link BlobStore} (an interface, so a deployment can put them in
 * S3, a CDN origin, …) and {@link FsBlobStore}, a directory on a filesystem. Several nodes need the
 * same bytes, so for a multi-node deployment the directory is a shared filesystem (NFS, a mounted
 * volume) or another BlobStore implementation; Redis holds only the objects' facts.
 *
 * FsBlobStore writes atomically: the bytes go to a temporary file in the same directory, which is
 * flushed to disk (fsync) and then renamed over the final name — a reader sees the whole object or none
 * of it, never a torn file, even if the node dies mid-write. A file is named by its id; ids are checked
 * (letters, digits, `-`, `_`; 1 to 128 characters) before they touch a path, so no id can walk out of
 * the directory.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";

/** Bytes by id. Implementations must make `put` atomic: a `get` sees all of an object or nothing. */
export interface BlobStore {
  /**
   * Stores `bytes` under `id` (replacing what was there), atomically. Resolves once the bytes are durable.
   * @throws (rejects) RangeError if `id` is not a valid id for this store; whatever the storage rejects with.
   */
  put(id: string, bytes: Uint8Array): Promise<void>;
  /** @returns the bytes stored under `id` (a fresh copy), or undefined if there are none (or `id` is not a valid id). */
  get(id: string): Promise<Uint8Array | undefined>;
  /** Removes `id`'s bytes; harmless if there are none. */
  delete(id: string): Promise<void>;
}

const ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Options of {@link FsBlobStore}. */
export interface FsBlobStoreOptions {
  /** fsync each file (and the directory after the rename) so an acknowledged object survives a power loss. Default true. */
  durable?: boolean;
}

/** Blobs as files in one directory, written atomically (temp file + fsync + rename). */
export class FsBlobStore implements BlobStore {
  /** The directory the files are in. */
  readonly directory: string;
  readonly #durable: boolean;
  #ready: Promise<void> | undefined;

  /**
   * @param directory created (with parents) on the first `put` if missing.
   * @throws TypeError if `directory` is not a non-empty string.
   */
  constructor(directory: string, options: FsBlobStoreOptions = {}) {
    if (typeof directory !== "string" || directory === "") throw new TypeError("directory must be a non-empty string");
    this.directory = directory;
    this.#durable = options.durable !== false;
  }

  /** @inheritDoc @throws (rejects) RangeError if `id` is not 1–128 letters, digits, `-` or `_`. */
  async put(id: string, bytes: Uint8Array): Promise<void> {
    if (!ID.test(id)) throw new RangeError(`a blob id must be 1 to 128 letters, digits, "-" or "_", got ${JSON.stringify(id)}`);
    this.#ready ??= mkdir(this.directory, { recursive: true }).then(() => undefined);
    await this.#ready;
    const temporary = join(this.directory, `.${id}.${randomBytes(6).toString("hex")}.tmp`);
    const file = await open(temporary, "wx");
    try {
      await file.writeFile(bytes);
      if (this.#durable) await file.sync();
    } catch (error) {
      await file.close();
      await rm(temporary, { force: true });
      throw error;
    }
    await file.close();
    try {
      await rename(temporary, join(this.directory, id));
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    if (this.#durable) {
      const dir = await open(this.directory, "r");
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    }
  }

  /** @inheritDoc */
  async get(id: string): Promise<Uint8Array | undefined> {
    if (!ID.test(id)) return undefined;
    try {
      return await readFile(join(this.directory, id));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  /** @inheritDoc */
  async delete(id: string): Promise<void> {
    if (!ID.test(id)) return;
    await rm(join(this.directory, id), { force: true });
  }
}
