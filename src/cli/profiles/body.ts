/**
 * What an opaque peer body looks like as text: empty, JSON, UTF-8 text, or binary. Used by the goim and
 * Bilibili profiles for bodies their op does not give a fixed meaning.
 */

/** A body read as text, or not. */
export type TextBody =
  | { readonly kind: "empty" }
  /** Valid UTF-8 that `JSON.parse` accepts as an object or array. `value` is the parsed value. */
  | { readonly kind: "json"; readonly text: string; readonly value: unknown }
  /** Valid UTF-8 without control characters other than tab, CR and LF. */
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "binary" };

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

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
  if (first === "{" || first === "[") {
    try {
      return { kind: "json", text, value: JSON.parse(text) as unknown };
    } catch {
      // not JSON after all: plain text
    }
  }
  return { kind: "text", text };
}
