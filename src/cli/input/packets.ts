/**
 * One captured packet → one TCP segment: the link layer (Ethernet with VLAN tags, Linux cooked SLL and
 * SLL2, raw IP, BSD NULL/LOOP), IPv4 or IPv6 (extension headers skipped), then the TCP header.
 *
 * Lengths come from the IP header, not the capture, so Ethernet padding after a short packet is never
 * taken for payload. Packets that are not TCP over IP, and IP fragments other than unfragmented ones,
 * are not segments: the parser returns `undefined` for them. Every field is bounds-checked; a packet
 * too short for its own headers is also `undefined` (a capture with a snapshot length cuts packets,
 * and that is not the file's fault).
 */
import type { CapturedPacket } from "./pcap.js";
import { LinkType } from "./pcap.js";
import { CliInputError } from "./errors.js";

/** A TCP segment taken out of a packet. */
export interface TcpSegment {
  /** Index of the packet it came from (see `CapturedPacket.index`). */
  readonly packetIndex: number;
  /** `"4"` or `"6"`. */
  readonly ipVersion: 4 | 6;
  /** Source address, printable (`127.0.0.1`, `::1`). */
  readonly srcAddress: string;
  readonly srcPort: number;
  readonly dstAddress: string;
  readonly dstPort: number;
  /** Sequence number of the first byte (of the SYN itself when `syn` is set). */
  readonly seq: number;
  readonly syn: boolean;
  readonly fin: boolean;
  readonly rst: boolean;
  /** TCP payload: a view into the packet data, no copy. */
  readonly payload: Uint8Array;
  /** Payload bytes the IP header announces but the capture cut off (snapshot length). */
  readonly missingBytes: number;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const PROTO_TCP = 6;

/**
 * Extracts the TCP segment a captured packet carries.
 * @returns the segment (its `payload` a view into `packet.data`), or `undefined` when the packet is
 *   not an unfragmented TCP-over-IP packet or is too short for its headers.
 * @throws CliInputError UNSUPPORTED_LINKTYPE (offset: the packet's record) for a link type this reader
 *   does not know.
 */
export function tcpSegmentOf(packet: CapturedPacket): TcpSegment | undefined {
  const data = packet.data;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const network = networkLayer(packet, view);
  if (network === undefined) return undefined;
  const missing = Math.max(0, packet.originalLength - data.byteLength);
  return network.version === 4 ? ipv4(packet, view, network.at, missing) : ipv6(packet, view, network.at, missing);
}

/** Where the IP header starts and which version it is, per link type. */
function networkLayer(packet: CapturedPacket, view: DataView): { at: number; version: 4 | 6 } | undefined {
  const size = view.byteLength;
  const fromEthertype = (type: number, at: number): { at: number; version: 4 | 6 } | undefined =>
    type === ETHERTYPE_IPV4 ? { at, version: 4 } : type === ETHERTYPE_IPV6 ? { at, version: 6 } : undefined;
  const fromNibble = (at: number): { at: number; version: 4 | 6 } | undefined => {
    if (size <= at) return undefined;
    const nibble = view.getUint8(at) >> 4;
    return nibble === 4 ? { at, version: 4 } : nibble === 6 ? { at, version: 6 } : undefined;
  };
  switch (packet.linkType) {
    case LinkType.ETHERNET: {
      let at = 12;
      if (size < at + 2) return undefined;
      let type = view.getUint16(at);
      while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) {
        at += 4;
        if (size < at + 2) return undefined;
        type = view.getUint16(at);
      }
      return fromEthertype(type, at + 2);
    }
    case LinkType.LINUX_SLL:
      return size < 16 ? undefined : fromEthertype(view.getUint16(14), 16);
    case LinkType.LINUX_SLL2:
      return size < 20 ? undefined : fromEthertype(view.getUint16(0), 20);
    case LinkType.RAW:
    case LinkType.RAW_BSD_12:
    case LinkType.RAW_BSD_14:
      return fromNibble(0);
    case LinkType.IPV4:
      return fromNibble(0)?.version === 4 ? { at: 0, version: 4 } : undefined;
    case LinkType.IPV6:
      return fromNibble(0)?.version === 6 ? { at: 0, version: 6 } : undefined;
    case LinkType.NULL:
    case LinkType.LOOP: {
      // The address family: AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30 depending on the OS.
      // NULL stores it in the capturing host's byte order, so accept either; the IP nibble decides.
      if (size < 4) return undefined;
      const family = view.getUint32(0, packet.linkType === LinkType.NULL ? true : false);
      const swapped = view.getUint32(0, packet.linkType === LinkType.NULL ? false : true);
      const known = (f: number): boolean => f === 2 || f === 10 || f === 24 || f === 28 || f === 30;
      return known(family) || known(swapped) ? fromNibble(4) : undefined;
    }
    default:
      throw new CliInputError("UNSUPPORTED_LINKTYPE", `link type ${packet.linkType} is not supported (Ethernet, Linux SLL/SLL2, raw IP and loopback are)`, {
        offset: packet.fileOffset,
      });
  }
}

function ipv4(packet: CapturedPacket, view: DataView, at: number, missing: number): TcpSegment | undefined {
  const size = view.byteLength;
  if (size < at + 20) return undefined;
  const headerLength = (view.getUint8(at) & 0x0f) * 4;
  const announced = view.getUint16(at + 2);
  const fragment = view.getUint16(at + 6);
  if (headerLength < 20 || view.getUint8(at + 9) !== PROTO_TCP) return undefined;
  if ((fragment & 0x2000) !== 0 || (fragment & 0x1fff) !== 0) return undefined; // MF set or offset ≠ 0
  // A total length of 0 appears when the NIC segments (TSO) after capture: use what was captured.
  const end = announced === 0 ? size : Math.min(at + announced, size);
  const lost = announced === 0 ? missing : Math.max(0, at + announced - size);
  const src = dottedQuad(view, at + 12);
  const dst = dottedQuad(view, at + 16);
  return tcp(packet, view, at + headerLength, end, 4, src, dst, lost);
}

function ipv6(packet: CapturedPacket, view: DataView, at: number, missing: number): TcpSegment | undefined {
  const size = view.byteLength;
  if (size < at + 40) return undefined;
  const payloadLength = view.getUint16(at + 4);
  let next = view.getUint8(at + 6);
  const src = ipv6Text(view, at + 8);
  const dst = ipv6Text(view, at + 24);
  const announcedEnd = payloadLength === 0 ? size : at + 40 + payloadLength;
  const end = Math.min(announcedEnd, size);
  const lost = payloadLength === 0 ? missing : Math.max(0, announcedEnd - size);
  let header = at + 40;
  for (let hops = 0; next !== PROTO_TCP; hops++) {
    if (hops > 8 || header + 8 > end) return undefined;
    switch (next) {
      case 0: // hop-by-hop
      case 43: // routing
      case 60: // destination options
        next = view.getUint8(header);
        header += (view.getUint8(header + 1) + 1) * 8;
        break;
      case 44: {
        // fragment: only a whole datagram (offset 0, no more fragments) is usable
        const field = view.getUint16(header + 2);
        if ((field & 0xfff8) !== 0 || (field & 1) !== 0) return undefined;
        next = view.getUint8(header);
        header += 8;
        break;
      }
      case 51: // authentication header
        next = view.getUint8(header);
        header += (view.getUint8(header + 1) + 2) * 4;
        break;
      default:
        return undefined;
    }
  }
  return tcp(packet, view, header, end, 6, src, dst, lost);
}

function tcp(
  packet: CapturedPacket,
  view: DataView,
  at: number,
  end: number,
  ipVersion: 4 | 6,
  srcAddress: string,
  dstAddress: string,
  missingBytes: number,
): TcpSegment | undefined {
  if (end < at + 20) return undefined;
  const headerLength = (view.getUint8(at + 12) >> 4) * 4;
  if (headerLength < 20 || at + headerLength > end) return undefined;
  const flags = view.getUint8(at + 13);
  const data = packet.data;
  return {
    packetIndex: packet.index,
    ipVersion,
    srcAddress,
    srcPort: view.getUint16(at),
    dstAddress,
    dstPort: view.getUint16(at + 2),
    seq: view.getUint32(at + 4),
    syn: (flags & 0x02) !== 0,
    fin: (flags & 0x01) !== 0,
    rst: (flags & 0x04) !== 0,
    payload: new Uint8Array(data.buffer, data.byteOffset + at + headerLength, end - at - headerLength),
    missingBytes,
  };
}

function dottedQuad(view: DataView, at: number): string {
  return `${view.getUint8(at)}.${view.getUint8(at + 1)}.${view.getUint8(at + 2)}.${view.getUint8(at + 3)}`;
}

/** RFC 5952 text: lower-case, leading zeros dropped, the longest run of ≥ 2 zero groups as `::`. */
function ipv6Text(view: DataView, at: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(view.getUint16(at + i * 2));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}
