/**
 * The reference server's authentication (what `syncwire serve` does): either any user, whose token is
 * their user id, or a fixed table of tokens read from a file of `user:token` lines.
 */
import { DisconnectCode } from "../gen/syncwire/v1/session_pb.js";
import type { AuthenticateResult } from "../session/server/options.js";

/**
 * Reads a token file: one `user:token` per line (the first colon splits; the token may contain colons);
 * blank lines and lines starting with `#` are ignored; spaces around user and token are trimmed.
 * @returns token → user.
 * @throws TypeError naming the line for a line without a colon, an empty user or token, or a token
 *   that appears twice.
 */
export function parseTokenFile(text: string): Map<string, string> {
  const tokens = new Map<string, string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const colon = line.indexOf(":");
    const user = colon < 0 ? "" : line.slice(0, colon).trim();
    const token = colon < 0 ? "" : line.slice(colon + 1).trim();
    if (user === "" || token === "") throw new TypeError(`line ${index + 1}: expected user:token`);
    if (tokens.has(token)) throw new TypeError(`line ${index + 1}: the token of ${user} is already ${tokens.get(token)}'s`);
    tokens.set(token, user);
  });
  return tokens;
}

/**
 * An `authenticate` hook: with no table, HELLO's token is the user id (any non-empty token logs in);
 * with a table (token → user), only its tokens do. Anything else is refused with AUTH_FAILED.
 * @returns a synchronous hook for `ServerEngineOptions.authenticate`.
 */
export function tokenAuthenticator(tokens?: ReadonlyMap<string, string>): (hello: { token: string }) => AuthenticateResult {
  return (hello) => {
    const user = tokens === undefined ? hello.token : tokens.get(hello.token);
    if (user === undefined || user === "") return { refuse: DisconnectCode.AUTH_FAILED, reason: tokens === undefined ? "empty token (the token is the user id)" : "unknown token" };
    return { user };
  };
}
