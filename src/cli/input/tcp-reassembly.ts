/**
 * TCP segments → one contiguous byte stream per connection and direction.
 *
 * Theory of operation. Segments are grouped by connection (the unordered pair of endpoints) and, inside
 * it, by direction (source → destination). Nothing is copied while grouping. When all segments are in,
 * each direction is assembled once:
 *
 * 1. The stream's first sequence number is the SYN's seq + 1 when the capture holds the SYN; otherwise
 *    the lowest seq among the data segments (a capture that starts mid-connection). Sequence numbers
 *    are compared as signed 32-bit distances from the first segment seen, so wraparound is harmless.
 * 2. Segments are sorted by that relative position (a stable sort: for equal positions the one
 *    captured first wins).
 * 3. A cursor walks the sorted list: a segment wholly below the cursor is a retransmission and skipped;
 *    one overlapping it contributes only its new tail; one starting above it leaves a hole — the stream
 *    ends there and `gap` says where and how much is missing (a frame decoder cannot resync across a
 *    hole).
 * 4. The length is known after one walk, so the bytes are copied exactly once into one allocation.
 *
 * That is O(n log n) in the number of segments and O(bytes) in copying: never quadratic.
 */
import type { TcpSegment } from "./packets.js";

/** One endpoint of a connection. */
export interface Endpoint {
  /** Printable address (`127.0.0.1`, `::1`). */
  readonly address: string;
  readonly port: number;
}

/** The bytes one side of a TCP connection sent, in order. */
export interface TcpStream {
  /** `"127.0.0.1:5000 → 127.0.0.1:40000"`; IPv6 addresses in brackets (`[::1]:5000`). */
  readonly label: string;
  /** 0-based index of the connection, in order of its first packet in the capture. */
  readonly connection: number;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  /** The reassembled payload bytes: a fresh array owned by the caller (copied once from the packets). */
  readonly data: Uint8Array;
  /** Number of segments that carried payload (retransmissions included). */
  readonly segments: number;
  /** Index of the first packet of this direction. */
  readonly firstPacket: number;
  /** True when this direction's SYN was captured (so `data` starts at the real stream start). */
  readonly sawSyn: boolean;
  /** True when a FIN or RST was seen in this direction. */
  readonly closed: boolean;
  /** Set when bytes are missing: `data` stops at stream offset `offset`, and `missing` bytes were not captured before the next segment. */
  readonly gap?: { readonly offset: number; readonly missing: number };
}

/** Options of {@link reassembleTcp}. */
export interface ReassembleOptions {
  /** Keep only connections with this port at either end (`--port`). */
  port?: number;
}

interface Direction {
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly connection: number;
  readonly firstPacket: number;
  synSeq: number | undefined;
  closed: boolean;
  readonly segments: TcpSegment[];
}

/**
 * The printable `address:port` of an endpoint, IPv6 addresses bracketed.
 * @returns a fresh string; never throws.
 */
export function endpointLabel(endpoint: Endpoint): string {
  return endpoint.address.includes(":") ? `[${endpoint.address}]:${endpoint.port}` : `${endpoint.address}:${endpoint.port}`;
}

/**
 * Reassembles every direction of every TCP connection in `segments` (in capture order).
 * @returns the streams, ordered by connection then by the direction's first packet; directions
 *   without any payload are left out. Each `data` is a fresh array (one copy of the payload bytes).
 * @throws RangeError if `options.port` is not an integer from 0 to 65535. Bad segments cannot make it
 *   throw: holes become `gap`, overlaps and retransmissions are resolved as described above.
 */
export function reassembleTcp(segments: Iterable<TcpSegment>, options: ReassembleOptions = {}): TcpStream[] {
  const port = options.port;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 0xffff)) {
    throw new RangeError(`port must be an integer from 0 to 65535, got ${port}`);
  }
  const directions = new Map<string, Direction>();
  const connections = new Map<string, number>();
  for (const segment of segments) {
    if (port !== undefined && segment.srcPort !== port && segment.dstPort !== port) continue;
    const src = endpointLabel({ address: segment.srcAddress, port: segment.srcPort });
    const dst = endpointLabel({ address: segment.dstAddress, port: segment.dstPort });
    const key = `${src} → ${dst}`;
    let direction = directions.get(key);
    if (direction === undefined) {
      const connectionKey = src < dst ? `${src}|${dst}` : `${dst}|${src}`;
      let connection = connections.get(connectionKey);
      if (connection === undefined) {
        connection = connections.size;
        connections.set(connectionKey, connection);
      }
      direction = {
        src: { address: segment.srcAddress, port: segment.srcPort },
        dst: { address: segment.dstAddress, port: segment.dstPort },
        connection,
        firstPacket: segment.packetIndex,
        synSeq: undefined,
        closed: false,
        segments: [],
      };
      directions.set(key, direction);
    }
    if (segment.syn) direction.synSeq = segment.seq;
    if (segment.fin || segment.rst) direction.closed = true;
    if (segment.payload.byteLength > 0 || segment.missingBytes > 0) direction.segments.push(segment);
  }
  const streams: TcpStream[] = [];
  for (const [label, direction] of directions) {
    if (direction.segments.length === 0) continue;
    streams.push(assemble(label, direction));
  }
  streams.sort((a, b) => a.connection - b.connection || a.firstPacket - b.firstPacket);
  return streams;
}

/** Signed 32-bit distance from `from` to `to`. */
function seqDistance(from: number, to: number): number {
  return (to - from) | 0;
}

function assemble(label: string, direction: Direction): TcpStream {
  const first = direction.segments[0]!;
  const reference = first.seq;
  // A SYN occupies one sequence number; its payload (TCP Fast Open) starts right after it.
  const placed = direction.segments.map((segment) => ({
    start: seqDistance(reference, segment.seq) + (segment.syn ? 1 : 0),
    segment,
  }));
  let base: number;
  if (direction.synSeq !== undefined) {
    base = seqDistance(reference, direction.synSeq) + 1;
  } else {
    base = placed[0]!.start;
    for (const p of placed) if (p.start < base) base = p.start;
  }
  placed.sort((a, b) => a.start - b.start);

  // Pass 1: measure (and find the first hole); pass 2: copy once.
  let cursor = base;
  let gap: { offset: number; missing: number } | undefined;
  let cutShort = 0; // bytes the capture cut off the segment that last reached the cursor
  for (const { start, segment } of placed) {
    const end = start + segment.payload.byteLength;
    if (start > cursor) {
      gap = { offset: cursor - base, missing: start - cursor };
      break;
    }
    if (end >= cursor && segment.missingBytes > 0) cutShort = segment.missingBytes;
    else if (end > cursor) cutShort = 0;
    if (end > cursor) cursor = end;
  }
  // A snapshot length cut the last bytes and no later segment brought them: a hole at the end.
  if (gap === undefined && cutShort > 0) gap = { offset: cursor - base, missing: cutShort };
  const data = new Uint8Array(cursor - base);
  let written = base;
  for (const { start, segment } of placed) {
    if (written >= cursor) break;
    const end = start + segment.payload.byteLength;
    if (end <= written) continue;
    const from = written - start;
    const upTo = Math.min(end, cursor) - start;
    data.set(segment.payload.subarray(from, upTo), written - base);
    written = start + upTo;
  }
  return {
    label,
    connection: direction.connection,
    src: direction.src,
    dst: direction.dst,
    data,
    segments: direction.segments.length,
    firstPacket: direction.firstPacket,
    sawSyn: direction.synSeq !== undefined,
    closed: direction.closed,
    ...(gap === undefined ? {} : { gap }),
  };
}
