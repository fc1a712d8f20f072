// An independent, deliberately plain model of docs/PROTOCOL.md §1–§7: how a decoder reads frames out
// of a buffer and which error it reports first. It shares no code with src/ (it reads bytes with a
// DataView and follows the spec's wording step by step), so the fixture generator can compute expected
// results with it and the tests can use it as an oracle for the real decoders.
//
// modelDecode(bytes, { mode, maxFrameSize, versions, allowTrailer, base })
//   mode "frame"   decodeFrame:  exactly one frame, TRAILING_BYTES after it
//   mode "frames"  decodeFrames: zero or more frames; with allowTrailer the first bytes that do not read
//                  as a whole frame, and everything after them, are the trailer
//   mode "batch"   splitBatch:   like "frames" (no trailer) and an inner BATCH is NESTED_BATCH
//   base           added to every error offset (16 for splitBatch(frame): the body's place in the frame)
// returns { frames: [{ at, packetLength, headerLength, version, op, seq }], trailerAt } or
//         { error: { code, offset } }.

const HEADER_SIZE = 16;
const BATCH = 9;

/** The first error the header at `at` shows with the bytes present, in wire order (§5), or undefined. */
export function headerError(view, at, left, limits) {
  if (left < 4) return undefined;
  const packetLength = view.getUint32(at);
  if (packetLength < HEADER_SIZE) return { code: "BAD_PACKET_LENGTH", offset: at };
  if (packetLength > limits.maxFrameSize) return { code: "FRAME_TOO_LARGE", offset: at };
  if (left < 6) return undefined;
  const headerLength = view.getUint16(at + 4);
  if (headerLength < HEADER_SIZE || headerLength > packetLength) return { code: "BAD_HEADER_LENGTH", offset: at + 4 };
  if (left < 8) return undefined;
  const version = view.getUint16(at + 6);
  if (limits.versions !== "any" && !limits.versions.includes(version)) return { code: "UNSUPPORTED_VERSION", offset: at + 6 };
  return undefined;
}

export function modelDecode(bytes, options = {}) {
  const mode = options.mode ?? "frames";
  const limits = { maxFrameSize: options.maxFrameSize ?? 1_048_576, versions: options.versions ?? [1] };
  const allowTrailer = mode === "frames" && options.allowTrailer === true;
  const base = options.base ?? 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = bytes.byteLength;
  const frames = [];
  const fail = (error) => (allowTrailer ? { frames, trailerAt: error.at } : { error: { code: error.code, offset: base + error.offset } });
  let at = 0;
  // decodeFrame on no bytes at all: a frame was expected and none arrived.
  if (mode === "frame" && length === 0) return fail({ code: "TRUNCATED", offset: 0, at: 0 });
  while (at < length) {
    const left = length - at;
    const bad = headerError(view, at, Math.min(left, HEADER_SIZE), limits);
    if (bad !== undefined) return fail({ ...bad, at });
    if (left < HEADER_SIZE || left < view.getUint32(at)) return fail({ code: "TRUNCATED", offset: at, at });
    const packetLength = view.getUint32(at);
    const op = view.getUint32(at + 8);
    if (mode === "batch" && op === BATCH) return fail({ code: "NESTED_BATCH", offset: at + 8, at });
    frames.push({ at, packetLength, headerLength: view.getUint16(at + 4), version: view.getUint16(at + 6), op, seq: view.getUint32(at + 12) });
    at += packetLength;
    if (mode === "frame" && at < length) return fail({ code: "TRAILING_BYTES", offset: at, at });
  }
  return { frames, trailerAt: length };
}

/** The fields of a modelled frame as the fixtures spell them (hex strings for extension and body). */
export function frameFields(bytes, frame) {
  const hex = (from, to) => Buffer.from(bytes.subarray(from, to)).toString("hex");
  return {
    packetLength: frame.packetLength,
    headerLength: frame.headerLength,
    version: frame.version,
    op: frame.op,
    seq: frame.seq,
    extension: hex(frame.at + HEADER_SIZE, frame.at + frame.headerLength),
    body: hex(frame.at + frame.headerLength, frame.at + frame.packetLength),
  };
}
