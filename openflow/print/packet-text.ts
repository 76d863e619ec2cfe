// Describes a packet the way ovs-ofctl prints packet-in and packet-out data: the packet's
// header fields as an exact flow match ("tcp,vlan_tci=0x0000,dl_src=...,tp_dst=80,
// tcp_flags=ack"), followed by the L4 checksum. Handles Ethernet with at most one 802.1Q
// tag, ARP/RARP, and IPv4 with TCP, UDP or ICMP; other payloads stop at the last header
// understood.
import { formatMatch, MatchBuilder } from "../match/index.ts";

const ETH_TYPE = { IPV4: 0x0800, ARP: 0x0806, RARP: 0x8035, VLAN: 0x8100 } as const;
const IP_PROTO = { ICMP: 1, TCP: 6, UDP: 17 } as const;

function mac(data: Buffer, offset: number): bigint {
  return (BigInt(data.readUInt16BE(offset)) << 32n) | BigInt(data.readUInt32BE(offset + 2));
}

function dissectArp(b: MatchBuilder, data: Buffer, offset: number): void {
  if (data.length < offset + 28) return;
  const ethernetIpv4 =
    data.readUInt16BE(offset) === 1 && data.readUInt16BE(offset + 2) === ETH_TYPE.IPV4 && data[offset + 4] === 6 && data[offset + 5] === 4;
  if (!ethernetIpv4) return;
  const op = data.readUInt16BE(offset + 6);
  if (op <= 0xff) b.setCanonical("arp_op", BigInt(op));
  b.setCanonical("arp_sha", mac(data, offset + 8));
  b.setCanonical("arp_spa", BigInt(data.readUInt32BE(offset + 14)));
  b.setCanonical("arp_tha", mac(data, offset + 18));
  b.setCanonical("arp_tpa", BigInt(data.readUInt32BE(offset + 24)));
}

/** Sets every IPv4 field to zero, as Open vSwitch leaves them for an invalid IPv4 header. */
function zeroIpv4(b: MatchBuilder): void {
  for (const name of ["ip_src", "ip_dst", "nw_proto", "nw_tos", "nw_ecn", "nw_ttl", "ip_frag"]) b.setCanonical(name, 0n);
}

/**
 * Sets the IPv4 and L4 fields and returns the L4 checksum text, or "". A header that is
 * shorter than 20 bytes or whose total length exceeds the captured bytes is invalid, so its
 * fields stay zero, as in Open vSwitch's flow extraction.
 */
function dissectIpv4(b: MatchBuilder, data: Buffer, offset: number): string {
  const headerLength = data.length >= offset + 20 ? (data.readUInt8(offset) & 0x0f) * 4 : 0;
  const totalLength = data.length >= offset + 20 ? data.readUInt16BE(offset + 2) : 0;
  if (headerLength < 20 || totalLength < headerLength || data.length < offset + totalLength) {
    zeroIpv4(b);
    return "";
  }
  const tos = data.readUInt8(offset + 1);
  const fragment = data.readUInt16BE(offset + 6);
  const proto = data.readUInt8(offset + 9);

  b.setCanonical("ip_src", BigInt(data.readUInt32BE(offset + 12)));
  b.setCanonical("ip_dst", BigInt(data.readUInt32BE(offset + 16)));
  b.setCanonical("nw_proto", BigInt(proto));
  b.setCanonical("nw_tos", BigInt(tos & 0xfc));
  b.setCanonical("nw_ecn", BigInt(tos & 0x03));
  b.setCanonical("nw_ttl", BigInt(data.readUInt8(offset + 8)));
  const isFragment = (fragment & 0x3fff) !== 0;
  const isLater = (fragment & 0x1fff) !== 0;
  b.setCanonical("ip_frag", BigInt((isFragment ? 1 : 0) | (isLater ? 2 : 0)));
  if (isLater) return "";

  const l4 = offset + headerLength;
  if (proto === IP_PROTO.TCP && data.length >= l4 + 20) {
    b.setCanonical("tcp_src", BigInt(data.readUInt16BE(l4)));
    b.setCanonical("tcp_dst", BigInt(data.readUInt16BE(l4 + 2)));
    b.setCanonical("tcp_flags", BigInt(data.readUInt16BE(l4 + 12) & 0x0fff));
    return ` tcp_csum:${data.readUInt16BE(l4 + 16).toString(16)}`;
  }
  if (proto === IP_PROTO.UDP && data.length >= l4 + 8) {
    b.setCanonical("udp_src", BigInt(data.readUInt16BE(l4)));
    b.setCanonical("udp_dst", BigInt(data.readUInt16BE(l4 + 2)));
    return ` udp_csum:${data.readUInt16BE(l4 + 6).toString(16)}`;
  }
  if (proto === IP_PROTO.ICMP && data.length >= l4 + 4) {
    b.setCanonical("icmp_type", BigInt(data.readUInt8(l4)));
    b.setCanonical("icmp_code", BigInt(data.readUInt8(l4 + 1)));
    return ` icmp_csum:${data.readUInt16BE(l4 + 2).toString(16)}`;
  }
  return "";
}

/** Returns ovs-ofctl's one-line description of an Ethernet frame, ending in "\n". */
export function formatPacket(data: Buffer): string {
  const b = new MatchBuilder();
  if (data.length < 14) return "\n";
  b.setCanonical("eth_dst", mac(data, 0));
  b.setCanonical("eth_src", mac(data, 6));
  let offset = 12;
  let ethType = data.readUInt16BE(offset);
  let tci = 0;
  if (ethType === ETH_TYPE.VLAN && data.length >= 18) {
    tci = data.readUInt16BE(14) | 0x1000;
    offset = 16;
    ethType = data.readUInt16BE(offset);
  }
  offset += 2;
  b.setCanonical("vlan_tci", BigInt(tci));
  b.setCanonical("eth_type", BigInt(ethType));
  let checksum = "";
  if (ethType === ETH_TYPE.ARP || ethType === ETH_TYPE.RARP) dissectArp(b, data, offset);
  else if (ethType === ETH_TYPE.IPV4) checksum = dissectIpv4(b, data, offset);
  return `${formatMatch(b.build())}${checksum}\n`;
}
