// Browser bundle size: esbuild bundles (minified, ESM, browser platform) of a few typical consumers of
// the package, gzipped at level 9. `BUNDLE_DIST=/path/to/dist` measures another build the same way.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { report } from "./report.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = process.env.BUNDLE_DIST ?? fileURLToPath(new URL("../dist", import.meta.url));

const consumers = [
  ["frames only: FrameDecoder + encodeFrame", `import { FrameDecoder, encodeFrame } from "${dist}/index.js"; export const f = (c) => new FrameDecoder().push(c).map((x) => encodeFrame(x));`],
  [
    "receiving client: FrameDecoder + decodeBody(frame).message for every op",
    `import { FrameDecoder, decodeBody } from "${dist}/index.js";
     const d = new FrameDecoder();
     export const f = (c) => { for (const fr of d.push(c)) { const b = decodeBody(fr); if (!b.opaque) globalThis.last = b.message; } };`,
  ],
  [
    "full client: the above + encodeBodyFrame + create() from @bufbuild/protobuf",
    `import { create } from "@bufbuild/protobuf";
     import { FrameDecoder, decodeBody, encodeBodyFrame, MessagePacketSchema, Op } from "${dist}/index.js";
     const d = new FrameDecoder();
     export const f = (c) => { for (const fr of d.push(c)) { const b = decodeBody(fr); if (!b.opaque) globalThis.last = b.message; } };
     export const send = (text) => encodeBodyFrame(Op.SEND, create(MessagePacketSchema, { conversationId: "c", content: text }));`,
  ],
  ["everything the root entry exports", `export * from "${dist}/index.js";`],
];

const rows = [];
for (const [name, contents] of consumers) {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const code = result.outputFiles[0].contents;
  const [output] = Object.values(result.metafile.outputs);
  const protobufEs = Object.entries(output.inputs).some(([path, info]) => path.includes("@bufbuild/protobuf") && info.bytesInOutput > 0);
  rows.push({ name, minified: code.byteLength, gzip: gzipSync(code, { level: 9 }).byteLength, protobufEs });
}
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
report(
  "bundle",
  "Browser bundle size (esbuild --bundle --minify, gzip -9)",
  ["consumer", "minified", "gzipped", "carries protobuf-es"],
  rows.map((r) => [r.name, kb(r.minified), kb(r.gzip), r.protobufEs ? "yes" : "no"]),
  rows,
);
