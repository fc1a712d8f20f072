// Types for body-model.mjs (the tests import it as an oracle).
import type { DescMessage } from "@bufbuild/protobuf";
export const MAX_GROUP_DEPTH: number;
export function firstBodyError(desc: DescMessage, bytes: Uint8Array): { offset: number; reason: string } | undefined;
