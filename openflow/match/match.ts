// The Match type: a set of field values with masks, kept in the canonical form Open vSwitch
// 3.1 keeps in its flow table. Several spellings of one packet field collapse to one entry:
// in_port_oxm becomes in_port, ip_dscp becomes nw_tos, vlan_vid/vlan_pcp/dl_vlan/dl_vlan_pcp
// become vlan_tci, and xreg/xxreg become the 32-bit registers they overlay.

import { MatchError, MatchErrorCode } from "./errors.ts";
import type { FieldInfo } from "./field-table.ts";
import { bigintToBuffer, bufferToBigint } from "./field-values.ts";
import { lookupField } from "./fields.ts";
import { portFromOfp11 } from "./ports.ts";

/** One matched field. `mask` is absent for an exact match; the value has no bits outside it. */
export interface MatchEntry {
  readonly field: FieldInfo;
  readonly value: Buffer;
  readonly mask?: Buffer;
}

/** A flow match: canonical entries, at most one per field, in OVS's encoding order. */
export interface Match {
  readonly entries: readonly MatchEntry[];
}

/**
 * Canonical fields in the order OVS 3.1's nx_put_raw() writes them. A Match only ever
 * contains these fields.
 */
export const CANONICAL_ORDER: readonly string[] = [
  "dp_hash",
  "recirc_id",
  "conj_id",
  "in_port",
  "actset_output",
  "eth_src",
  "eth_dst",
  "eth_type",
  "vlan_tci",
  "mpls_tc",
  "mpls_bos",
  "mpls_ttl",
  "mpls_label",
  "ip_src",
  "ip_dst",
  "ipv6_src",
  "ipv6_dst",
  "ip_frag",
  "nw_tos",
  "nw_ecn",
  "nw_ttl",
  "ipv6_label",
  "nw_proto",
  "tcp_src",
  "tcp_dst",
  "tcp_flags",
  "udp_src",
  "udp_dst",
  "sctp_src",
  "sctp_dst",
  "icmp_type",
  "icmp_code",
  "icmpv6_type",
  "icmpv6_code",
  "nd_target",
  "nd_sll",
  "nd_tll",
  "arp_op",
  "arp_spa",
  "arp_tpa",
  "arp_sha",
  "arp_tha",
  "tun_id",
  "tun_flags",
  "tun_src",
  "tun_dst",
  "tun_ipv6_src",
  "tun_ipv6_dst",
  "tun_gbp_id",
  "tun_gbp_flags",
  ...Array.from({ length: 16 }, (_, n) => `reg${n}`),
  "pkt_mark",
  "ct_state",
  "ct_zone",
  "ct_mark",
  "ct_label",
  "ct_nw_src",
  "ct_ipv6_src",
  "ct_nw_dst",
  "ct_ipv6_dst",
  "ct_nw_proto",
  "ct_tp_src",
  "ct_tp_dst",
  "metadata",
];

const ORDER_INDEX: ReadonlyMap<string, number> = new Map(CANONICAL_ORDER.map((name, index) => [name, index]));

/**
 * Bits of a field that OVS's flow table stores: a mask is narrowed to these bits, and a
 * field whose mask covers all of them but not the whole wire width stays masked on the wire
 * (ct_state=new|trk is sent as 0x21/0xff, tun_flags=+oam as 0x1/0x1).
 */
const STORED_BITS: ReadonlyMap<string, bigint> = new Map([
  ["ct_state", 0xffn],
  ["tun_flags", 0x1n],
  ["nw_tos", 0xfcn],
  ["nw_ecn", 0x3n],
  ["ip_frag", 0x3n],
  ["ipv6_label", 0xfffffn],
]);

/** Fields whose narrowed mask still counts as an exact match (OVS stores them exact). */
const EXACT_WHEN_FULL: ReadonlySet<string> = new Set(["nw_tos", "nw_ecn", "ip_frag", "ipv6_label"]);

function requireCanonical(name: string): FieldInfo {
  const field = lookupField(name);
  if (!field) throw new Error(`internal: canonical field ${name} is not registered`);
  return field;
}

/** All-ones values for widths 0..16 bytes, computed once because BigInt shifts allocate. */
const ALL_ONES: readonly bigint[] = Array.from({ length: 17 }, (_, bytes) => (1n << BigInt(bytes * 8)) - 1n);

function allOnes(bytes: number): bigint {
  return ALL_ONES[bytes] ?? (1n << BigInt(bytes * 8)) - 1n;
}

const WIDE_REGISTER = /^xx?reg\d+$/;

interface Slot {
  value: bigint;
  mask: bigint;
}

/**
 * Accumulates field values into a canonical Match. Later values of the same field replace
 * earlier ones, as in ovs-ofctl. Not safe to share between concurrent parses.
 */
export class MatchBuilder {
  private readonly slots = new Map<string, Slot>();

  /** Returns the current value and mask of a canonical field, or undefined when wildcarded. */
  get(name: string): { value: bigint; mask: bigint } | undefined {
    const slot = this.slots.get(name);
    return slot ? { value: slot.value, mask: slot.mask } : undefined;
  }

  has(name: string): boolean {
    return this.slots.has(name);
  }

  delete(name: string): void {
    this.slots.delete(name);
  }

  /** Sets a canonical field to value/mask (mask undefined: exact), replacing what was there. */
  setCanonical(name: string, value: bigint, mask?: bigint): void {
    const field = requireCanonical(name);
    const stored = STORED_BITS.get(name) ?? allOnes(field.bytes);
    const narrowed = (mask ?? allOnes(field.bytes)) & stored;
    if (narrowed === 0n) {
      this.slots.delete(name);
      return;
    }
    this.slots.set(name, { value: value & narrowed, mask: narrowed });
  }

  /** Sets only the bits in `mask` of a canonical field, keeping its other matched bits. */
  private setBits(name: string, value: bigint, mask: bigint): void {
    const current = this.slots.get(name) ?? { value: 0n, mask: 0n };
    const combinedMask = current.mask | mask;
    const combinedValue = (current.value & ~mask) | (value & mask);
    this.setCanonical(name, combinedValue, combinedMask);
  }

  /**
   * Sets a field by any registered name, translating OVS's alternative spellings into the
   * canonical field. `value` and `mask` are wire-format buffers of the field's width.
   */
  setField(field: FieldInfo, value: Buffer, mask?: Buffer): void {
    const numericValue = bufferToBigint(value);
    const numericMask = mask ? bufferToBigint(mask) : allOnes(field.bytes);
    this.setNumeric(field, numericValue, numericMask);
  }

  /**
   * Sets only the bits of `mask`, keeping the field's other matched bits, as a subfield match
   * such as reg0[0..7]=5 does. Throws MatchError UNSUPPORTED for fields without a canonical
   * form of the same width (dl_vlan, vlan_vid, ip_dscp, in_port_oxm).
   */
  mergeField(field: FieldInfo, value: Buffer, mask: Buffer): void {
    if (WIDE_REGISTER.test(field.name)) {
      this.setWideRegister(field, bufferToBigint(value), bufferToBigint(mask));
      return;
    }
    if (!ORDER_INDEX.has(field.name)) {
      throw new MatchError(MatchErrorCode.UNSUPPORTED, `bit ranges of field ${field.name} cannot be matched: match the whole field`);
    }
    this.setBits(field.name, bufferToBigint(value), bufferToBigint(mask));
  }

  private setNumeric(field: FieldInfo, value: bigint, mask: bigint): void {
    const name = field.name;
    if (name.startsWith("x") && WIDE_REGISTER.test(name)) return this.setWideRegister(field, value, mask);

    switch (name) {
      case "in_port_oxm":
        return this.setCanonical("in_port", BigInt(portFromOfp11(Number(value))));
      case "ip_dscp":
        return this.setCanonical("nw_tos", (value << 2n) & 0xfcn);
      case "nw_tos":
        return this.setCanonical("nw_tos", value & 0xfcn);
      case "dl_vlan":
        return this.setDlVlan(value);
      case "dl_vlan_pcp":
      case "vlan_pcp":
        return this.setBits("vlan_tci", ((value & 7n) << 13n) | 0x1000n, 0xf000n);
      case "vlan_vid":
        return this.setBits("vlan_tci", value & mask & 0x1fffn, mask & 0x1fffn);
      case "vlan_tci":
        return this.setCanonical("vlan_tci", value, mask);
      default:
        if (!ORDER_INDEX.has(name)) {
          throw new MatchError(MatchErrorCode.UNSUPPORTED, `field ${name} cannot be used in a match`);
        }
        return this.setCanonical(name, value, mask === allOnes(field.bytes) ? undefined : mask);
    }
  }

  private setDlVlan(vid: bigint): void {
    // OpenFlow 1.0's "no VLAN" value 0xffff matches packets without a tag.
    if (vid === 0xffffn) return this.setBits("vlan_tci", 0n, 0x1fffn);
    this.setBits("vlan_tci", (vid & 0xfffn) | 0x1000n, 0x1fffn);
  }

  /** Splits an xreg (64 bits) or xxreg (128 bits) into the 32-bit registers it overlays. */
  private setWideRegister(field: FieldInfo, value: bigint, mask: bigint): void {
    const index = Number(/\d+$/.exec(field.name)?.[0] ?? "0");
    const count = field.bytes / 4;
    for (let part = 0; part < count; part++) {
      const shift = BigInt((count - 1 - part) * 32);
      const partMask = (mask >> shift) & 0xffffffffn;
      if (partMask === 0n) continue;
      const partValue = (value >> shift) & 0xffffffffn;
      this.setBits(`reg${index * count + part}`, partValue, partMask);
    }
  }

  /** Returns the accumulated Match, entries in canonical order. */
  build(): Match {
    const entries: MatchEntry[] = [];
    const names = [...this.slots.keys()].sort((a, b) => (ORDER_INDEX.get(a) ?? 0) - (ORDER_INDEX.get(b) ?? 0));
    for (const name of names) {
      const slot = this.slots.get(name);
      if (!slot) continue;
      entries.push(makeEntry(requireCanonical(name), slot));
    }
    return { entries };
  }
}

function makeEntry(field: FieldInfo, slot: Slot): MatchEntry {
  const full = allOnes(field.bytes);
  const stored = STORED_BITS.get(field.name) ?? full;
  const isExact = slot.mask === full || (EXACT_WHEN_FULL.has(field.name) && slot.mask === stored);
  const value = bigintToBuffer(slot.value, field.bytes);
  return isExact ? { field, value } : { field, value, mask: bigintToBuffer(slot.mask, field.bytes) };
}

/** The match that matches every packet. */
export const MATCH_ALL: Match = { entries: [] };

/** Returns the entry of a canonical field, or undefined when the field is wildcarded. */
export function getEntry(match: Match, name: string): MatchEntry | undefined {
  return match.entries.find((entry) => entry.field.name === name);
}

/** Returns the value of an entry as an unsigned integer, or undefined when wildcarded. */
export function getNumber(match: Match, name: string): bigint | undefined {
  const entry = getEntry(match, name);
  return entry ? bufferToBigint(entry.value) : undefined;
}

/** Compares two matches field by field, ignoring entry order. */
export function matchesEqual(a: Match, b: Match): boolean {
  if (a.entries.length !== b.entries.length) return false;
  for (const entry of a.entries) {
    const other = getEntry(b, entry.field.name);
    if (!other || !entry.value.equals(other.value)) return false;
    const maskA = entry.mask;
    const maskB = other.mask;
    if ((maskA === undefined) !== (maskB === undefined)) return false;
    if (maskA && maskB && !maskA.equals(maskB)) return false;
  }
  return true;
}

/** Rebuilds a Match from entries (for callers that edit a match), canonicalizing it. */
export function matchFromEntries(entries: readonly MatchEntry[]): Match {
  const builder = new MatchBuilder();
  for (const entry of entries) builder.setField(entry.field, entry.value, entry.mask);
  return builder.build();
}
