// Match text exactly as ovs-ofctl 3.1 prints it (OVS's match_format()): priority first,
// then metadata and conntrack fields, the protocol shorthand (ip, tcp6, arp...), registers,
// tunnel fields, in_port, VLAN, Ethernet, L3, L4, each in a fixed order and spelling.

import { formatEthernet, formatIpv4, formatIpv6, prefixLengthOf } from "./addresses.ts";
import { bufferToBigint, formatHexBytes } from "./field-values.ts";
import { CT_STATE_FLAGS, formatFlags, formatFlagsMasked, TCP_FLAGS, TUNNEL_FLAGS } from "./flags.ts";
import type { Match, MatchEntry } from "./match.ts";
import { formatPort, portFromOfp11 } from "./ports.ts";
import type { PortNameMap } from "./ports.ts";
import { EthType, IpProto } from "./prerequisites.ts";

/** Priority that OpenFlow assigns when none is given; ovs-ofctl omits it. */
export const DEFAULT_PRIORITY = 0x8000;

export interface FormatMatchOptions {
  /** Printed first as "priority=N" unless it equals the default 32768. */
  priority?: number;
  /** Port names to print for in_port instead of numbers. */
  portNames?: PortNameMap;
}

/** Entries of the match being printed, by canonical field name. */
type EntryIndex = ReadonlyMap<string, MatchEntry>;

/** Value and mask of one entry as integers; mask is all ones for an exact entry. */
interface Numeric {
  value: bigint;
  mask: bigint;
  full: bigint;
}

function numeric(entry: MatchEntry | undefined): Numeric | undefined {
  if (!entry) return undefined;
  const full = (1n << BigInt(entry.value.length * 8)) - 1n;
  const value = bufferToBigint(entry.value);
  const mask = entry.mask ? bufferToBigint(entry.mask) : full;
  return { value, mask, full };
}

function hex(value: bigint): string {
  return value === 0n ? "0" : `0x${value.toString(16)}`;
}

/** Collects "name=value" parts; the caller joins them with commas. */
class Parts {
  readonly items: string[] = [];

  add(text: string): void {
    this.items.push(text);
  }

  /** OVS's "%#x" spelling with an optional "/%#x" mask (registers, pkt_mark, metadata). */
  hexMasked(name: string, entry: MatchEntry | undefined): void {
    const n = numeric(entry);
    if (!n) return;
    this.add(n.mask === n.full ? `${name}=${hex(n.value)}` : `${name}=${hex(n.value)}/${hex(n.mask)}`);
  }

  /** Decimal when exact, else "0x%x/0x%x" (transport ports, ct_zone, conntrack ports). */
  decimalOrHexMasked(name: string, entry: MatchEntry | undefined): void {
    const n = numeric(entry);
    if (!n) return;
    const text = n.mask === n.full ? n.value.toString(10) : `0x${n.value.toString(16)}/0x${n.mask.toString(16)}`;
    this.add(`${name}=${text}`);
  }

  ipv4(name: string, entry: MatchEntry | undefined): void {
    if (!entry) return;
    if (!entry.mask) return this.add(`${name}=${formatIpv4(entry.value)}`);
    const prefix = prefixLengthOf(entry.mask);
    this.add(`${name}=${formatIpv4(entry.value)}/${prefix === undefined ? formatIpv4(entry.mask) : prefix}`);
  }

  ipv6(name: string, entry: MatchEntry | undefined): void {
    if (!entry) return;
    if (!entry.mask) return this.add(`${name}=${formatIpv6(entry.value)}`);
    const prefix = prefixLengthOf(entry.mask);
    this.add(`${name}=${formatIpv6(entry.value)}/${prefix === undefined ? formatIpv6(entry.mask) : prefix}`);
  }

  ethernet(name: string, entry: MatchEntry | undefined): void {
    if (!entry) return;
    const mask = entry.mask ? `/${formatEthernet(entry.mask)}` : "";
    this.add(`${name}=${formatEthernet(entry.value)}${mask}`);
  }
}

const IPV4_KEYWORDS: ReadonlyMap<bigint, string> = new Map([
  [IpProto.ICMP, "icmp"],
  [IpProto.TCP, "tcp"],
  [IpProto.UDP, "udp"],
  [IpProto.SCTP, "sctp"],
]);

const IPV6_KEYWORDS: ReadonlyMap<bigint, string> = new Map([
  [IpProto.ICMPV6, "icmp6"],
  [IpProto.TCP, "tcp6"],
  [IpProto.UDP, "udp6"],
  [IpProto.SCTP, "sctp6"],
]);

const ETHERNET_KEYWORDS: ReadonlyMap<bigint, string> = new Map([
  [EthType.ARP, "arp"],
  [EthType.RARP, "rarp"],
  [EthType.MPLS, "mpls"],
  [EthType.MPLS_MULTICAST, "mplsm"],
]);

function protocolKeyword(ethType: bigint, proto: bigint | undefined): { keyword: string; consumesProto: boolean } | undefined {
  if (ethType === EthType.IPV4 || ethType === EthType.IPV6) {
    const isV6 = ethType === EthType.IPV6;
    const named = proto === undefined ? undefined : (isV6 ? IPV6_KEYWORDS : IPV4_KEYWORDS).get(proto);
    return named ? { keyword: named, consumesProto: true } : { keyword: isV6 ? "ipv6" : "ip", consumesProto: false };
  }
  const keyword = ETHERNET_KEYWORDS.get(ethType);
  return keyword ? { keyword, consumesProto: false } : undefined;
}

function formatConntrack(parts: Parts, fields: EntryIndex): void {
  const state = numeric(fields.get("ct_state"));
  if (state) {
    const mask = state.mask & 0xffn;
    const text =
      mask === 0xffn
        ? formatFlags(CT_STATE_FLAGS, Number(state.value & 0xffn))
        : formatFlagsMasked(CT_STATE_FLAGS, { flags: Number(state.value), mask: Number(mask), fullMask: 0xff });
    parts.add(`ct_state=${text}`);
  }
  parts.decimalOrHexMasked("ct_zone", fields.get("ct_zone"));
  parts.hexMasked("ct_mark", fields.get("ct_mark"));

  const label = fields.get("ct_label");
  if (label) parts.add(`ct_label=${formatHexBytes(label.value)}${label.mask ? `/${formatHexBytes(label.mask)}` : ""}`);

  parts.ipv4("ct_nw_src", fields.get("ct_nw_src"));
  parts.ipv6("ct_ipv6_src", fields.get("ct_ipv6_src"));
  parts.ipv4("ct_nw_dst", fields.get("ct_nw_dst"));
  parts.ipv6("ct_ipv6_dst", fields.get("ct_ipv6_dst"));
  const ctProto = numeric(fields.get("ct_nw_proto"));
  if (ctProto) {
    parts.add(`ct_nw_proto=${ctProto.value}`);
    parts.decimalOrHexMasked("ct_tp_src", fields.get("ct_tp_src"));
    parts.decimalOrHexMasked("ct_tp_dst", fields.get("ct_tp_dst"));
  }
}

function formatTunnel(parts: Parts, fields: EntryIndex): void {
  parts.hexMasked("tun_id", fields.get("tun_id"));
  parts.ipv4("tun_src", fields.get("tun_src"));
  parts.ipv4("tun_dst", fields.get("tun_dst"));
  parts.ipv6("tun_ipv6_src", fields.get("tun_ipv6_src"));
  parts.ipv6("tun_ipv6_dst", fields.get("tun_ipv6_dst"));
  parts.decimalOrHexMasked("tun_gbp_id", fields.get("tun_gbp_id"));
  const gbpFlags = numeric(fields.get("tun_gbp_flags"));
  if (gbpFlags) parts.add(`tun_gbp_flags=${hex(gbpFlags.value)}`);
  const flags = numeric(fields.get("tun_flags"));
  if (flags) {
    // OVS compares against all of its internal tunnel flags, so the masked form always prints.
    parts.add(`tun_flags=${formatFlagsMasked(TUNNEL_FLAGS, { flags: Number(flags.value), mask: Number(flags.mask & 1n), fullMask: 0xffff })}`);
  }
}

function formatVlan(parts: Parts, fields: EntryIndex): void {
  const tci = numeric(fields.get("vlan_tci"));
  if (!tci) return;
  const vidMask = tci.mask & 0x0fffn;
  const pcpMask = tci.mask & 0xe000n;
  const cfiMatched = (tci.mask & 0x1000n) !== 0n && (tci.value & 0x1000n) !== 0n;
  const vidSimple = vidMask === 0n || vidMask === 0x0fffn;
  const pcpSimple = pcpMask === 0n || pcpMask === 0xe000n;
  if (cfiMatched && vidSimple && pcpSimple && (vidMask !== 0n || pcpMask !== 0n)) {
    if (vidMask !== 0n) parts.add(`dl_vlan=${tci.value & 0x0fffn}`);
    if (pcpMask !== 0n) parts.add(`dl_vlan_pcp=${(tci.value >> 13n) & 7n}`);
    return;
  }
  const value = `0x${tci.value.toString(16).padStart(4, "0")}`;
  const mask = tci.mask === 0xffffn ? "" : `/0x${tci.mask.toString(16).padStart(4, "0")}`;
  parts.add(`vlan_tci=${value}${mask}`);
}

function formatNetwork(parts: Parts, fields: EntryIndex, ethType: bigint | undefined): void {
  const isArp = ethType === EthType.ARP || ethType === EthType.RARP;
  if (ethType === EthType.IPV6) {
    parts.ipv6("ipv6_src", fields.get("ipv6_src"));
    parts.ipv6("ipv6_dst", fields.get("ipv6_dst"));
    const label = numeric(fields.get("ipv6_label"));
    if (label) {
      const value = `0x${label.value.toString(16).padStart(5, "0")}`;
      const exact = label.mask === label.full || label.mask === 0xfffffn;
      parts.add(exact ? `ipv6_label=${value}` : `ipv6_label=${value}/0x${label.mask.toString(16).padStart(5, "0")}`);
    }
  } else if (isArp) {
    parts.ipv4("arp_spa", fields.get("arp_spa"));
    parts.ipv4("arp_tpa", fields.get("arp_tpa"));
  } else {
    parts.ipv4("nw_src", fields.get("ip_src"));
    parts.ipv4("nw_dst", fields.get("ip_dst"));
  }
}

function formatIpExtras(parts: Parts, fields: EntryIndex): void {
  const tos = numeric(fields.get("nw_tos"));
  if (tos) parts.add(`nw_tos=${tos.value & 0xfcn}`);
  const ecn = numeric(fields.get("nw_ecn"));
  if (ecn) parts.add(`nw_ecn=${ecn.value & 3n}`);
  const ttl = numeric(fields.get("nw_ttl"));
  if (ttl) parts.add(`nw_ttl=${ttl.value}`);
  for (const name of ["mpls_label", "mpls_tc", "mpls_ttl", "mpls_bos"]) {
    const mpls = numeric(fields.get(name));
    if (mpls) parts.add(`${name}=${mpls.value}`);
  }
  const frag = numeric(fields.get("ip_frag"));
  if (frag) parts.add(`nw_frag=${fragKeyword(frag.value, frag.mask & 3n)}`);
}

function fragKeyword(value: bigint, mask: bigint): string {
  const any = (value & 1n) !== 0n;
  const later = (value & 2n) !== 0n;
  if (mask === 3n) {
    if (any) return later ? "later" : "first";
    return later ? "<error>" : "no";
  }
  if (mask === 1n) return any ? "yes" : "no";
  return later ? "later" : "not_later";
}

function formatTransport(parts: Parts, fields: EntryIndex, ethType: bigint | undefined, proto: bigint | undefined): void {
  if (ethType === EthType.IPV4 && proto === IpProto.ICMP) {
    parts.decimalOrHexMasked("icmp_type", fields.get("icmp_type"));
    parts.decimalOrHexMasked("icmp_code", fields.get("icmp_code"));
  } else if (ethType === EthType.IPV6 && proto === IpProto.ICMPV6) {
    parts.decimalOrHexMasked("icmp_type", fields.get("icmpv6_type"));
    parts.decimalOrHexMasked("icmp_code", fields.get("icmpv6_code"));
    parts.ipv6("nd_target", fields.get("nd_target"));
    parts.ethernet("nd_sll", fields.get("nd_sll"));
    parts.ethernet("nd_tll", fields.get("nd_tll"));
  } else {
    const source = fields.get("tcp_src") ?? fields.get("udp_src") ?? fields.get("sctp_src");
    const destination = fields.get("tcp_dst") ?? fields.get("udp_dst") ?? fields.get("sctp_dst");
    parts.decimalOrHexMasked("tp_src", source);
    parts.decimalOrHexMasked("tp_dst", destination);
  }
  const tcpFlags = numeric(fields.get("tcp_flags"));
  const isIp = ethType === EthType.IPV4 || ethType === EthType.IPV6;
  if (tcpFlags && isIp && proto === IpProto.TCP) {
    parts.add(`tcp_flags=${formatFlagsMasked(TCP_FLAGS, { flags: Number(tcpFlags.value), mask: Number(tcpFlags.mask & 0xfffn), fullMask: 0xfff })}`);
  }
}

function formatMetadata(parts: Parts, fields: EntryIndex, options: FormatMatchOptions): void {
  parts.hexMasked("pkt_mark", fields.get("pkt_mark"));
  parts.hexMasked("recirc_id", fields.get("recirc_id"));
  parts.hexMasked("dp_hash", fields.get("dp_hash"));
  const conjId = numeric(fields.get("conj_id"));
  if (conjId) parts.add(`conj_id=${conjId.value}`);
  const actsetOutput = numeric(fields.get("actset_output"));
  if (actsetOutput) parts.add(`actset_output=${formatPort(portFromOfp11(Number(actsetOutput.value)), options.portNames)}`);
}

/**
 * Prints a match as ovs-ofctl does, for example "priority=100,tcp,in_port=1,tp_dst=80" or
 * "" for a match-all with the default priority. Pure; safe to call concurrently.
 */
export function formatMatch(match: Match, options: FormatMatchOptions = {}): string {
  const fields: EntryIndex = new Map(match.entries.map((entry) => [entry.field.name, entry]));
  const parts = new Parts();
  if (options.priority !== undefined && options.priority !== DEFAULT_PRIORITY) parts.add(`priority=${options.priority}`);

  formatMetadata(parts, fields, options);
  formatConntrack(parts, fields);

  const ethType = numeric(fields.get("eth_type"))?.value;
  const protoEntry = fields.get("nw_proto");
  const proto = numeric(protoEntry)?.value;
  const shorthand = ethType === undefined ? undefined : protocolKeyword(ethType, proto);
  if (shorthand) parts.add(shorthand.keyword);

  for (let n = 0; n < 16; n++) parts.hexMasked(`reg${n}`, fields.get(`reg${n}`));
  formatTunnel(parts, fields);
  parts.hexMasked("metadata", fields.get("metadata"));
  const inPort = fields.get("in_port");
  if (inPort) parts.add(`in_port=${formatPort(inPort.value.readUInt16BE(0), options.portNames)}`);
  formatVlan(parts, fields);
  parts.ethernet("dl_src", fields.get("eth_src"));
  parts.ethernet("dl_dst", fields.get("eth_dst"));
  if (ethType !== undefined && !shorthand) parts.add(`dl_type=0x${ethType.toString(16).padStart(4, "0")}`);

  formatNetwork(parts, fields, ethType);
  if (proto !== undefined && !shorthand?.consumesProto) parts.add(`nw_proto=${proto}`);
  const arpOp = numeric(fields.get("arp_op"));
  if (arpOp) parts.add(`arp_op=${arpOp.value & 0xffn}`);
  if (ethType === EthType.ARP || ethType === EthType.RARP) {
    parts.ethernet("arp_sha", fields.get("arp_sha"));
    parts.ethernet("arp_tha", fields.get("arp_tha"));
  }
  formatIpExtras(parts, fields);
  formatTransport(parts, fields, ethType, proto);
  return parts.items.join(",");
}
