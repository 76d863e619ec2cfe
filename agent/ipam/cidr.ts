// IPv4 and IPv6 prefixes as bigints, for address arithmetic in the node IPAM.
import { isIPv4, isIPv6 } from "node:net";

export type IpFamily = 4 | 6;

export type Cidr = {
  family: IpFamily;
  /** The network address as an unsigned integer. */
  network: bigint;
  prefixLength: number;
  /** 32 or 128. */
  bits: number;
};

export class CidrError extends Error {
  readonly code = "IPAM_INVALID_CIDR";
  constructor(message: string) {
    super(message);
    this.name = "CidrError";
  }
}

/** Parses "10.0.0.0/24" or "fd00::/64". Host bits must be zero. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf("/");
  if (slash < 0) throw new CidrError(`pod CIDR ${JSON.stringify(text)} has no prefix length; write it as ADDRESS/LENGTH`);
  const addressText = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  const family = familyOf(addressText);
  if (family === undefined) throw new CidrError(`pod CIDR ${JSON.stringify(text)} does not start with an IPv4 or IPv6 address`);
  const bits = family === 4 ? 32 : 128;
  const prefixLength = Number(lengthText);
  if (!/^\d{1,3}$/.test(lengthText) || prefixLength > bits) {
    throw new CidrError(`pod CIDR ${JSON.stringify(text)} has an invalid prefix length; use 0 to ${bits}`);
  }
  const network = parseAddress(addressText);
  if ((network & hostMask(bits, prefixLength)) !== 0n) {
    throw new CidrError(`pod CIDR ${JSON.stringify(text)} has host bits set; use ${formatAddress(network & ~hostMask(bits, prefixLength), family)}/${prefixLength}`);
  }
  return { family, network, prefixLength, bits };
}

export function familyOf(address: string): IpFamily | undefined {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  return undefined;
}

/** Parses a textual IPv4 or IPv6 address (no zone) into an integer. */
export function parseAddress(text: string): bigint {
  if (isIPv4(text)) {
    return text.split(".").reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
  }
  if (!isIPv6(text) || text.includes("%")) throw new CidrError(`${JSON.stringify(text)} is not an IP address`);
  let head = text;
  const embedded = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (embedded?.[1] !== undefined) {
    const v4 = parseAddress(embedded[1]);
    head = text.slice(0, -embedded[1].length) + ((v4 >> 16n).toString(16) + ":" + (v4 & 0xffffn).toString(16));
  }
  const [left, right] = head.includes("::") ? head.split("::") : [head, undefined];
  const leftGroups = left === "" || left === undefined ? [] : left.split(":");
  const rightGroups = right === undefined || right === "" ? [] : right.split(":");
  const missing = 8 - leftGroups.length - rightGroups.length;
  const groups = [...leftGroups, ...(right === undefined ? [] : Array<string>(missing).fill("0")), ...rightGroups];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** Formats an integer as dotted IPv4 or as RFC 5952 IPv6 (lower case, longest zero run as "::"). */
export function formatAddress(value: bigint, family: IpFamily): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join(".");
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(":");
  return hex.slice(0, bestStart).join(":") + "::" + hex.slice(bestStart + bestLength).join(":");
}

export function hostMask(bits: number, prefixLength: number): bigint {
  return (1n << BigInt(bits - prefixLength)) - 1n;
}

export function containsAddress(cidr: Cidr, address: bigint): boolean {
  return (address & ~hostMask(cidr.bits, cidr.prefixLength)) === cidr.network;
}
