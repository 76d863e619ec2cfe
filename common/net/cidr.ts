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
  readonly value: string;

  constructor(code: CidrErrorCode, value: string, message: string) {
    super(message);
    this.name = "CidrError";
    this.code = code;
    this.value = value;
  }
}

/**
 * Parses "address/prefix" into a Cidr. Rejects a prefix whose host bits are set
 * ("10.0.0.1/24"), because a cluster or node CIDR written that way is almost always a typo.
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf("/");
  if (slash < 0) {
    throw new CidrError(CidrErrorCode.invalidPrefix, text, `invalid CIDR "${text}": missing "/prefix-length"`);
  }
  const addressText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const family = familyOf(addressText);
  if (family === undefined) {
    throw new CidrError(CidrErrorCode.invalidAddress, text, `invalid CIDR "${text}": "${addressText}" is not an IPv4 or IPv6 address`);
  }
  const bits = ADDRESS_BITS[family];
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    throw new CidrError(CidrErrorCode.invalidPrefix, text, `invalid CIDR "${text}": prefix length must be an integer from 0 to ${bits}`);
  }
  const prefixLength = Number(prefixText);
  const address = parseAddress(addressText);
  const network = address & prefixMask(family, prefixLength);
  if (network !== address) {
    const suggestion = formatCidr({ family, network, prefixLength });
    throw new CidrError(CidrErrorCode.hostBitsSet, text, `invalid CIDR "${text}": host bits are set; did you mean ${suggestion}?`);
  }
  return { family, network, prefixLength };
}

export function familyOf(address: string): IPFamily | undefined {
  if (isIPv4(address)) return "IPv4";
  if (isIPv6(address)) return "IPv6";
  return undefined;
}

/** Parses an IPv4 or IPv6 address (already checked by familyOf) into an integer. */
export function parseAddress(address: string): bigint {
  if (isIPv4(address)) return parseIPv4(address);
  if (isIPv6(address)) return parseIPv6(address);
  throw new CidrError(CidrErrorCode.invalidAddress, address, `invalid IP address "${address}"`);
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

export function prefixMask(family: IPFamily, prefixLength: number): bigint {
  const bits = BigInt(ADDRESS_BITS[family]);
  const all = (1n << bits) - 1n;
  return all ^ ((1n << (bits - BigInt(prefixLength))) - 1n);
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
