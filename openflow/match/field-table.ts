// The match field registry: every field Switchyard matches on or names in actions, with the
// header numbers, widths and prerequisites of Open vSwitch 3.1 (include/openvswitch/meta-flow.h).
// Field names are OVS's canonical names ("ip_src"); aliases are the other spellings ovs-ofctl
// accepts ("nw_src"). Values are stored big-endian in `bytes` bytes, exactly as on the wire.

import { makeHeader, OxmClass, OxmExperimenter } from "./headers.ts";

/** Value syntax of a field in ovs-ofctl text. */
export type FieldFormat =
  | "decimal"
  | "hexadecimal"
  | "ipv4"
  | "ipv6"
  | "ethernet"
  /** A 16-bit OpenFlow 1.0 port number or name (LOCAL, CONTROLLER...). */
  | "ofp-port"
  /** A 32-bit OpenFlow 1.1+ port number, printed as its 16-bit equivalent. */
  | "ofp11-port"
  | "ct-state"
  | "tcp-flags"
  | "tunnel-flags"
  | "frag"
  | "packet-type";

/**
 * A field's prerequisite: what the rest of the match must contain before the field is
 * allowed. "ct" means a valid connection-tracking state (+trk with one of new, est, rel,
 * rpl, snat, dnat, or an explicit -inv); "ct_tp" additionally needs ct_nw_proto.
 */
export type Prerequisite =
  | "none"
  | "vlan"
  | "mpls"
  | "ip"
  | "ipv6"
  | "ip_any"
  | "arp"
  | "tcp"
  | "udp"
  | "sctp"
  | "icmp"
  | "icmp6"
  | "nd"
  | "nd_solicit"
  | "nd_advert"
  | "ct"
  | "ct_ip"
  | "ct_ipv6"
  | "ct_tp";

/** The OXM form of a field and the first OpenFlow version whose OXM set contains it. */
export interface OxmForm {
  readonly name: string;
  /** Header without the has-mask bit; for experimenter OXMs the length counts the 4-byte id. */
  readonly header: number;
  readonly experimenter?: number;
  /** First `ofp_header.version` that uses this form (4 = OpenFlow 1.3, 6 = OpenFlow 1.5). */
  readonly sinceVersion: number;
}

export interface FieldInfo {
  /** OVS's canonical field name, as ovs-ofctl prints it in actions ("ip_src", "reg3", "tun_id"). */
  readonly name: string;
  /** Other names ovs-ofctl accepts for the field ("nw_src", "tunnel_id"). */
  readonly aliases: readonly string[];
  /**
   * Name ovs-ofctl uses in subfield syntax (`NXM_NX_REG0[0..15]`): the NXM name when the field
   * has one, otherwise its OXM name ("OXM_OF_METADATA"). Empty for text-only fields.
   */
  readonly nxmName: string;
  /** OXM name when the field has an OXM form ("OXM_OF_IPV4_SRC"). */
  readonly oxmName?: string;
  /**
   * Header of the encoding used in NXM actions (load, move, learn): the NXM header when the
   * field has one, otherwise its first OXM header. Without the has-mask bit. 0 for text-only
   * fields (dl_vlan, dl_vlan_pcp), which have no wire form of their own.
   */
  readonly header: number;
  /** Experimenter id that follows `header` when it is an experimenter OXM. */
  readonly experimenter?: number;
  /** NXM header (class 0x0000 or 0x0001) when the field has one. */
  readonly nxmHeader?: number;
  /** OXM forms, oldest first (tcp_flags has an ONF form for 1.3 and a basic one for 1.5). */
  readonly oxm: readonly OxmForm[];
  /** Significant bits of the value (20 for ipv6_label, 12 for tcp_flags). */
  readonly bits: number;
  /** Width of the value on the wire. */
  readonly bytes: number;
  readonly maskable: boolean;
  readonly prerequisites: Prerequisite;
  readonly format: FieldFormat;
  /** Whether set_field, load and move may write the field. */
  readonly writable: boolean;
}

interface FieldSpec {
  name: string;
  aliases?: string[];
  nxm?: { name: string; oxmClass: number; field: number };
  oxm?: { name: string; oxmClass: number; field: number; experimenter?: number; sinceVersion: number }[];
  bytes: number;
  bits?: number;
  maskable: boolean;
  format: FieldFormat;
  prerequisites?: Prerequisite;
  writable?: boolean;
}

const OF13 = 0x04;
const OF15 = 0x06;
/** sinceVersion of forms that are only read, never written (above every OpenFlow version). */
const DECODE_ONLY = 0xff;

function nxm0(name: string, field: number): FieldSpec["nxm"] {
  return { name, oxmClass: OxmClass.NXM_0, field };
}

function nxm1(name: string, field: number): FieldSpec["nxm"] {
  return { name, oxmClass: OxmClass.NXM_1, field };
}

function basic(name: string, field: number, sinceVersion = OF13): NonNullable<FieldSpec["oxm"]> {
  return [{ name, oxmClass: OxmClass.OPENFLOW_BASIC, field, sinceVersion }];
}

/** Fields with an ONF experimenter OXM in OpenFlow 1.3 and a basic OXM from 1.5 on. */
function onfThenBasic(onfName: string, basicName: string, field: number): NonNullable<FieldSpec["oxm"]> {
  return [
    { name: onfName, oxmClass: OxmClass.EXPERIMENTER, field, experimenter: OxmExperimenter.ONF, sinceVersion: OF13 },
    { name: basicName, oxmClass: OxmClass.OPENFLOW_BASIC, field, sinceVersion: OF15 },
  ];
}

function registerSpecs(): FieldSpec[] {
  const specs: FieldSpec[] = [];
  for (let n = 0; n < 16; n++) {
    specs.push({ name: `reg${n}`, nxm: nxm1(`NXM_NX_REG${n}`, n), bytes: 4, maskable: true, format: "hexadecimal" });
  }
  for (let n = 0; n < 8; n++) {
    specs.push({
      name: `xreg${n}`,
      oxm: [{ name: `OXM_OF_PKT_REG${n}`, oxmClass: OxmClass.PACKET_REGS, field: n, sinceVersion: OF13 }],
      bytes: 8,
      maskable: true,
      format: "hexadecimal",
    });
  }
  for (let n = 0; n < 4; n++) {
    specs.push({ name: `xxreg${n}`, nxm: nxm1(`NXM_NX_XXREG${n}`, 111 + n), bytes: 16, maskable: true, format: "hexadecimal" });
  }
  return specs;
}

const FIELD_SPECS: FieldSpec[] = [
  // Metadata and pipeline fields.
  {
    name: "dp_hash",
    nxm: nxm1("NXM_NX_DP_HASH", 35),
    // OVS 3.1 writes the NXM form in every version and accepts this Nicira OXM when reading.
    oxm: [{ name: "NXOXM_ET_DP_HASH", oxmClass: OxmClass.EXPERIMENTER, field: 0, experimenter: OxmExperimenter.NICIRA, sinceVersion: DECODE_ONLY }],
    bytes: 4, maskable: true, format: "hexadecimal", writable: false },
  { name: "recirc_id", nxm: nxm1("NXM_NX_RECIRC_ID", 36), bytes: 4, maskable: false, format: "decimal", writable: false },
  // OVS 3.1 writes OXM_OF_PACKET_TYPE in OpenFlow 1.3 matches too, although the field is from 1.5.
  { name: "packet_type", oxm: basic("OXM_OF_PACKET_TYPE", 44, OF13), bytes: 4, maskable: false, format: "packet-type", writable: false },
  { name: "conj_id", nxm: nxm1("NXM_NX_CONJ_ID", 37), bytes: 4, maskable: false, format: "decimal", writable: false },
  { name: "tun_id", aliases: ["tunnel_id"], nxm: nxm1("NXM_NX_TUN_ID", 16), oxm: basic("OXM_OF_TUNNEL_ID", 38), bytes: 8, maskable: true, format: "hexadecimal" },
  { name: "tun_src", nxm: nxm1("NXM_NX_TUN_IPV4_SRC", 31), bytes: 4, maskable: true, format: "ipv4" },
  { name: "tun_dst", nxm: nxm1("NXM_NX_TUN_IPV4_DST", 32), bytes: 4, maskable: true, format: "ipv4" },
  { name: "tun_ipv6_src", nxm: nxm1("NXM_NX_TUN_IPV6_SRC", 109), bytes: 16, maskable: true, format: "ipv6" },
  { name: "tun_ipv6_dst", nxm: nxm1("NXM_NX_TUN_IPV6_DST", 110), bytes: 16, maskable: true, format: "ipv6" },
  { name: "tun_flags", nxm: nxm1("NXM_NX_TUN_FLAGS", 104), bytes: 2, bits: 1, maskable: true, format: "tunnel-flags" },
  { name: "tun_gbp_id", nxm: nxm1("NXM_NX_TUN_GBP_ID", 38), bytes: 2, maskable: true, format: "decimal" },
  { name: "tun_gbp_flags", nxm: nxm1("NXM_NX_TUN_GBP_FLAGS", 39), bytes: 1, maskable: true, format: "hexadecimal" },
  { name: "metadata", oxm: basic("OXM_OF_METADATA", 2), bytes: 8, maskable: true, format: "hexadecimal" },
  { name: "in_port", nxm: nxm0("NXM_OF_IN_PORT", 0), bytes: 2, maskable: false, format: "ofp-port" },
  { name: "in_port_oxm", oxm: basic("OXM_OF_IN_PORT", 0), bytes: 4, maskable: false, format: "ofp11-port" },
  { name: "actset_output", oxm: onfThenBasic("ONFOXM_ET_ACTSET_OUTPUT", "OXM_OF_ACTSET_OUTPUT", 43), bytes: 4, maskable: false, format: "ofp11-port", writable: false },
  { name: "pkt_mark", nxm: nxm1("NXM_NX_PKT_MARK", 33), bytes: 4, maskable: true, format: "hexadecimal" },

  // Connection tracking.
  { name: "ct_state", nxm: nxm1("NXM_NX_CT_STATE", 105), bytes: 4, maskable: true, format: "ct-state", writable: false },
  { name: "ct_zone", nxm: nxm1("NXM_NX_CT_ZONE", 106), bytes: 2, maskable: false, format: "hexadecimal", writable: false },
  { name: "ct_mark", nxm: nxm1("NXM_NX_CT_MARK", 107), bytes: 4, maskable: true, format: "hexadecimal" },
  { name: "ct_label", nxm: nxm1("NXM_NX_CT_LABEL", 108), bytes: 16, maskable: true, format: "hexadecimal" },
  { name: "ct_nw_proto", nxm: nxm1("NXM_NX_CT_NW_PROTO", 119), bytes: 1, maskable: false, format: "decimal", prerequisites: "ct", writable: false },
  { name: "ct_nw_src", nxm: nxm1("NXM_NX_CT_NW_SRC", 120), bytes: 4, maskable: true, format: "ipv4", prerequisites: "ct_ip", writable: false },
  { name: "ct_nw_dst", nxm: nxm1("NXM_NX_CT_NW_DST", 121), bytes: 4, maskable: true, format: "ipv4", prerequisites: "ct_ip", writable: false },
  { name: "ct_ipv6_src", nxm: nxm1("NXM_NX_CT_IPV6_SRC", 122), bytes: 16, maskable: true, format: "ipv6", prerequisites: "ct_ipv6", writable: false },
  { name: "ct_ipv6_dst", nxm: nxm1("NXM_NX_CT_IPV6_DST", 123), bytes: 16, maskable: true, format: "ipv6", prerequisites: "ct_ipv6", writable: false },
  { name: "ct_tp_src", nxm: nxm1("NXM_NX_CT_TP_SRC", 124), bytes: 2, maskable: true, format: "decimal", prerequisites: "ct_tp", writable: false },
  { name: "ct_tp_dst", nxm: nxm1("NXM_NX_CT_TP_DST", 125), bytes: 2, maskable: true, format: "decimal", prerequisites: "ct_tp", writable: false },

  ...registerSpecs(),

  // Ethernet and VLAN.
  { name: "eth_src", aliases: ["dl_src"], nxm: nxm0("NXM_OF_ETH_SRC", 2), oxm: basic("OXM_OF_ETH_SRC", 4), bytes: 6, maskable: true, format: "ethernet" },
  { name: "eth_dst", aliases: ["dl_dst"], nxm: nxm0("NXM_OF_ETH_DST", 1), oxm: basic("OXM_OF_ETH_DST", 3), bytes: 6, maskable: true, format: "ethernet" },
  { name: "eth_type", aliases: ["dl_type"], nxm: nxm0("NXM_OF_ETH_TYPE", 3), oxm: basic("OXM_OF_ETH_TYPE", 5), bytes: 2, maskable: false, format: "hexadecimal", writable: false },
  { name: "vlan_tci", nxm: nxm0("NXM_OF_VLAN_TCI", 4), bytes: 2, maskable: true, format: "hexadecimal" },
  { name: "dl_vlan", bytes: 2, bits: 12, maskable: false, format: "decimal" },
  { name: "vlan_vid", oxm: basic("OXM_OF_VLAN_VID", 6), bytes: 2, bits: 12, maskable: true, format: "decimal" },
  { name: "dl_vlan_pcp", bytes: 1, bits: 3, maskable: false, format: "decimal" },
  { name: "vlan_pcp", oxm: basic("OXM_OF_VLAN_PCP", 7), bytes: 1, bits: 3, maskable: false, format: "decimal", prerequisites: "vlan" },

  // MPLS.
  { name: "mpls_label", oxm: basic("OXM_OF_MPLS_LABEL", 34), bytes: 4, bits: 20, maskable: false, format: "decimal", prerequisites: "mpls" },
  { name: "mpls_tc", oxm: basic("OXM_OF_MPLS_TC", 35), bytes: 1, bits: 3, maskable: false, format: "decimal", prerequisites: "mpls" },
  { name: "mpls_bos", oxm: basic("OXM_OF_MPLS_BOS", 36), bytes: 1, bits: 1, maskable: false, format: "decimal", prerequisites: "mpls", writable: false },
  { name: "mpls_ttl", nxm: nxm1("NXM_NX_MPLS_TTL", 30), bytes: 1, maskable: false, format: "decimal", prerequisites: "mpls" },

  // IPv4 and IPv6.
  { name: "ip_src", aliases: ["nw_src"], nxm: nxm0("NXM_OF_IP_SRC", 7), oxm: basic("OXM_OF_IPV4_SRC", 11), bytes: 4, maskable: true, format: "ipv4", prerequisites: "ip" },
  { name: "ip_dst", aliases: ["nw_dst"], nxm: nxm0("NXM_OF_IP_DST", 8), oxm: basic("OXM_OF_IPV4_DST", 12), bytes: 4, maskable: true, format: "ipv4", prerequisites: "ip" },
  { name: "ipv6_src", nxm: nxm1("NXM_NX_IPV6_SRC", 19), oxm: basic("OXM_OF_IPV6_SRC", 26), bytes: 16, maskable: true, format: "ipv6", prerequisites: "ipv6" },
  { name: "ipv6_dst", nxm: nxm1("NXM_NX_IPV6_DST", 20), oxm: basic("OXM_OF_IPV6_DST", 27), bytes: 16, maskable: true, format: "ipv6", prerequisites: "ipv6" },
  { name: "ipv6_label", nxm: nxm1("NXM_NX_IPV6_LABEL", 27), oxm: basic("OXM_OF_IPV6_FLABEL", 28), bytes: 4, bits: 20, maskable: true, format: "hexadecimal", prerequisites: "ipv6" },
  { name: "nw_proto", aliases: ["ip_proto"], nxm: nxm0("NXM_OF_IP_PROTO", 6), oxm: basic("OXM_OF_IP_PROTO", 10), bytes: 1, maskable: false, format: "decimal", prerequisites: "ip_any", writable: false },
  { name: "nw_tos", nxm: nxm0("NXM_OF_IP_TOS", 5), bytes: 1, maskable: false, format: "decimal", prerequisites: "ip_any" },
  { name: "ip_dscp", oxm: basic("OXM_OF_IP_DSCP", 8), bytes: 1, bits: 6, maskable: false, format: "decimal", prerequisites: "ip_any" },
  { name: "nw_ecn", aliases: ["ip_ecn"], nxm: nxm1("NXM_NX_IP_ECN", 28), oxm: basic("OXM_OF_IP_ECN", 9), bytes: 1, bits: 2, maskable: false, format: "decimal", prerequisites: "ip_any" },
  { name: "nw_ttl", nxm: nxm1("NXM_NX_IP_TTL", 29), bytes: 1, maskable: false, format: "decimal", prerequisites: "ip_any" },
  { name: "ip_frag", aliases: ["nw_frag"], nxm: nxm1("NXM_NX_IP_FRAG", 26), bytes: 1, bits: 2, maskable: true, format: "frag", prerequisites: "ip_any", writable: false },

  // ARP.
  { name: "arp_op", nxm: nxm0("NXM_OF_ARP_OP", 15), oxm: basic("OXM_OF_ARP_OP", 21), bytes: 2, maskable: false, format: "decimal", prerequisites: "arp" },
  { name: "arp_spa", nxm: nxm0("NXM_OF_ARP_SPA", 16), oxm: basic("OXM_OF_ARP_SPA", 22), bytes: 4, maskable: true, format: "ipv4", prerequisites: "arp" },
  { name: "arp_tpa", nxm: nxm0("NXM_OF_ARP_TPA", 17), oxm: basic("OXM_OF_ARP_TPA", 23), bytes: 4, maskable: true, format: "ipv4", prerequisites: "arp" },
  { name: "arp_sha", nxm: nxm1("NXM_NX_ARP_SHA", 17), oxm: basic("OXM_OF_ARP_SHA", 24), bytes: 6, maskable: true, format: "ethernet", prerequisites: "arp" },
  { name: "arp_tha", nxm: nxm1("NXM_NX_ARP_THA", 18), oxm: basic("OXM_OF_ARP_THA", 25), bytes: 6, maskable: true, format: "ethernet", prerequisites: "arp" },

  // Transport.
  { name: "tcp_src", aliases: ["tp_src"], nxm: nxm0("NXM_OF_TCP_SRC", 9), oxm: basic("OXM_OF_TCP_SRC", 13), bytes: 2, maskable: true, format: "decimal", prerequisites: "tcp" },
  { name: "tcp_dst", aliases: ["tp_dst"], nxm: nxm0("NXM_OF_TCP_DST", 10), oxm: basic("OXM_OF_TCP_DST", 14), bytes: 2, maskable: true, format: "decimal", prerequisites: "tcp" },
  { name: "tcp_flags", nxm: nxm1("NXM_NX_TCP_FLAGS", 34), oxm: onfThenBasic("ONFOXM_ET_TCP_FLAGS", "OXM_OF_TCP_FLAGS", 42), bytes: 2, bits: 12, maskable: true, format: "tcp-flags", prerequisites: "tcp", writable: false },
  { name: "udp_src", nxm: nxm0("NXM_OF_UDP_SRC", 11), oxm: basic("OXM_OF_UDP_SRC", 15), bytes: 2, maskable: true, format: "decimal", prerequisites: "udp" },
  { name: "udp_dst", nxm: nxm0("NXM_OF_UDP_DST", 12), oxm: basic("OXM_OF_UDP_DST", 16), bytes: 2, maskable: true, format: "decimal", prerequisites: "udp" },
  { name: "sctp_src", oxm: basic("OXM_OF_SCTP_SRC", 17), bytes: 2, maskable: true, format: "decimal", prerequisites: "sctp" },
  { name: "sctp_dst", oxm: basic("OXM_OF_SCTP_DST", 18), bytes: 2, maskable: true, format: "decimal", prerequisites: "sctp" },
  { name: "icmp_type", nxm: nxm0("NXM_OF_ICMP_TYPE", 13), oxm: basic("OXM_OF_ICMPV4_TYPE", 19), bytes: 1, maskable: false, format: "decimal", prerequisites: "icmp" },
  { name: "icmp_code", nxm: nxm0("NXM_OF_ICMP_CODE", 14), oxm: basic("OXM_OF_ICMPV4_CODE", 20), bytes: 1, maskable: false, format: "decimal", prerequisites: "icmp" },
  { name: "icmpv6_type", nxm: nxm1("NXM_NX_ICMPV6_TYPE", 21), oxm: basic("OXM_OF_ICMPV6_TYPE", 29), bytes: 1, maskable: false, format: "decimal", prerequisites: "icmp6" },
  { name: "icmpv6_code", nxm: nxm1("NXM_NX_ICMPV6_CODE", 22), oxm: basic("OXM_OF_ICMPV6_CODE", 30), bytes: 1, maskable: false, format: "decimal", prerequisites: "icmp6" },
  { name: "nd_target", nxm: nxm1("NXM_NX_ND_TARGET", 23), oxm: basic("OXM_OF_IPV6_ND_TARGET", 31), bytes: 16, maskable: true, format: "ipv6", prerequisites: "nd" },
  { name: "nd_sll", nxm: nxm1("NXM_NX_ND_SLL", 24), oxm: basic("OXM_OF_IPV6_ND_SLL", 32), bytes: 6, maskable: true, format: "ethernet", prerequisites: "nd_solicit" },
  { name: "nd_tll", nxm: nxm1("NXM_NX_ND_TLL", 25), oxm: basic("OXM_OF_IPV6_ND_TLL", 33), bytes: 6, maskable: true, format: "ethernet", prerequisites: "nd_advert" },
];

function oxmForms(spec: FieldSpec): OxmForm[] {
  return (spec.oxm ?? []).map((form) => {
    const idLength = form.experimenter === undefined ? 0 : 4;
    const oxm: OxmForm = {
      name: form.name,
      header: makeHeader(form.oxmClass, form.field, spec.bytes + idLength),
      sinceVersion: form.sinceVersion,
      ...(form.experimenter === undefined ? {} : { experimenter: form.experimenter }),
    };
    return oxm;
  });
}

function buildField(spec: FieldSpec): FieldInfo {
  const oxm = oxmForms(spec);
  const nxmHeader = spec.nxm ? makeHeader(spec.nxm.oxmClass, spec.nxm.field, spec.bytes) : undefined;
  const firstOxm = oxm[0];
  const header = nxmHeader ?? firstOxm?.header ?? 0;
  const experimenter = nxmHeader === undefined ? firstOxm?.experimenter : undefined;
  return {
    name: spec.name,
    aliases: spec.aliases ?? [],
    nxmName: spec.nxm?.name ?? firstOxm?.name ?? "",
    ...(firstOxm ? { oxmName: firstOxm.name } : {}),
    header,
    ...(experimenter === undefined ? {} : { experimenter }),
    ...(nxmHeader === undefined ? {} : { nxmHeader }),
    oxm,
    bits: spec.bits ?? spec.bytes * 8,
    bytes: spec.bytes,
    maskable: spec.maskable,
    prerequisites: spec.prerequisites ?? "none",
    format: spec.format,
    writable: spec.writable ?? true,
  };
}

/** Every registered field, in registry order. */
export const FIELDS: readonly FieldInfo[] = Object.freeze(FIELD_SPECS.map(buildField));
