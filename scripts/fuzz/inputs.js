// Inputs for the fuzzer: a seeded generator (each input is a function of the run's seed and its index,
// so any input can be made again), a corpus of valid inputs read from fixtures/, and mutators that bend
// valid inputs in the places decoders check (lengths, header fields, tags, separators).
import { readdirSync, readFileSync } from "node:fs";
import { concatBytes as concat } from "../../dist/cli/concat.js";

export { concat };

const repo = new URL("../../", import.meta.url);
const read = (path) => readFileSync(new URL(path, repo));
const fromHex = (hex) => new Uint8Array(Buffer.from(hex, "hex"));

/** mulberry32: a small, fast, seeded 32-bit generator. */
export function generator(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const int = (n) => (n <= 0 ? 0 : next() % n);
  return {
    next,
    /** An integer in [0, n). */
    int,
    /** True with probability p. */
    chance: (p) => next() / 2 ** 32 < p,
    pick: (list) => list[int(list.length)],
    /** A length: mostly small, sometimes up to `max`. */
    size: (max) => (next() % 8 === 0 ? int(max + 1) : int(Math.min(max, 64) + 1)),
    bytes: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = next() & 0xff;
      return out;
    },
  };
}

/** The generator of input `index` of the run with `seed`. */
export function generatorFor(seed, index) {
  // Mix the two so neighbouring indexes start far apart.
  return generator(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
}

/** Simple pasted forms of `bytes`: plain, spaced, 0x-prefixed hex, and base64. */
function pastedForms(bytes) {
  const cells = Buffer.from(bytes).toString("hex").match(/../g) ?? [];
  return [cells.join(""), cells.join(" "), cells.map((c) => `0x${c}`).join(", "), Buffer.from(bytes).toString("base64")];
}

/** Valid inputs of every kind, from the repository's fixtures. */
export function loadCorpus() {
  const json = (path) => JSON.parse(read(path).toString("utf8"));
  const frames = [
    ...json("fixtures/wire/frames.json").map((v) => fromHex(v.hex)),
    ...json("fixtures/wire/peers.json").map((v) => fromHex(v.hex)),
    ...json("fixtures/peers/peer-frames.json").map((v) => fromHex(v.hex)),
    ...json("fixtures/bodies/frames.json").map((v) => fromHex(v.hex)),
    new Uint8Array(read("examples/session.bin")),
    ...["bilibili-466033-frames.hex", "bilibili-past-cap.hex"].map((f) => fromHex(read(`fixtures/cli/hostile/${f}`).toString("utf8").trim())),
  ];
  const bodies = json("fixtures/bodies/frames.json").map((v) => ({ op: v.op, body: fromHex(v.hex).subarray(16) }));
  const captures = readdirSync(new URL("fixtures/pcap/", repo))
    .filter((f) => f.endsWith(".pcap") || f.endsWith(".pcapng"))
    .map((f) => new Uint8Array(read(`fixtures/pcap/${f}`)));
  const texts = [
    ...frames.slice(0, 40).flatMap(pastedForms),
    // Real xxd and hexdump -C output, and the hostile texts.
    ...["hex/sample.xxd", "hex/sample.hexdump", "hostile/hexdump-star-heartbeats.txt", "hostile/hexdump-star-1-byte-row.txt", "hostile/hex-bytes-17.hex"].map((f) =>
      read(`fixtures/cli/${f}`).toString("utf8"),
    ),
  ];
  const goldens = new URL("fixtures/cli/golden/", repo);
  const ndjson = readdirSync(goldens, { recursive: true })
    .filter((f) => String(f).endsWith(".ndjson"))
    .map((f) => read(`fixtures/cli/golden/${f}`).toString("utf8"))
    .filter((t) => t.length < 20_000);
  const syncKeys = ["1_620943725|2_620943769", "1_620943800", "", "4294967295_18446744073709551615", "7_0|7_1|3_99"];
  return { frames, bodies, captures, texts, ndjson, syncKeys };
}

const INTERESTING_U32 = [0, 1, 15, 16, 17, 20, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x100000, 0x100001, 0x7fffffff, 0x80000000, 0xffffffff];
const INTERESTING_BYTES = [0, 1, 0x7f, 0x80, 0xff, 0x10, 0x14, 0x08, 0x0a, 0x12];

/** `bytes` bent a few times: bits, bytes, u32 fields, ranges inserted, deleted, repeated, spliced. */
export function mutateBytes(r, bytes, corpus) {
  let out = Uint8Array.from(bytes);
  const rounds = 1 + r.int(4);
  for (let k = 0; k < rounds; k++) {
    const n = out.length;
    const at = r.int(n + 1);
    switch (r.int(9)) {
      case 0:
        if (n > 0) out[r.int(n)] ^= 1 << r.int(8);
        break;
      case 1:
        if (n > 0) out[r.int(n)] = r.pick(INTERESTING_BYTES);
        break;
      case 2:
        if (n >= 4) new DataView(out.buffer, out.byteOffset).setUint32(r.int(n - 3), r.pick(INTERESTING_U32));
        break;
      case 3:
        out = concat([out.subarray(0, at), r.bytes(r.size(32)), out.subarray(at)]);
        break;
      case 4:
        out = concat([out.subarray(0, at), out.subarray(Math.min(n, at + r.size(32)))]);
        break;
      case 5: {
        const end = Math.min(n, at + r.size(64));
        out = concat([out.subarray(0, end), out.subarray(at, end), out.subarray(end)]);
        break;
      }
      case 6:
        out = concat([out.subarray(0, at), r.pick(corpus.frames)]);
        break;
      case 7:
        out = out.subarray(0, r.int(n + 1));
        break;
      default:
        out = concat([out, r.pick(corpus.frames)]);
    }
  }
  return out;
}

const TEXT_ALPHABET = [..."0123456789abcdefABCDEF", " ", " ", "\n", "\r", "\t", ":", ",", "|", "*", "x", "\\", "=", "+", "/", "-", "_", "g", "é", "\u0000"];

/** `text` bent a few times: characters replaced, inserted, deleted, lines repeated or dropped. */
export function mutateText(r, text) {
  let out = text;
  const rounds = 1 + r.int(4);
  for (let k = 0; k < rounds; k++) {
    const at = r.int(out.length + 1);
    switch (r.int(6)) {
      case 0:
        out = out.slice(0, at) + r.pick(TEXT_ALPHABET) + out.slice(at + 1);
        break;
      case 1:
        out = out.slice(0, at) + r.pick(TEXT_ALPHABET).repeat(1 + r.size(8)) + out.slice(at);
        break;
      case 2:
        out = out.slice(0, at) + out.slice(at + 1 + r.size(8));
        break;
      case 3: {
        const lines = out.split("\n");
        const i = r.int(lines.length);
        lines.splice(i, 0, ...Array(1 + r.int(3)).fill(lines[i] ?? ""));
        out = lines.join("\n");
        break;
      }
      case 4: {
        const lines = out.split("\n");
        lines.splice(r.int(lines.length), 1 + r.int(2));
        out = lines.join("\n");
        break;
      }
      default:
        out = out.slice(0, at);
    }
  }
  return out;
}

/** Text drawn from the alphabet the text parsers care about. */
export function randomText(r, max) {
  let out = "";
  const n = r.size(max);
  for (let i = 0; i < n; i++) out += r.pick(TEXT_ALPHABET);
  return out;
}

/** `bytes` cut at random places (down to 1-byte chunks sometimes); views, no empty chunks. */
export function randomChunks(r, bytes) {
  if (bytes.length === 0) return [];
  if (r.chance(0.1)) return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
  const cuts = Array.from({ length: r.int(12) }, () => r.int(bytes.length)).sort((a, b) => a - b);
  const out = [];
  let from = 0;
  for (const c of [...cuts, bytes.length]) {
    if (c > from) out.push(bytes.subarray(from, c));
    from = Math.max(from, c);
  }
  return out;
}
