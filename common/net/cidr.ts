// IPv4 and IPv6 prefixes as BigInt arithmetic, so one code path serves both families
// and IPv6 /64 subnets of a /48 never lose precision.
import { isIPv4, isIPv6 } from "node:net";

export type IPFamily = "IPv4" | "IPv6";

/** A network prefix with its host bits cleared. */
export interface Cidr {
  readonly family: IPFamily;
  /** Network address as an unsigned integer (32 or 128 bits). */
  readonly network: bigint;
  readonly prefixLength: number;
}

export const ADDRESS_BITS: Readonly<Record<IPFamily, number>> = { IPv4: 32, IPv6: 128 };

export const CidrErrorCode = {
  invalidAddress: "CIDR_INVALID_ADDRESS",
  invalidPrefix: "CIDR_INVALID_PREFIX",
  hostBitsSet: "CIDR_HOST_BITS_SET",
} as const;
export type CidrErrorCode = (typeof CidrErrorCode)[keyof typeof CidrErrorCode];

export class CidrError extends Error {
  readonly code: CidrErrorCode;
  /** The rejected text. */
  readonly value: string;
  /**
   * The problem with `value` and its fix, without the value itself, for callers that
   * name the value in their own words ("pod CIDR ... is invalid: <reason>").
   */
  readonly reason: string;

  constructor(options: { code: CidrErrorCode; value: string; reason: string; message: string }) {
    super(options.message);
    this.name = "CidrError";
    this.code = options.code;
    this.value = options.value;
    this.reason = options.reason;
  }
}

function invalidCidr(code: CidrErrorCode, text: string, reason: string): CidrError {
  return new CidrError({ code, value: text, reason, message: `invalid CIDR "${text}": ${reason}` });
}

/**
 * Parses "address/prefix" into a Cidr. Rejects a prefix whose host bits are set
 * ("10.0.0.1/24"), because a cluster or node CIDR written that way is almost always a typo.
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf("/");
  if (slash < 0) {
    throw invalidCidr(CidrErrorCode.invalidPrefix, text, 'missing "/prefix-length"');
  }
  const addressText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const family = familyOf(addressText);
  if (family === undefined) {
    throw invalidCidr(CidrErrorCode.invalidAddress, text, `"${addressText}" is not an IPv4 or IPv6 address`);
  }
  const bits = ADDRESS_BITS[family];
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    throw invalidCidr(CidrErrorCode.invalidPrefix, text, `prefix length must be an integer from 0 to ${bits}`);
  }
  const prefixLength = Number(prefixText);
  const address = parseAddress(addressText);
  const network = address & prefixMask(family, prefixLength);
  if (network !== address) {
    const suggestion = formatCidr({ family, network, prefixLength });
    throw invalidCidr(CidrErrorCode.hostBitsSet, text, `host bits are set; did you mean ${suggestion}?`);
  }
  return { family, network, prefixLength };
}

/**
 * Returns the family of an address text, or undefined for anything else. A scoped IPv6
 * address with a zone index ("fe80::1%eth0") is rejected: the zone names a link on one
 * host and is not part of the 128-bit address that prefixes are computed on.
 */
export function familyOf(address: string): IPFamily | undefined {
  if (isIPv4(address)) return "IPv4";
  if (isIPv6(address) && !address.includes("%")) return "IPv6";
  return undefined;
}

/** Parses an IPv4 or IPv6 address into an integer. Throws CidrError for text that familyOf rejects. */
export function parseAddress(address: string): bigint {
  const family = familyOf(address);
  if (family === "IPv4") return parseIPv4(address);
  if (family === "IPv6") return parseIPv6(address);
  const reason = address.includes("%") ? "an IPv6 zone index (%...) is not allowed; remove it" : "not an IPv4 or IPv6 address";
  throw new CidrError({ code: CidrErrorCode.invalidAddress, value: address, reason, message: `invalid IP address "${address}": ${reason}` });
}

function parseIPv4(address: string): bigint {
  let value = 0n;
  for (const octet of address.split(".")) {
    value = (value << 8n) | BigInt(Number(octet));
  }
  return value;
}

function parseIPv6(address: string): bigint {
  let text = address;
  // An embedded IPv4 tail ("::ffff:10.0.0.1") becomes two hextets.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = parseIPv4(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = text.split("::");
  const head = halves[0] === "" ? [] : (halves[0] ?? "").split(":");
  const rest = halves.length > 1 && halves[1] !== "" ? (halves[1] ?? "").split(":") : [];
  const zeros = new Array<string>(8 - head.length - rest.length).fill("0");
  const hextets = halves.length > 1 ? [...head, ...zeros, ...rest] : head;
  let value = 0n;
  for (const hextet of hextets) {
    value = (value << 16n) | BigInt(parseInt(hextet, 16));
  }
  return value;
}

/** Formats an address integer: dotted quad for IPv4, RFC 5952 canonical text for IPv6. */
export function formatAddress(family: IPFamily, value: bigint): string {
  if (family === "IPv4") {
    return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
  }
  const hextets: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) {
    hextets.push(Number((value >> shift) & 0xffffn));
  }
  const run = longestZeroRun(hextets);
  const text = hextets.map((h) => h.toString(16));
  if (run.length < 2) return text.join(":");
  const head = text.slice(0, run.start).join(":");
  const tail = text.slice(run.start + run.length).join(":");
  return `${head}::${tail}`;
}

/** RFC 5952 section 4.2: compress the longest run of zero hextets, the first one on a tie. */
function longestZeroRun(hextets: readonly number[]): { start: number; length: number } {
  let best = { start: -1, length: 0 };
  let start = -1;
  for (let i = 0; i <= hextets.length; i++) {
    if (i < hextets.length && hextets[i] === 0) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start > best.length) best = { start, length: i - start };
    start = -1;
  }
  return best;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatAddress(cidr.family, cidr.network)}/${cidr.prefixLength}`;
}

/** Returns the network bits of a prefix as a mask, e.g. 0xffffff00 for an IPv4 /24. */
export function prefixMask(family: IPFamily, prefixLength: number): bigint {
  const all = (1n << BigInt(ADDRESS_BITS[family])) - 1n;
  return all ^ hostMask(family, prefixLength);
}

/** Returns the host bits of a prefix as a mask, e.g. 0xff for an IPv4 /24, so `network | hostMask` is the last address. */
export function hostMask(family: IPFamily, prefixLength: number): bigint {
  return (1n << BigInt(ADDRESS_BITS[family] - prefixLength)) - 1n;
}

/**
 * Checks whether the address text lies inside `cidr`. An address of the other family is
 * never inside, so IPv4 10.0.0.1 is not in ::/0. Throws CidrError for text that familyOf rejects.
 */
export function containsAddress(cidr: Cidr, address: string): boolean {
  const value = parseAddress(address);
  if (familyOf(address) !== cidr.family) return false;
  return (value & prefixMask(cidr.family, cidr.prefixLength)) === cidr.network;
}

/** Whether `inner` lies entirely inside `outer` (same family, equal or longer prefix). */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || inner.prefixLength < outer.prefixLength) return false;
  return (inner.network & prefixMask(outer.family, outer.prefixLength)) === outer.network;
}

/** Whether two prefixes share at least one address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}
