/**
 * JSON text → JSON text, exactly. Peer bodies (goim, Bilibili) are JSON whose integers may pass 2^53
 * (Bilibili's `trigger_time` 1626324623404263213): `JSON.parse` would round them, so bodies are not
 * parsed into values at all. One linear pass checks the grammar `JSON.parse` accepts (RFC 8259) and
 * writes the text again, compact or indented the way `JSON.stringify(value, null, 2)` lays it out,
 * with every number as its source characters. Strings are written as `JSON.stringify` writes them;
 * keys stay in the order they were sent, duplicates included.
 *
 * Iterative, with a depth limit: a hostile `[[[[…` costs one pass, and deeper text is left as text
 * (pretty-printing it would grow the output with the square of the depth).
 */

/** Deepest nesting shown as JSON; deeper bodies are shown as text. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** The end (exclusive) of the string token starting at `at` (a quote), or -1 if it is not one. */
function stringEnd(text: string, at: number): number {
  let i = at + 1;
  for (;;) {
    if (i >= text.length) return -1;
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -1;
    if (c !== BACKSLASH) {
      i++;
      continue;
    }
    const e = text.charCodeAt(i + 1);
    if (e === 0x75) {
      // \uXXXX
      for (let k = 2; k < 6; k++) if (!isHexDigit(text.charCodeAt(i + k))) return -1;
      i += 6;
    } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
      i += 2;
    } else {
      return -1;
    }
  }
}

/** The end (exclusive) of the number token at `at`, or -1. */
function numberEnd(text: string, at: number): number {
  let i = at;
  if (text.charCodeAt(i) === 0x2d) i++; // -
  if (text.charCodeAt(i) === 0x30) i++;
  else if (isDigit(text.charCodeAt(i))) while (isDigit(text.charCodeAt(i))) i++;
  else return -1;
  if (text.charCodeAt(i) === 0x2e) {
    // .
    i++;
    if (!isDigit(text.charCodeAt(i))) return -1;
    while (isDigit(text.charCodeAt(i))) i++;
  }
  const e = text.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    i++;
    const sign = text.charCodeAt(i);
    if (sign === 0x2b || sign === 0x2d) i++;
    if (!isDigit(text.charCodeAt(i))) return -1;
    while (isDigit(text.charCodeAt(i))) i++;
  }
  return i;
}

const LITERALS = ["true", "false", "null"] as const;

/**
 * Checks that `text` is JSON and writes it again.
 * @param indent spaces per level; 0 for the compact form (no white space at all).
 * @returns the new text, or `undefined` when `text` is not JSON or nests deeper than
 *   {@link MAX_JSON_DEPTH}. Never throws. Linear in `text.length` (plus the indentation written).
 */
export function formatJsonText(text: string, indent = 0): string | undefined {
  const n = text.length;
  const out: string[] = [];
  /** Open containers, innermost last: OPEN_OBJECT or OPEN_ARRAY. */
  const open: number[] = [];
  const newline = (depth: number): string => (indent === 0 ? "" : "\n" + " ".repeat(indent * depth));
  let i = 0;
  const skipSpace = (): void => {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
  };

  skipSpace();
  // Expecting a value here; after it, a comma, a close or the end.
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const close = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
      if (open.length === MAX_JSON_DEPTH) return undefined; // this one would be level MAX + 1, empty or not
      i++;
      skipSpace();
      if (text.charCodeAt(i) === close) {
        i++;
        out.push(c === OPEN_OBJECT ? "{}" : "[]");
      } else {
        open.push(c);
        out.push((c === OPEN_OBJECT ? "{" : "[") + newline(open.length));
        if (c === OPEN_OBJECT && !readKey()) return undefined;
        continue;
      }
    } else if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      out.push(JSON.stringify(JSON.parse(text.slice(i, end)) as string));
      i = end;
    } else {
      const literal = LITERALS.find((word) => text.startsWith(word, i));
      const end = literal !== undefined ? i + literal.length : numberEnd(text, i);
      if (end < 0) return undefined;
      out.push(text.slice(i, end));
      i = end;
    }
    // After a value: close as many containers as end here, then a comma or the end of the text.
    for (;;) {
      skipSpace();
      if (open.length === 0) return i === n ? out.join("") : undefined;
      const inner = open[open.length - 1]!;
      const d = text.charCodeAt(i);
      if (d === (inner === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        i++;
        open.pop();
        out.push(newline(open.length) + (inner === OPEN_OBJECT ? "}" : "]"));
        continue;
      }
      if (d !== 0x2c) return undefined; // ,
      i++;
      skipSpace();
      out.push("," + newline(open.length));
      if (inner === OPEN_OBJECT && !readKey()) return undefined;
      break;
    }
  }

  /** Reads `"key":` (and the space after it), writing the key; false if there is none. */
  function readKey(): boolean {
    if (text.charCodeAt(i) !== QUOTE) return false;
    const end = stringEnd(text, i);
    if (end < 0) return false;
    out.push(JSON.stringify(JSON.parse(text.slice(i, end)) as string) + (indent === 0 ? ":" : ": "));
    i = end;
    skipSpace();
    if (text.charCodeAt(i) !== 0x3a) return false; // :
    i++;
    skipSpace();
    return true;
  }
}
