// The message descriptors of proto/syncwire/v1, compiled by `buf build` (not taken from src/gen), and
// the 16-byte header written with Buffer methods: what the fixture generators build frames from.
import { execFileSync } from "node:child_process";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

const root = new URL("../../", import.meta.url);
let registry;

/** The descriptor of `syncwire.v1.<name>`. Runs `npx buf build` once (offline). */
export function schema(name) {
  if (registry === undefined) {
    const set = execFileSync("npx", ["buf", "build", "-o", "-#format=binpb"], { cwd: root, maxBuffer: 1 << 24 });
    registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, new Uint8Array(set)));
  }
  const desc = registry.getMessage(`syncwire.v1.${name}`);
  if (desc === undefined) throw new Error(`no message syncwire.v1.${name}`);
  return desc;
}

/** Op → body message name (PROTOCOL.md §10, "Op → body"). */
export const BODY_TYPES = {
  2: "Heartbeat", 3: "HeartbeatAck", 4: "MessagePacket", 5: "Ack", 6: "Disconnect", 7: "Hello", 8: "Welcome",
  10: "Notify", 11: "SyncRequest", 12: "SyncResult", 13: "SyncCommit", 14: "Chunk", 15: "ChunkAck",
};

/** Ops whose body may be empty (PROTOCOL.md §10); every other typed op requires one. */
export const EMPTY_BODY_OK = new Set([2, 3, 5, 10, 11, 12]);

/** One frame: a 16-byte header (plus `extension`) in front of `body`, every field written with Buffer methods. */
export function frame({ op, seq = 0, version = 1, body = Buffer.alloc(0), extension = Buffer.alloc(0) }) {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(16 + extension.length + body.length, 0);
  header.writeUInt16BE(16 + extension.length, 4);
  header.writeUInt16BE(version, 6);
  header.writeUInt32BE(op, 8);
  header.writeUInt32BE(seq, 12);
  return Buffer.concat([header, Buffer.from(extension), Buffer.from(body)]);
}
