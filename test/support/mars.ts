/** Mars frames built by hand for tests, independently of src/: five big-endian u32s, extension, body. */
import { concat } from "./hex.js";

/** The fields of a Mars frame; headLength and bodyLength follow from `extension` and `body`. */
export interface MarsInit {
  readonly clientVersion?: number;
  readonly cmdid: number;
  readonly seq: number;
  readonly extension?: Uint8Array;
  readonly body?: Uint8Array;
}

/** The bytes of a Mars frame (clientVersion 200 unless given). */
export function marsBytes(fields: MarsInit): Uint8Array {
  const extension = fields.extension ?? new Uint8Array(0);
  const body = fields.body ?? new Uint8Array(0);
  const head = new Uint8Array(20);
  const view = new DataView(head.buffer);
  [20 + extension.length, fields.clientVersion ?? 200, fields.cmdid, fields.seq, body.length].forEach((v, i) => view.setUint32(i * 4, v));
  return concat([head, extension, body]);
}
