/**
 * What an opaque body looks like to a person: JSON, UTF-8 text, or neither. Used for the bodies a
 * profile gives no fixed meaning (goim and Bilibili messages, application ops, Mars bodies).
 */
import { formatJsonText } from "../json-text.js";
import type { DecodedBody } from "../model.js";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Reads `body` as text: JSON when it is an object or array that `JSON.parse` would accept (nested at most
 * `MAX_JSON_DEPTH` deep; kept as exact text, see `json-text.ts`), else text when it is valid UTF-8
 * without control characters other than tab, CR and LF.
 * @returns a fresh `DecodedBody` (the bytes are not retained), or `undefined` for an empty or binary
 *   body. Never throws.
 */
export function readTextBody(body: Uint8Array): DecodedBody | undefined {
  if (body.byteLength === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return undefined;
  const first = text.trimStart()[0];
  if (first === "{" || first === "[") {
    const json = formatJsonText(text);
    if (json !== undefined) return { kind: "json", json };
  }
  return { kind: "text", text };
}
