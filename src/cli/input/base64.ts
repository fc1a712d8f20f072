/**
 * Base64 text → bytes: the standard alphabet (`+/`) and the URL-safe one (`-_`), padded or not,
 * with whitespace (line breaks of MIME or PEM-style wrapping) anywhere.
 *
 * Every character is checked here, with its line and column, before Node's decoder (which silently
 * skips what it does not know) sees the text.
 */
import { Buffer } from "node:buffer";
import { CliInputError, lineColumnOf } from "./errors.js";

function isBase64Char(code: number): boolean {
  return (
    (code >= 65 && code <= 90) || // A-Z
    (code >= 97 && code <= 122) || // a-z
    (code >= 48 && code <= 57) || // 0-9
    code === 43 || code === 47 || // + /
    code === 45 || code === 95 // - _
  );
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13 || code === 11 || code === 12;
}

/**
 * Decodes base64 text in either alphabet. Padding (`=`) is optional but, when present, must end the
 * text and complete the last quantum.
 * @returns a fresh `Uint8Array` (a plain view over a Buffer the function allocated; nothing aliases
 *   the caller's data).
 * @throws CliInputError BAD_BASE64 for a character outside both alphabets, or misplaced padding (with
 *   line and column); BAD_BASE64_LENGTH when the significant characters cannot make whole bytes
 *   (4n + 1 of them).
 */
export function parseBase64(text: string): Uint8Array {
  let significant = 0;
  let padding = 0;
  let firstPad = -1;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isSpace(code)) continue;
    if (code === 61) {
      // '='
      if (firstPad < 0) firstPad = i;
      padding++;
      continue;
    }
    if (!isBase64Char(code) || padding > 0) {
      const where = lineColumnOf(text, i);
      const message = padding > 0 && isBase64Char(code) ? "data after '=' padding" : `'${text[i]}' is not a base64 character`;
      throw new CliInputError("BAD_BASE64", message, where);
    }
    significant++;
  }
  if (padding > 0 && (padding > 2 || (significant + padding) % 4 !== 0)) {
    throw new CliInputError("BAD_BASE64", `${padding} '=' after ${significant} characters is not valid padding`, lineColumnOf(text, firstPad));
  }
  if (significant % 4 === 1) {
    throw new CliInputError("BAD_BASE64_LENGTH", `${significant} base64 characters cannot encode whole bytes (4n + 1)`);
  }
  const decoded = Buffer.from(text, "base64"); // accepts both alphabets; everything else was rejected above
  return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
}
