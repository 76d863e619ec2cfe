// Match text in ovs-ofctl syntax: protocol keywords (ip, tcp6, arp...) and field=value
// pairs, in any order, with later values replacing earlier ones as in ovs-ofctl. Spellings
// that depend on the protocol (tp_src, icmp_type, nw_src under arp, nw_proto under arp) are
// resolved once the whole match is read.

import { MatchError, MatchErrorCode } from "./errors.ts";
import type { FieldInfo } from "./field-table.ts";
import { bigintToBuffer, bufferToBigint, parseFieldValue, parseUnsigned } from "./field-values.ts";
import type { FieldValue } from "./field-values.ts";
import { lookupField, parseSubfield, requireField } from "./fields.ts";
import { MatchBuilder } from "./match.ts";
import type { Match, MatchEntry } from "./match.ts";
import type { PortNameMap } from "./ports.ts";
import { checkPrerequisites, EthType, IpProto, unmetPrerequisites } from "./prerequisites.ts";

/** Protocol keywords: the dl_type they set and, for L4 ones, the nw_proto. */
export const PROTOCOL_KEYWORDS: ReadonlyMap<string, { ethType: bigint; proto?: bigint }> = new Map([
  ["ip", { ethType: EthType.IPV4 }],
  ["ipv6", { ethType: EthType.IPV6 }],
  ["icmp", { ethType: EthType.IPV4, proto: IpProto.ICMP }],
  ["icmp6", { ethType: EthType.IPV6, proto: IpProto.ICMPV6 }],
  ["tcp", { ethType: EthType.IPV4, proto: IpProto.TCP }],
  ["tcp6", { ethType: EthType.IPV6, proto: IpProto.TCP }],
  ["udp", { ethType: EthType.IPV4, proto: IpProto.UDP }],
  ["udp6", { ethType: EthType.IPV6, proto: IpProto.UDP }],
  ["sctp", { ethType: EthType.IPV4, proto: IpProto.SCTP }],
  ["sctp6", { ethType: EthType.IPV6, proto: IpProto.SCTP }],
  ["arp", { ethType: EthType.ARP }],
  ["rarp", { ethType: EthType.RARP }],
  ["mpls", { ethType: EthType.MPLS }],
  ["mplsm", { ethType: EthType.MPLS_MULTICAST }],
]);

export interface ParseMatchOptions {
  /** Port names accepted for in_port besides numbers and reserved names. */
  portNames?: PortNameMap;
}

/** A field whose canonical form depends on the protocol, kept until the match is complete. */
interface DeferredField {
  readonly typedName: string;
  readonly field: FieldInfo;
  readonly value: FieldValue;
  /** True for a bit-range match (tp_src[5]=1), which keeps the field's other bits. */
  readonly merge: boolean;
}

/** Fields resolved after the protocol is known, by the name the user typed. */
const PROTOCOL_RELATIVE: ReadonlySet<string> = new Set([
  "tp_src",
  "tp_dst",
  "icmp_type",
  "icmp_code",
  "icmpv6_type",
  "icmpv6_code",
  "nw_src",
  "nw_dst",
  "ip_src",
  "ip_dst",
  "nw_proto",
  "ip_proto",
]);

function resolveName(typedName: string, ethType: bigint | undefined, proto: bigint | undefined): string {
  const isArp = ethType === EthType.ARP || ethType === EthType.RARP;
  const isV6 = ethType === EthType.IPV6;
  const direction = typedName.endsWith("src") || typedName.endsWith("type") ? 0 : 1;
  switch (typedName) {
    case "tp_src":
    case "tp_dst": {
      const byProto = new Map<bigint, readonly [string, string]>([
        [IpProto.TCP, ["tcp_src", "tcp_dst"]],
        [IpProto.UDP, ["udp_src", "udp_dst"]],
        [IpProto.SCTP, ["sctp_src", "sctp_dst"]],
        [IpProto.ICMP, ["icmp_type", "icmp_code"]],
        [IpProto.ICMPV6, ["icmpv6_type", "icmpv6_code"]],
      ]);
      const names = proto === undefined ? undefined : byProto.get(proto);
      return names?.[direction] ?? (direction === 0 ? "tcp_src" : "tcp_dst");
    }
    case "icmp_type":
    case "icmpv6_type":
      return isV6 ? "icmpv6_type" : "icmp_type";
    case "icmp_code":
    case "icmpv6_code":
      return isV6 ? "icmpv6_code" : "icmp_code";
    case "nw_src":
    case "ip_src":
      return isArp ? "arp_spa" : "ip_src";
    case "nw_dst":
    case "ip_dst":
      return isArp ? "arp_tpa" : "ip_dst";
    default:
      return isArp ? "arp_op" : "nw_proto";
  }
}

/**
 * Reads match keywords and field=value pairs one at a time, then builds and checks the
 * Match. One instance per parse; not safe to share.
 */
export class MatchTextParser {
  private readonly builder = new MatchBuilder();
  private readonly deferred: DeferredField[] = [];
  /** Name the user typed for each canonical field, for error messages. */
  private readonly typedNames = new Map<string, string>();
  private readonly options: ParseMatchOptions;

  constructor(options: ParseMatchOptions = {}) {
    this.options = options;
  }

  /** Returns true when `word` is a protocol keyword, applying it. */
  addKeyword(word: string): boolean {
    const protocol = PROTOCOL_KEYWORDS.get(word);
    if (!protocol) return false;
    this.builder.setCanonical("eth_type", protocol.ethType);
    if (protocol.proto !== undefined) {
      this.builder.setCanonical("nw_proto", protocol.proto);
      // The keyword comes later than any nw_proto typed so far, so it wins, as in ovs-ofctl.
      const laterOnes = this.deferred.filter((item) => item.typedName !== "nw_proto" && item.typedName !== "ip_proto");
      this.deferred.splice(0, this.deferred.length, ...laterOnes);
    }
    return true;
  }

  /** Returns true when `name` is a field name known to the registry. */
  static isField(name: string): boolean {
    return lookupField(name) !== undefined;
  }

  /**
   * Applies `name=valueText`. Throws MatchError for an unknown field (with the closest known
   * name), an invalid or too wide value, or a mask on a field that cannot be masked.
   */
  addField(name: string, valueText: string): void {
    if (name.includes("[")) {
      this.addSubfield(name, valueText);
      return;
    }
    const field = requireField(name);
    if (field.name !== name && !field.aliases.includes(name)) {
      // ovs-ofctl accepts NXM/OXM names in actions (move, load) but not as match keys.
      throw new MatchError(MatchErrorCode.UNKNOWN_FIELD, `unknown match field "${name}": write ${field.name}=VALUE`);
    }
    if (field.header === 0 && !["dl_vlan", "dl_vlan_pcp"].includes(field.name)) {
      throw new MatchError(MatchErrorCode.UNSUPPORTED, `field ${name} cannot be matched on`);
    }
    const value = parseFieldValue(field, valueText, {
      displayName: name,
      ...(this.options.portNames ? { portNames: this.options.portNames } : {}),
    });
    if (field.name === "nw_tos" && ((value.value[0] ?? 0) & 3) !== 0) {
      throw new MatchError(
        MatchErrorCode.BAD_VALUE,
        `invalid value "${valueText}" for ${name}: it is DSCP << 2, a multiple of 4; match the ECN bits with nw_ecn`,
      );
    }
    if (PROTOCOL_RELATIVE.has(name) || field.name === "nw_proto") {
      this.deferred.push({ typedName: name, field, value, merge: false });
      return;
    }
    this.applyField(name, field, { value, merge: false });
  }

  /** Applies `field[start..end]=value`, a match on some bits of a field. */
  private addSubfield(name: string, valueText: string): void {
    const subfield = parseSubfield(name);
    const number = parseUnsigned(valueText);
    if (number === undefined || number >> BigInt(subfield.nBits) !== 0n) {
      throw new MatchError(
        MatchErrorCode.VALUE_TOO_WIDE,
        `value "${valueText}" for ${name} must be a number that fits in ${subfield.nBits} bits`,
      );
    }
    const { field, offset, nBits } = subfield;
    const value = bigintToBuffer(number << BigInt(offset), field.bytes);
    const mask = bigintToBuffer(((1n << BigInt(nBits)) - 1n) << BigInt(offset), field.bytes);
    const typedName = name.slice(0, name.indexOf("["));
    if (PROTOCOL_RELATIVE.has(typedName)) {
      this.deferred.push({ typedName, field, value: { value, mask }, merge: true });
      return;
    }
    this.applyField(typedName, field, { value: { value, mask }, merge: true });
  }

  private applyField(typedName: string, field: FieldInfo, change: { value: FieldValue; merge: boolean }): void {
    const { value, merge } = change;
    if (merge && value.mask) this.builder.mergeField(field, value.value, value.mask);
    else this.builder.setField(field, value.value, value.mask);
    this.typedNames.set(field.name, typedName);
  }

  private resolveDeferred(): void {
    const ethType = this.builder.get("eth_type")?.value;
    // nw_proto goes first because tp_src, tp_dst and icmp_type depend on it.
    const isProto = (item: DeferredField): boolean => item.typedName === "nw_proto" || item.typedName === "ip_proto";
    const ordered = [...this.deferred.filter(isProto), ...this.deferred.filter((item) => !isProto(item))];
    for (const item of ordered) {
      const proto = this.builder.get("nw_proto")?.value;
      const resolved = requireField(resolveName(item.typedName, ethType, proto));
      const value = item.field.bytes === resolved.bytes ? item.value : narrowValue(item, resolved);
      this.applyField(item.typedName, resolved, { value, merge: item.merge });
    }
  }

  /**
   * Returns the Match. Throws MatchError MISSING_PREREQUISITE when a field needs a protocol
   * the match does not fix, for example "tp_dst requires tcp, tcp6, udp, udp6, sctp or sctp6 (...)".
   */
  finish(): Match {
    this.resolveDeferred();
    const match = this.builder.build();
    this.checkGenericPorts(match);
    checkPrerequisites(match, (entry: MatchEntry) => this.typedNames.get(entry.field.name) ?? entry.field.name);
    return match;
  }

  /**
   * Throws for tp_src or tp_dst without a transport protocol. Those names resolve to
   * tcp_src or tcp_dst when nothing fixes nw_proto, but udp and sctp satisfy them as well,
   * so the hint lists every protocol rather than the tcp_dst prerequisite alone.
   */
  private checkGenericPorts(match: Match): void {
    const [first] = unmetPrerequisites(match);
    if (first === undefined) return;
    const typedName = this.typedNames.get(first.field.name);
    if (typedName !== "tp_src" && typedName !== "tp_dst") return;
    throw new MatchError(
      MatchErrorCode.MISSING_PREREQUISITE,
      `${typedName} requires tcp, tcp6, udp, udp6, sctp or sctp6 (add one of them before it, for example 'tcp,')`,
    );
  }
}

/** Converts a value parsed for one width (tp_src, 2 bytes) to the resolved field's width (icmp_type, 1 byte). */
function narrowValue(item: DeferredField, resolved: FieldInfo): FieldValue {
  const number = bufferToBigint(item.value.value);
  if (number >> BigInt(resolved.bytes * 8) !== 0n) {
    throw new MatchError(
      MatchErrorCode.VALUE_TOO_WIDE,
      `value ${number} of ${item.typedName} is too large for the ${resolved.bytes}-byte field ${resolved.name}`,
    );
  }
  if (item.value.mask && !resolved.maskable) {
    throw new MatchError(MatchErrorCode.MASK_NOT_ALLOWED, `${item.typedName} cannot be masked when it means ${resolved.name}: give an exact value`);
  }
  const value = bigintToBuffer(number, resolved.bytes);
  if (!item.value.mask) return { value };
  const mask = bufferToBigint(item.value.mask) & ((1n << BigInt(resolved.bytes * 8)) - 1n);
  return { value, mask: bigintToBuffer(mask, resolved.bytes) };
}

/** One word of match or flow text: a keyword (no value) or a key with its value. */
export interface MatchToken {
  key: string;
  value?: string;
}

/**
 * Splits match text on commas and whitespace into keys and values. Like ovs-ofctl, a key ends
 * at the first "=", ":" or "(", so "nw_src=10.0.0.1" and "nw_src:10.0.0.1" are the same.
 * A value written in parentheses, as in "tp_dst(80)", must end with ")".
 */
export function splitMatchText(text: string): MatchToken[] {
  const words = text.split(/[\s,]+/).filter((word) => word !== "");
  return words.map((word) => {
    const delimiter = /[=:(]/.exec(word);
    if (!delimiter) return { key: word };
    const key = word.slice(0, delimiter.index);
    const rest = word.slice(delimiter.index + 1);
    if (delimiter[0] !== "(") return { key, value: rest };
    if (!rest.endsWith(")")) {
      throw new MatchError(MatchErrorCode.BAD_VALUE, `"${word}" has no closing parenthesis: write ${key}(VALUE) or ${key}=VALUE`);
    }
    return { key, value: rest.slice(0, -1) };
  });
}

/**
 * Parses match text such as "tcp,in_port=1,nw_src=10.0.0.0/24,tp_dst=80". Only match fields
 * and protocol keywords are accepted; use parseFlow for whole flow lines.
 */
export function parseMatch(text: string, options: ParseMatchOptions = {}): Match {
  const parser = new MatchTextParser(options);
  for (const { key, value } of splitMatchText(text)) {
    if (value !== undefined) {
      parser.addField(key, value);
      continue;
    }
    if (parser.addKeyword(key)) continue;
    requireField(key);
    throw new MatchError(MatchErrorCode.BAD_VALUE, `field "${key}" needs a value: write ${key}=VALUE`);
  }
  return parser.finish();
}
