/**
 * What an opaque peer body looks like as text: empty, JSON, UTF-8 text, or binary. Used by the goim and
 * Bilibili profiles for bodies their op does not give a fixed meaning.
 */

/** A body read as text, or not. */
export type TextBody =
  | { readonly kind: "empty" }
  /** Valid UTF-8 that `JSON.parse` accepts as an object or array, nested at most {@link MAX_JSON_DEPTH} deep. `value` is the parsed value. */
  | { readonly kind: "json"; readonly text: string; readonly value: unknown }
  /** Valid UTF-8 without control characters other than tab, CR and LF. */
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "binary" };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Deepest JSON nesting shown as JSON. Deeper text stays text: parsing, pretty-printing and re-encoding
 * a hostile `[[[[…` recurse once per level and grow the output with the square of the depth.
 */
export const MAX_JSON_DEPTH = 64;

/** The deepest bracket nesting of `text`, ignoring brackets inside strings. */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
      if (max > MAX_JSON_DEPTH) return max;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * Classifies `body`.
 * @returns a fresh {@link TextBody}; the text (if any) is decoded, the bytes are not retained. Never throws.
 */
export function classifyTextBody(body: Uint8Array): TextBody {
  if (body.byteLength === 0) return { kind: "empty" };
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return { kind: "binary" };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return { kind: "binary" };
  const first = text.trimStart()[0];
  if ((first === "{" || first === "[") && jsonDepth(text) <= MAX_JSON_DEPTH) {
    try {
      return { kind: "json", text, value: JSON.parse(text) as unknown };
    } catch {
      // not JSON after all: plain text
    }
  }
  return { kind: "text", text };
}
