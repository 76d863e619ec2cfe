// Parsing and printing of single field values in ovs-ofctl's syntax. Values and masks are
// big-endian buffers of the field's wire width. Printing follows OVS 3.1's mf_format(), the
// spelling used in actions (set_field:0x1->reg0); match printing has its own rules in
// match-format.ts.

import {
  formatEthernet,
  formatIpv4,
  formatIpv6,
  parseEthernet,
  parseIpv4,
  parseIpv6,
  prefixLengthOf,
  prefixMask,
} from "./addresses.ts";
import { MatchError, MatchErrorCode } from "./errors.ts";
import type { FieldInfo } from "./field-table.ts";
import { CT_STATE_FLAGS, formatFlagsMasked, parseFlags, TCP_FLAGS, TUNNEL_FLAGS } from "./flags.ts";
import type { FlagNames } from "./flags.ts";
import { formatPort, parsePort, portFromOfp11, portToOfp11 } from "./ports.ts";
import type { PortNameMap } from "./ports.ts";

export interface FieldValue {
  value: Buffer;
  /** Absent for an exact match. */
  mask?: Buffer;
}

export interface ParseValueOptions {
  /** Port names to accept in addition to numbers and OVS's reserved names. */
  portNames?: PortNameMap;
  /** Name to use for the field in error messages, such as the alias the user typed ("nw_src"). */
  displayName?: string;
}

export interface FormatValueOptions {
  /** Port names to print instead of numbers. */
  portNames?: PortNameMap;
}

/** Fragment-matching keywords of ip_frag, with their 2-bit value and mask. */
const FRAG_KEYWORDS: readonly { name: string; value: number; mask: number }[] = [
  { name: "no", value: 0, mask: 3 },
  { name: "yes", value: 1, mask: 1 },
  { name: "first", value: 1, mask: 3 },
  { name: "later", value: 3, mask: 3 },
  { name: "not_later", value: 0, mask: 2 },
];

function badValue(field: FieldInfo, text: string, expected: string): MatchError {
  return new MatchError(MatchErrorCode.BAD_VALUE, `invalid value "${text}" for field ${field.name}: expected ${expected}`);
}

/** Parses an unsigned integer the way C's strtoull with base 0 does: 0x hex, leading 0 octal. */
export function parseUnsigned(text: string): bigint | undefined {
  const body = text.startsWith("+") ? text.slice(1) : text;
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) return BigInt(body);
  if (/^0[0-7]+$/.test(body)) return BigInt(`0o${body.slice(1)}`);
  if (/^\d+$/.test(body)) return BigInt(body);
  return undefined;
}

/** Writes the low `bytes` bytes of `value` big-endian into a new buffer. */
export function bigintToBuffer(value: bigint, bytes: number): Buffer {
  const buffer = Buffer.alloc(bytes);
  // Widths up to 6 bytes fit a double exactly, which avoids BigInt arithmetic per byte.
  if (bytes <= 6) {
    buffer.writeUIntBE(Number(BigInt.asUintN(bytes * 8, value)), 0, bytes);
    return buffer;
  }
  let remaining = value;
  for (let end = bytes; end > 0; end -= 4) {
    const start = Math.max(0, end - 4);
    buffer.writeUIntBE(Number(remaining & 0xffffffffn) % 2 ** ((end - start) * 8), start, end - start);
    remaining >>= 32n;
  }
  return buffer;
}

/** Reads a big-endian unsigned integer of any width. */
export function bufferToBigint(buffer: Buffer): bigint {
  if (buffer.length <= 6) return buffer.length === 0 ? 0n : BigInt(buffer.readUIntBE(0, buffer.length));
  let value = 0n;
  let start = 0;
  const head = buffer.length % 4;
  if (head !== 0) {
    value = BigInt(buffer.readUIntBE(0, head));
    start = head;
  }
  for (let offset = start; offset < buffer.length; offset += 4) {
    value = (value << 32n) | BigInt(buffer.readUInt32BE(offset));
  }
  return value;
}

function parseInteger(field: FieldInfo, text: string): Buffer {
  if (text.startsWith("-")) {
    throw new MatchError(MatchErrorCode.VALUE_TOO_WIDE, `value "${text}" for field ${field.name} is negative: use an unsigned number`);
  }
  const value = parseUnsigned(text);
  if (value === undefined) throw badValue(field, text, "a decimal, 0x-prefixed hexadecimal or 0-prefixed octal number");
  if (value >> BigInt(field.bytes * 8) !== 0n) {
    throw new MatchError(MatchErrorCode.VALUE_TOO_WIDE, `value ${text} is too large for the ${field.bytes}-byte field ${field.name}`);
  }
  return bigintToBuffer(value, field.bytes);
}

function splitMask(text: string): [string, string | undefined] {
  const slash = text.indexOf("/");
  return slash === -1 ? [text, undefined] : [text.slice(0, slash), text.slice(slash + 1)];
}

function parseIpv4Value(field: FieldInfo, text: string): FieldValue {
  const [addressText, maskText] = splitMask(text);
  const value = parseIpv4(addressText);
  if (!value) throw badValue(field, text, "an IPv4 address such as 10.0.0.1, optionally /prefix or /netmask");
  if (maskText === undefined) return { value };
  if (/^\d+$/.test(maskText)) {
    const length = Number(maskText);
    if (length > 32) throw badValue(field, text, "an IPv4 prefix length between 0 and 32");
    return { value, mask: prefixMask(length, 4) };
  }
  const mask = parseIpv4(maskText);
  if (!mask) throw badValue(field, text, "an IPv4 netmask such as 255.255.255.0 or a prefix length");
  return { value, mask };
}

function parseIpv6Value(field: FieldInfo, text: string): FieldValue {
  const [addressText, maskText] = splitMask(text);
  const value = parseIpv6(addressText);
  if (!value) throw badValue(field, text, "an IPv6 address such as fe80::1, optionally /prefix or /mask");
  if (maskText === undefined) return { value };
  if (/^\d+$/.test(maskText)) {
    const length = Number(maskText);
    if (length > 128) throw badValue(field, text, "an IPv6 prefix length between 0 and 128");
    return { value, mask: prefixMask(length, 16) };
  }
  const mask = parseIpv6(maskText);
  if (!mask) throw badValue(field, text, "an IPv6 mask such as ffff:ffff:: or a prefix length");
  return { value, mask };
}

function parseEthernetValue(field: FieldInfo, text: string): FieldValue {
  const [addressText, maskText] = splitMask(text);
  const value = parseEthernet(addressText);
  if (!value) throw badValue(field, text, "an Ethernet address such as 00:11:22:33:44:55, optionally /mask");
  if (maskText === undefined) return { value };
  const mask = parseEthernet(maskText);
  if (!mask) throw badValue(field, text, "an Ethernet mask such as ff:ff:ff:00:00:00");
  return { value, mask };
}

function parseIntegerValue(field: FieldInfo, text: string): FieldValue {
  const [valueText, maskText] = splitMask(text);
  const value = parseInteger(field, valueText);
  return maskText === undefined ? { value } : { value, mask: parseInteger(field, maskText) };
}

function parseFlagValue(field: FieldInfo, text: string, names: FlagNames, fullMask: number): FieldValue {
  const startsWithDigit = /^\d/.test(text);
  if (startsWithDigit) return parseIntegerValue(field, text);
  const parsed = parseFlags(names, text, fullMask);
  if (!parsed.ok) throw new MatchError(MatchErrorCode.BAD_VALUE, `invalid value "${text}" for field ${field.name}: ${parsed.problem}`);
  const value = bigintToBuffer(BigInt(parsed.value), field.bytes);
  const isExact = parsed.mask >>> 0 === fullMask >>> 0 && fullMask === 2 ** (field.bytes * 8) - 1;
  return isExact ? { value } : { value, mask: bigintToBuffer(BigInt(parsed.mask), field.bytes) };
}

function parseFragValue(field: FieldInfo, text: string): FieldValue {
  const keyword = FRAG_KEYWORDS.find((candidate) => candidate.name === text);
  if (!keyword) throw badValue(field, text, `one of ${FRAG_KEYWORDS.map((candidate) => candidate.name).join(", ")}`);
  const value = Buffer.from([keyword.value]);
  return keyword.mask === 3 ? { value, mask: Buffer.from([0xff]) } : { value, mask: Buffer.from([keyword.mask]) };
}

function parsePortValue(field: FieldInfo, text: string, options: ParseValueOptions): FieldValue {
  const port = parsePort(text, options.portNames);
  if (port === undefined) {
    throw badValue(field, text, "a port number or one of LOCAL, CONTROLLER, IN_PORT, TABLE, NORMAL, FLOOD, ALL, ANY");
  }
  if (field.format === "ofp11-port") return { value: bigintToBuffer(BigInt(portToOfp11(port)), 4) };
  return { value: bigintToBuffer(BigInt(port), 2) };
}

function parseByFormat(field: FieldInfo, text: string, options: ParseValueOptions): FieldValue {
  switch (field.format) {
    case "ipv4":
      return parseIpv4Value(field, text);
    case "ipv6":
      return parseIpv6Value(field, text);
    case "ethernet":
      return parseEthernetValue(field, text);
    case "ofp-port":
    case "ofp11-port":
      return parsePortValue(field, text, options);
    case "ct-state":
      return parseFlagValue(field, text, CT_STATE_FLAGS, 0xffffffff);
    case "tcp-flags":
      return parseFlagValue(field, text, TCP_FLAGS, 0xffff);
    case "tunnel-flags":
      return parseFlagValue(field, text, TUNNEL_FLAGS, 0x0001);
    case "frag":
      return parseFragValue(field, text);
    case "decimal":
    case "hexadecimal":
    case "packet-type":
      return parseIntegerValue(field, text);
  }
}

function significantMask(field: FieldInfo, value: bigint): bigint {
  if (field.format === "ct-state") return 0xffn;
  // OpenFlow 1.0's dl_vlan=0xffff means "no VLAN tag".
  if (field.header === 0 && field.bits === 12 && value === 0xffffn) return 0xffffn;
  // The OXM VLAN VID carries the VLAN-present bit 0x1000 above its 12 bits.
  if (field.oxm.some((form) => form.name === "OXM_OF_VLAN_VID")) return 0x1fffn;
  return (1n << BigInt(field.bits)) - 1n;
}

function checkWidth(field: FieldInfo, text: string, result: FieldValue): void {
  const value = bufferToBigint(result.value);
  const allowed = significantMask(field, value);
  if ((value & ~allowed) !== 0n) {
    throw new MatchError(
      MatchErrorCode.VALUE_TOO_WIDE,
      `value "${text}" does not fit field ${field.name}, which has ${field.format === "ct-state" ? 8 : field.bits} significant bits`,
    );
  }
}

function isAllOnes(buffer: Buffer): boolean {
  return buffer.every((octet) => octet === 0xff);
}

/**
 * Parses a field value in ovs-ofctl syntax. Integers are decimal, 0x hex or 0-prefixed octal
 * with an optional /mask. Addresses take /prefix or /mask. in_port takes port names, ct_state,
 * tcp_flags and tun_flags take flag words, and ip_frag takes its keywords. The value is
 * returned as written, not ANDed with the mask.
 * Throws MatchError (BAD_VALUE, VALUE_TOO_WIDE, MASK_NOT_ALLOWED).
 */
export function parseFieldValue(field: FieldInfo, text: string, options: ParseValueOptions = {}): FieldValue {
  // Messages name the field as the user wrote it; only the name differs from the registry entry.
  const named = options.displayName === undefined ? field : { ...field, name: options.displayName };
  const result = parseByFormat(named, text, options);
  checkWidth(named, text, result);
  if (result.mask && isAllOnes(result.mask)) return { value: result.value };
  if (result.mask && !field.maskable) {
    throw new MatchError(MatchErrorCode.MASK_NOT_ALLOWED, `field ${named.name} cannot be masked, but "${text}" has a mask: give an exact value`);
  }
  return result;
}

/** Prints bytes the way OVS's ds_put_hex does: "0" for zero, else 0x and minimal hex digits. */
export function formatHexBytes(bytes: Buffer): string {
  const value = bufferToBigint(bytes);
  return value === 0n ? "0" : `0x${value.toString(16)}`;
}

function formatIpv4Masked(value: Buffer, mask: Buffer | undefined): string {
  if (!mask) return formatIpv4(value);
  const prefix = prefixLengthOf(mask);
  return `${formatIpv4(value)}/${prefix === undefined ? formatIpv4(mask) : prefix}`;
}

function formatIpv6Masked(value: Buffer, mask: Buffer | undefined): string {
  if (!mask) return formatIpv6(value);
  const prefix = prefixLengthOf(mask);
  return `${formatIpv6(value)}/${prefix === undefined ? formatIpv6(mask) : prefix}`;
}

function formatInteger(field: FieldInfo, value: Buffer, mask: Buffer | undefined): string {
  const text = field.format === "hexadecimal" ? formatHexBytes(value) : bufferToBigint(value).toString(10);
  return mask ? `${text}/${formatHexBytes(mask)}` : text;
}

function formatFrag(value: Buffer, mask: Buffer | undefined): string {
  const maskBits = (mask ? (mask[0] ?? 0) : 0xff) & 3;
  const valueBits = (value[0] ?? 0) & maskBits;
  const keyword = FRAG_KEYWORDS.find((candidate) => candidate.value === valueBits && candidate.mask === maskBits);
  return keyword?.name ?? "<error>";
}

function formatFlagField(names: FlagNames, value: Buffer, mask: Buffer | undefined, fullMask: number): string {
  const flags = Number(bufferToBigint(value));
  const maskBits = mask ? Number(bufferToBigint(mask)) : 2 ** (value.length * 8) - 1;
  return formatFlagsMasked(names, { flags, mask: maskBits & fullMask, fullMask });
}

/**
 * Prints a field value in ovs-ofctl's spelling for actions and subfield values (OVS's
 * mf_format): "ANY" for an all-zero mask, no mask when it is all ones.
 */
export function formatFieldValue(field: FieldInfo, value: Buffer, mask?: Buffer, options: FormatValueOptions = {}): string {
  if (mask && mask.every((octet) => octet === 0)) return "ANY";
  const effectiveMask = mask && !isAllOnes(mask) ? mask : undefined;

  switch (field.format) {
    case "ofp-port":
      return effectiveMask ? formatInteger(field, value, effectiveMask) : formatPort(value.readUInt16BE(0), options.portNames);
    case "ofp11-port":
      return effectiveMask ? formatInteger(field, value, effectiveMask) : formatPort(portFromOfp11(value.readUInt32BE(0)), options.portNames);
    case "ct-state": {
      const flags = Number(bufferToBigint(value));
      const maskBits = effectiveMask ? Number(bufferToBigint(effectiveMask)) : 0xffffffff;
      return formatFlagsMasked(CT_STATE_FLAGS, { flags, mask: maskBits, fullMask: 0xffff });
    }
    case "tcp-flags":
      return formatFlagField(TCP_FLAGS, value, effectiveMask, 0x0fff);
    case "tunnel-flags":
      return formatFlagField(TUNNEL_FLAGS, value, effectiveMask, 0x0001);
    case "ethernet":
      return effectiveMask ? `${formatEthernet(value)}/${formatEthernet(effectiveMask)}` : formatEthernet(value);
    case "ipv4":
      return formatIpv4Masked(value, effectiveMask);
    case "ipv6":
      return formatIpv6Masked(value, effectiveMask);
    case "frag":
      return formatFrag(value, effectiveMask);
    case "decimal":
    case "hexadecimal":
    case "packet-type":
      return formatInteger(field, value, effectiveMask);
  }
}
