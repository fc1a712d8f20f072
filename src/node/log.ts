/**
 * One line of text per connection event, as `syncwire serve` prints them:
 *
 *   2025-01-01T12:00:00.000Z tcp#3 127.0.0.1:51514 authenticated user=alice client=laptop session=1a2b…-3 v1
 */
import { DisconnectCode } from "../gen/syncwire/v1/session_pb.js";
import type { ServerLogEntry } from "./server-link.js";

function codeName(code: number): string {
  return DisconnectCode[code] ?? String(code);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Formats a connection event as one line (no trailing newline). Never throws.
 * @returns `<ISO time> <transport>#<link> <remote> <event> <details>`.
 */
export function formatServerLogEntry(entry: ServerLogEntry): string {
  const event = entry.event;
  let text: string;
  switch (event.type) {
    case "accepted":
      text = "accepted";
      break;
    case "authenticated":
      text = `authenticated user=${event.user} client=${event.clientId || "-"} session=${event.sessionId} v${event.version}`;
      break;
    case "refused":
      text = `refused ${codeName(event.code)}: ${event.reason}`;
      break;
    case "protocol-error":
      text = `protocol-error ${event.reason}`;
      break;
    case "application":
      text = `application op=${event.frame.op} seq=${event.frame.seq} ${event.frame.body.byteLength} B`;
      break;
    case "error":
      text = `error in ${event.source} (${event.request}): ${describe(event.error)}`;
      break;
    case "closed":
      text = `closed by ${event.initiator} ${codeName(event.code)}${event.reason === "" ? "" : `: ${event.reason}`}`;
      break;
  }
  return `${new Date(entry.time).toISOString()} ${entry.transport}#${entry.link} ${entry.remote} ${text}`;
}
