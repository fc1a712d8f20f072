/**
 * The capture pipeline in one call: file bytes → packets (`pcap.ts`) → TCP segments (`packets.ts`) →
 * per-direction byte streams (`tcp-reassembly.ts`). The `dump` command decodes each stream as a frame
 * stream.
 */
import type { CliInputError } from "./errors.js";
import { readCapture } from "./pcap.js";
import { tcpSegmentOf, type TcpSegment } from "./packets.js";
import { reassembleTcp, type ReassembleOptions, type TcpStream } from "./tcp-reassembly.js";

/** Result of {@link captureStreams}. */
export interface CaptureStreams {
  readonly format: "pcap" | "pcapng";
  /** Packets in the file. */
  readonly packetCount: number;
  /** Packets that carried no usable TCP segment (not IP, not TCP, fragments, cut before TCP). */
  readonly ignoredPackets: number;
  /** One entry per connection direction with payload, in capture order (see `reassembleTcp`). */
  readonly streams: TcpStream[];
  /** Set when the file was cut off mid-record: the streams hold the packets before the cut. */
  readonly truncated?: CliInputError;
}

/**
 * Reads a pcap/pcapng file held in memory and reassembles its TCP streams.
 * @returns the streams; each `data` is a fresh array (the file's bytes are not aliased by it).
 * @throws CliInputError NOT_A_CAPTURE, CAPTURE_TRUNCATED, CAPTURE_MALFORMED (with the byte offset in
 *   the file) or UNSUPPORTED_LINKTYPE; RangeError for an invalid `options.port`.
 */
export function captureStreams(bytes: Uint8Array, options: ReassembleOptions = {}): CaptureStreams {
  const capture = readCapture(bytes);
  const segments: TcpSegment[] = [];
  let ignored = 0;
  for (const packet of capture.packets) {
    const segment = tcpSegmentOf(packet);
    if (segment === undefined) ignored++;
    else segments.push(segment);
  }
  return {
    format: capture.format,
    packetCount: capture.packets.length,
    ignoredPackets: ignored,
    streams: reassembleTcp(segments, options),
    ...(capture.truncated === undefined ? {} : { truncated: capture.truncated }),
  };
}
