// Prerequisite checks: a field such as nw_src is only meaningful when the match also fixes
// the protocol (dl_type=0x0800). ovs-ofctl 3.1 silently drops such a field from the flow it
// sends; Switchyard rejects the match instead, so a typo cannot widen a flow.

import { MatchError, MatchErrorCode } from "./errors.ts";
import type { Prerequisite } from "./field-table.ts";
import { getNumber } from "./match.ts";
import type { Match, MatchEntry } from "./match.ts";

export const EthType = {
  IPV4: 0x0800n,
  ARP: 0x0806n,
  RARP: 0x8035n,
  IPV6: 0x86ddn,
  MPLS: 0x8847n,
  MPLS_MULTICAST: 0x8848n,
} as const;

export const IpProto = {
  ICMP: 1n,
  TCP: 6n,
  UDP: 17n,
  ICMPV6: 58n,
  SCTP: 132n,
} as const;

const ND_NEIGHBOR_SOLICIT = 135n;
const ND_NEIGHBOR_ADVERT = 136n;

/** ct_state bits that imply a valid connection-tracking entry: new, est, rel, rpl, snat, dnat. */
const CT_VALID_BITS = 0xcfn;
const CT_TRACKED = 0x20n;
const CT_INVALID = 0x10n;

interface Requirement {
  /** Whether the match satisfies the requirement. */
  readonly isMet: (match: Match) => boolean;
  /** Description of the need, for the message ("ip", "tcp or tcp6"). */
  readonly needs: string;
  /** Text to add to the match to satisfy it. */
  readonly fix: string;
}

function ethType(match: Match): bigint | undefined {
  return getNumber(match, "eth_type");
}

function isIpv4(match: Match): boolean {
  return ethType(match) === EthType.IPV4;
}

function isIpv6(match: Match): boolean {
  return ethType(match) === EthType.IPV6;
}

function isIpAny(match: Match): boolean {
  return isIpv4(match) || isIpv6(match);
}

function hasProto(match: Match, proto: bigint): boolean {
  return isIpAny(match) && getNumber(match, "nw_proto") === proto;
}

function isNeighborDiscovery(match: Match, type?: bigint): boolean {
  if (!isIpv6(match) || getNumber(match, "nw_proto") !== IpProto.ICMPV6) return false;
  const icmpType = getNumber(match, "icmpv6_type");
  const icmpCode = getNumber(match, "icmpv6_code") ?? 0n;
  if (icmpCode !== 0n) return false;
  if (type !== undefined) return icmpType === type;
  return icmpType === ND_NEIGHBOR_SOLICIT || icmpType === ND_NEIGHBOR_ADVERT;
}

function isConntrackValid(match: Match): boolean {
  const state = match.entries.find((entry) => entry.field.name === "ct_state");
  if (!state) return false;
  const value = BigInt(state.value.readUInt32BE(0));
  const mask = state.mask ? BigInt(state.mask.readUInt32BE(0)) : 0xffffffffn;
  if ((value & CT_VALID_BITS) !== 0n) return true;
  return (value & CT_TRACKED) !== 0n && (mask & CT_INVALID) !== 0n && (value & CT_INVALID) === 0n;
}

const CT_FIX = "ct_state with +trk and one of +new, +est, +rel, +rpl, +snat, +dnat or -inv";

const REQUIREMENTS: Readonly<Record<Exclude<Prerequisite, "none">, Requirement>> = {
  vlan: { isMet: (m) => ((getNumber(m, "vlan_tci") ?? 0n) & 0x1000n) !== 0n, needs: "a VLAN tag", fix: "dl_vlan=VID" },
  mpls: {
    isMet: (m) => ethType(m) === EthType.MPLS || ethType(m) === EthType.MPLS_MULTICAST,
    needs: "mpls or mplsm",
    fix: "'mpls,'",
  },
  ip: { isMet: isIpv4, needs: "ip", fix: "'ip,'" },
  ipv6: { isMet: isIpv6, needs: "ipv6", fix: "'ipv6,'" },
  ip_any: { isMet: isIpAny, needs: "ip or ipv6", fix: "'ip,' or 'ipv6,'" },
  arp: { isMet: (m) => ethType(m) === EthType.ARP || ethType(m) === EthType.RARP, needs: "arp or rarp", fix: "'arp,'" },
  tcp: { isMet: (m) => hasProto(m, IpProto.TCP), needs: "tcp or tcp6", fix: "'tcp,' or 'tcp6,'" },
  udp: { isMet: (m) => hasProto(m, IpProto.UDP), needs: "udp or udp6", fix: "'udp,' or 'udp6,'" },
  sctp: { isMet: (m) => hasProto(m, IpProto.SCTP), needs: "sctp or sctp6", fix: "'sctp,' or 'sctp6,'" },
  icmp: { isMet: (m) => isIpv4(m) && getNumber(m, "nw_proto") === IpProto.ICMP, needs: "icmp", fix: "'icmp,'" },
  icmp6: { isMet: (m) => isIpv6(m) && getNumber(m, "nw_proto") === IpProto.ICMPV6, needs: "icmp6", fix: "'icmp6,'" },
  nd: {
    isMet: (m) => isNeighborDiscovery(m),
    needs: "icmp6 with icmp_type=135 or 136 and icmp_code=0",
    fix: "'icmp6,icmp_type=135,'",
  },
  nd_solicit: {
    isMet: (m) => isNeighborDiscovery(m, ND_NEIGHBOR_SOLICIT),
    needs: "icmp6 with icmp_type=135 (neighbor solicitation)",
    fix: "'icmp6,icmp_type=135,'",
  },
  nd_advert: {
    isMet: (m) => isNeighborDiscovery(m, ND_NEIGHBOR_ADVERT),
    needs: "icmp6 with icmp_type=136 (neighbor advertisement)",
    fix: "'icmp6,icmp_type=136,'",
  },
  ct: { isMet: isConntrackValid, needs: "a valid conntrack state", fix: CT_FIX },
  ct_ip: { isMet: (m) => isConntrackValid(m) && isIpv4(m), needs: "ip and a valid conntrack state", fix: `'ip,' and ${CT_FIX}` },
  ct_ipv6: {
    isMet: (m) => isConntrackValid(m) && isIpv6(m),
    needs: "ipv6 and a valid conntrack state",
    fix: `'ipv6,' and ${CT_FIX}`,
  },
  ct_tp: {
    isMet: (m) => isConntrackValid(m) && getNumber(m, "ct_nw_proto") !== undefined,
    needs: "ct_nw_proto and a valid conntrack state",
    fix: `ct_nw_proto=PROTO and ${CT_FIX}`,
  },
};

/** Returns the entries whose prerequisites the match does not meet. */
export function unmetPrerequisites(match: Match): MatchEntry[] {
  return match.entries.filter((entry) => {
    const prerequisite = entry.field.prerequisites;
    return prerequisite !== "none" && !REQUIREMENTS[prerequisite].isMet(match);
  });
}

/**
 * Throws MatchError MISSING_PREREQUISITE for the first field whose prerequisite is not met,
 * naming the field as the user wrote it (`displayName`) and what to add.
 */
export function checkPrerequisites(match: Match, displayName: (entry: MatchEntry) => string = (entry) => entry.field.name): void {
  const [first] = unmetPrerequisites(match);
  if (!first) return;
  const prerequisite = first.field.prerequisites;
  if (prerequisite === "none") return;
  const requirement = REQUIREMENTS[prerequisite];
  throw new MatchError(
    MatchErrorCode.MISSING_PREREQUISITE,
    `${displayName(first)} requires ${requirement.needs} (add ${requirement.fix} before it)`,
  );
}
