/** Colour for the text output: ANSI codes when stdout is a terminal (or `--color`), plain otherwise. */
import type { Span } from "./model.js";

/** How text is coloured: ANSI codes, or none. */
export interface Paint {
  readonly enabled: boolean;
  role(role: Span["role"] | undefined, text: string): string;
  bold(text: string): string;
  dim(text: string): string;
  error(text: string): string;
}

const CODES: Record<Span["role"], string> = {
  length: "36", // cyan
  hl: "34", // blue
  version: "35", // magenta
  op: "33", // yellow
  seq: "32", // green
  field: "36",
  extension: "90", // grey
  body: "39",
};

/** A painter; `enabled` false returns every text unchanged. */
export function createPaint(enabled: boolean): Paint {
  const wrap = (code: string, text: string): string => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);
  return {
    enabled,
    role: (role, text) => (role === undefined || role === "body" ? text : wrap(CODES[role], text)),
    bold: (text) => wrap("1", text),
    dim: (text) => wrap("2", text),
    error: (text) => wrap("31;1", text),
  };
}
