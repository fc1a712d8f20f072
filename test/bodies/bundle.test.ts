// What a browser bundle of the decode path carries: decoding bodies by op (decodeBody, decodeMessage)
// goes through the hand-written readers and the op table only, so a bundler leaves protobuf-es and the
// generated descriptors out. esbuild (pinned in devDependencies) bundles from the sources, as an app would.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

async function inputsOf(contents: string): Promise<string[]> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: "ts" },
    bundle: true,
    format: "esm",
    platform: "browser",
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  // The files that contribute code to the output (the metafile's `inputs` also lists files read and shaken away).
  const [output] = Object.values(result.metafile.outputs);
  return Object.entries(output!.inputs)
    .filter(([, info]) => info.bytesInOutput > 0)
    .map(([path]) => path);
}

describe("bundles", () => {
  test("decoding frames and bodies by op pulls in neither protobuf-es nor the generated descriptors", async () => {
    const inputs = await inputsOf(`
      import { FrameDecoder, decodeBody, decodeMessage, Op } from "./src/index.ts";
      const d = new FrameDecoder();
      export function onChunk(chunk: Uint8Array) {
        for (const frame of d.push(chunk)) {
          const body = decodeBody(frame);
          if (!body.opaque) (globalThis as any).last = body.message;
        }
        return decodeMessage(Op.ACK, new Uint8Array(0));
      }`);
    // The test can fail: the readers themselves are in.
    expect(inputs.some((p) => p.endsWith("src/bodies/fast-decode.ts"))).toBe(true);
    expect(inputs.filter((p) => p.includes("@bufbuild/protobuf") || p.includes("src/gen/"))).toStrictEqual([]);
  });

  test("encoding bodies still carries protobuf-es (the fallback for values of the wrong type, and create())", async () => {
    const inputs = await inputsOf(`
      import { encodeBodyFrame, Op } from "./src/index.ts";
      export const f = (m: any) => encodeBodyFrame(Op.SEND, m);`);
    expect(inputs.some((p) => p.includes("@bufbuild/protobuf"))).toBe(true);
  });
});
