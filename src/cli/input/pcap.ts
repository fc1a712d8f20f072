/**
 * Capture files → packets: classic pcap (both byte orders, microsecond and nanosecond magic) and
 * pcapng (Section Header, Interface Description, Enhanced Packet, Simple Packet and the obsolete
 * Packet block; other blocks skipped; several sections; a link type per interface).
 *
 * The readers only cut the file into records and check every length before using it: a record or
 * block that runs past the end of the file is a {@link CliInputError} `CAPTURE_TRUNCATED` with the byte
 * offset where it starts, never a `RangeError`. Link layers, IP and TCP are parsed in `packets.ts`.
 */
import { CliInputError } from "./errors.js";

/** Link types (LINKTYPE_* numbers of tcpdump.org) that `packets.ts` understands. */
export const LinkType = {
  /** BSD loopback: 4-byte address family in the capturing host's byte order. */
  NULL: 0,
  ETHERNET: 1,
  /** DLT_RAW as some BSDs number it. */
  RAW_BSD_12: 12,
  /** DLT_RAW as OpenBSD numbers it. */
  RAW_BSD_14: 14,
  /** Raw IPv4 or IPv6, version taken from the first nibble. */
  RAW: 101,
  /** OpenBSD loopback: 4-byte address family, network byte order. */
  LOOP: 108,
  /** Linux "cooked" capture v1 (`tcpdump -i any` before libpcap 1.10). */
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  /** Linux "cooked" capture v2 (`tcpdump -i any` since libpcap 1.10). */
  LINUX_SLL2: 276,
} as const;

/** One captured packet. */
export interface CapturedPacket {
  /** 0-based position among the file's packets. */
  readonly index: number;
  /** Byte offset in the file of the record or block that holds the packet. */
  readonly fileOffset: number;
  /** Byte offset in the file of the packet's first data byte. */
  readonly dataOffset: number;
  /** LINKTYPE_* of the packet's interface (see {@link LinkType}). */
  readonly linkType: number;
  /** pcapng interface id (0 for classic pcap). */
  readonly interfaceId: number;
  /** Capture time: whole seconds since the epoch. */
  readonly seconds: number;
  /** Capture time: nanoseconds within the second. */
  readonly nanoseconds: number;
  /** The packet's length on the wire; more than `data.byteLength` when the snapshot length cut it. */
  readonly originalLength: number;
  /** The captured bytes: a view into the file's bytes, no copy. */
  readonly data: Uint8Array;
}

/** Result of {@link readCapture}. */
export interface Capture {
  readonly format: "pcap" | "pcapng";
  /** Packets in file order; their `data` are views into the input. */
  readonly packets: CapturedPacket[];
  /**
   * Set when the file ends inside a record or block after at least one whole packet: the packets
   * before the cut are still returned, and this error (CAPTURE_TRUNCATED, with the cut record's offset)
   * says where it stopped.
   */
  readonly truncated?: CliInputError;
}

/** The magic numbers of classic pcap, read big-endian: the file's byte order and timestamp unit. */
const PCAP_MAGIC = {
  MICROS_BIG_ENDIAN: 0xa1b2c3d4,
  MICROS_LITTLE_ENDIAN: 0xd4c3b2a1,
  NANOS_BIG_ENDIAN: 0xa1b23c4d,
  NANOS_LITTLE_ENDIAN: 0x4d3cb2a1,
} as const;
const PCAP_HEADER = 24;
const PCAP_RECORD_HEADER = 16;
const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_PB = 0x00000002;
const BLOCK_SPB = 0x00000003;
const BLOCK_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** The byte-order magic as a big-endian section writes it, read little-endian. */
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;

/**
 * The capture format named by the first 4 bytes of a file (the only place the magic numbers are read).
 * @returns "pcap", "pcapng", or `undefined` for anything else (fewer than 4 bytes included). Never throws.
 */
export function captureFormatOf(head: Uint8Array): "pcap" | "pcapng" | undefined {
  if (head.byteLength < 4) return undefined;
  const magic = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
  if (magic === BLOCK_SHB) return "pcapng";
  return Object.values(PCAP_MAGIC).some((m) => m === magic) ? "pcap" : undefined;
}

/**
 * Reads a pcap or pcapng file held in memory.
 * @returns the format and its packets; each packet's `data` is a view into `bytes` (no copy), so keep
 *   `bytes` unchanged while the packets are used.
 * @throws CliInputError NOT_A_CAPTURE when neither magic number starts `bytes`; CAPTURE_TRUNCATED (with
 *   the offset of the cut-off header, record or block) when the file ends early; CAPTURE_MALFORMED
 *   for impossible lengths, a packet on an undeclared interface, or a pcapng block before the first
 *   Section Header Block.
 */
export function readCapture(bytes: Uint8Array): Capture {
  const format = captureFormatOf(bytes);
  if (format === undefined) throw new CliInputError("NOT_A_CAPTURE", "not a pcap or pcapng file (no magic number at the start)", { offset: 0 });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const packets: CapturedPacket[] = [];
  try {
    if (format === "pcapng") readPcapng(bytes, view, packets);
    else readPcap(bytes, view, packets);
  } catch (error) {
    // A capture cut off mid-record (a copy taken while tcpdump still ran): keep what came before.
    if (error instanceof CliInputError && error.code === "CAPTURE_TRUNCATED" && packets.length > 0) return { format, packets, truncated: error };
    throw error;
  }
  return { format, packets };
}

function readPcap(bytes: Uint8Array, view: DataView, packets: CapturedPacket[]): void {
  const magicBE = view.getUint32(0, false);
  const little = magicBE === PCAP_MAGIC.MICROS_LITTLE_ENDIAN || magicBE === PCAP_MAGIC.NANOS_LITTLE_ENDIAN;
  const nanos = magicBE === PCAP_MAGIC.NANOS_BIG_ENDIAN || magicBE === PCAP_MAGIC.NANOS_LITTLE_ENDIAN;
  const length = bytes.byteLength;
  if (length < PCAP_HEADER) {
    throw new CliInputError("CAPTURE_TRUNCATED", `pcap file header needs ${PCAP_HEADER} bytes, the file has ${length}`, { offset: 0 });
  }
  const linkType = view.getUint32(20, little) & 0xffff; // upper bits carry FCS information
  let at = PCAP_HEADER;
  while (at < length) {
    if (length - at < PCAP_RECORD_HEADER) {
      throw new CliInputError(
        "CAPTURE_TRUNCATED",
        `pcap record header #${packets.length + 1} cut off: ${length - at} of ${PCAP_RECORD_HEADER} bytes`,
        { offset: at },
      );
    }
    const seconds = view.getUint32(at, little);
    const fraction = view.getUint32(at + 4, little);
    const included = view.getUint32(at + 8, little);
    const original = view.getUint32(at + 12, little);
    const dataOffset = at + PCAP_RECORD_HEADER;
    if (included > length - dataOffset) {
      throw new CliInputError(
        "CAPTURE_TRUNCATED",
        `pcap record #${packets.length + 1} says ${included} captured bytes but the file has ${length - dataOffset} left`,
        { offset: at },
      );
    }
    packets.push({
      index: packets.length,
      fileOffset: at,
      dataOffset,
      linkType,
      interfaceId: 0,
      seconds,
      nanoseconds: nanos ? fraction : fraction * 1000,
      originalLength: original,
      data: new Uint8Array(bytes.buffer, bytes.byteOffset + dataOffset, included),
    });
    at = dataOffset + included;
  }
}

interface PcapngInterface {
  readonly linkType: number;
  readonly snapLength: number;
  /** Timestamp units per second (if_tsresol), default 10^6. */
  readonly unitsPerSecond: bigint;
}

function readPcapng(bytes: Uint8Array, view: DataView, packets: CapturedPacket[]): void {
  const length = bytes.byteLength;
  let little = true;
  let interfaces: PcapngInterface[] = [];
  let at = 0;
  while (at < length) {
    if (length - at < 12) {
      throw new CliInputError("CAPTURE_TRUNCATED", `pcapng block header cut off: ${length - at} of 12 bytes`, { offset: at });
    }
    const type = view.getUint32(at, little);
    if (type === BLOCK_SHB || view.getUint32(at, false) === BLOCK_SHB) {
      // A new section: its byte-order magic decides how everything until the next SHB is read.
      const order = view.getUint32(at + 8, true);
      if (order === BYTE_ORDER_MAGIC) little = true;
      else if (order === BYTE_ORDER_MAGIC_SWAPPED) little = false;
      else throw new CliInputError("CAPTURE_MALFORMED", `bad pcapng byte-order magic 0x${order.toString(16)}`, { offset: at + 8 });
      interfaces = [];
    }
    const blockType = view.getUint32(at, little);
    const total = view.getUint32(at + 4, little);
    if (total < 12 || total % 4 !== 0) {
      throw new CliInputError("CAPTURE_MALFORMED", `pcapng block length ${total} is not a multiple of 4 of at least 12`, { offset: at + 4 });
    }
    if (total > length - at) {
      throw new CliInputError(
        "CAPTURE_TRUNCATED",
        `pcapng block of ${total} bytes (type 0x${blockType.toString(16)}) cut off after ${length - at}`,
        { offset: at },
      );
    }
    if (view.getUint32(at + total - 4, little) !== total) {
      throw new CliInputError("CAPTURE_MALFORMED", `pcapng block's trailing length differs from its leading length ${total}`, { offset: at + total - 4 });
    }
    const bodyStart = at + 8;
    const bodyEnd = at + total - 4;
    const needBody = (size: number, what: string): void => {
      if (bodyEnd - bodyStart < size) {
        throw new CliInputError("CAPTURE_MALFORMED", `pcapng ${what} block of ${total} bytes is too short for its fields`, { offset: at });
      }
    };
    switch (blockType) {
      case BLOCK_SHB:
        needBody(16, "section header");
        break;
      case BLOCK_IDB: {
        needBody(8, "interface description");
        interfaces.push({
          linkType: view.getUint16(bodyStart, little),
          snapLength: view.getUint32(bodyStart + 4, little),
          unitsPerSecond: readTsResolution(view, bodyStart + 8, bodyEnd, little),
        });
        break;
      }
      case BLOCK_EPB:
      case BLOCK_PB: {
        needBody(20, blockType === BLOCK_EPB ? "enhanced packet" : "packet");
        const interfaceId = blockType === BLOCK_EPB ? view.getUint32(bodyStart, little) : view.getUint16(bodyStart, little);
        const high = view.getUint32(bodyStart + 4, little);
        const low = view.getUint32(bodyStart + 8, little);
        const captured = view.getUint32(bodyStart + 12, little);
        const original = view.getUint32(bodyStart + 16, little);
        const dataOffset = bodyStart + 20;
        if (captured > bodyEnd - dataOffset) {
          throw new CliInputError(
            "CAPTURE_MALFORMED",
            `pcapng packet says ${captured} captured bytes but its block holds ${bodyEnd - dataOffset}`,
            { offset: at },
          );
        }
        const iface = interfaceOf(interfaces, interfaceId, at);
        const ticks = (BigInt(high) << 32n) | BigInt(low);
        const seconds = ticks / iface.unitsPerSecond;
        const nanoseconds = ((ticks % iface.unitsPerSecond) * 1_000_000_000n) / iface.unitsPerSecond;
        packets.push({
          index: packets.length,
          fileOffset: at,
          dataOffset,
          linkType: iface.linkType,
          interfaceId,
          seconds: Number(seconds),
          nanoseconds: Number(nanoseconds),
          originalLength: original,
          data: new Uint8Array(bytes.buffer, bytes.byteOffset + dataOffset, captured),
        });
        break;
      }
      case BLOCK_SPB: {
        needBody(4, "simple packet");
        const iface = interfaceOf(interfaces, 0, at);
        const original = view.getUint32(bodyStart, little);
        const dataOffset = bodyStart + 4;
        let captured = Math.min(original, bodyEnd - dataOffset);
        if (iface.snapLength > 0) captured = Math.min(captured, iface.snapLength);
        packets.push({
          index: packets.length,
          fileOffset: at,
          dataOffset,
          linkType: iface.linkType,
          interfaceId: 0,
          seconds: 0,
          nanoseconds: 0,
          originalLength: original,
          data: new Uint8Array(bytes.buffer, bytes.byteOffset + dataOffset, captured),
        });
        break;
      }
      default:
        // Name resolution, statistics, custom and decryption-secret blocks carry no packets.
        break;
    }
    at += total;
  }
}

function interfaceOf(interfaces: readonly PcapngInterface[], id: number, offset: number): PcapngInterface {
  const iface = interfaces[id];
  if (iface === undefined) {
    throw new CliInputError("CAPTURE_MALFORMED", `packet on interface ${id}, but the section declares ${interfaces.length}`, { offset });
  }
  return iface;
}

/** Reads option if_tsresol (code 9) from an IDB's options; default microseconds. */
function readTsResolution(view: DataView, start: number, end: number, little: boolean): bigint {
  let at = start;
  while (at + 4 <= end) {
    const code = view.getUint16(at, little);
    const size = view.getUint16(at + 2, little);
    if (code === 0) break; // opt_endofopt
    if (at + 4 + size > end) break; // a malformed option list only loses the resolution
    if (code === 9 && size >= 1) {
      const value = view.getUint8(at + 4);
      const exponent = BigInt(value & 0x7f);
      return value & 0x80 ? 2n ** exponent : 10n ** exponent;
    }
    at += 4 + ((size + 3) & ~3);
  }
  return 1_000_000n;
}
