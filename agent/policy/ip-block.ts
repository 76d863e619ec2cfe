// ipBlock peers with `except` ranges, turned into the prefixes that remain. A CIDR minus its
// except ranges is split into the complement prefixes, so a rule's peer clause stays a plain
// list of prefixes at one priority and needs no "not this rule" flows at a higher priority.
// 10.0.0.0/8 except 10.1.0.0/16 becomes 8 prefixes: 10.0.0.0/16, 10.2.0.0/15, 10.4.0.0/14,
// up to 10.128.0.0/9.
import { ADDRESS_BITS, familyOf, formatCidr, parseAddress, prefixMask, type Cidr } from "../../common/net/cidr.ts";
import type { IpBlock } from "../../controller/networkpolicy/types.ts";
import { PolicyError, PolicyErrorCode } from "./errors.ts";

/**
 * Parses "address/prefix", clearing host bits as Kubernetes does when it validates an
 * ipBlock ("10.0.0.1/8" selects 10.0.0.0/8). Throws PolicyError for anything else.
 */
export function parsePolicyCidr(text: string): Cidr {
  const [address = "", prefix, ...extra] = text.split("/");
  const family = familyOf(address);
  const bits = family === undefined ? 0 : ADDRESS_BITS[family];
  if (family === undefined || prefix === undefined || extra.length > 0 || !/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) {
    throw new PolicyError(PolicyErrorCode.invalidRule, `invalid ipBlock CIDR ${JSON.stringify(text)}: expected an IPv4 or IPv6 address, "/" and a prefix length`);
  }
  const prefixLength = Number(prefix);
  return { family, network: parseAddress(address) & prefixMask(family, prefixLength), prefixLength };
}

/**
 * Returns the fewest prefixes that together cover `block.cidr` minus every except range, in
 * address order. An except range outside the CIDR, or of the other family, removes nothing;
 * an except range equal to or containing the CIDR leaves nothing.
 */
export function ipBlockPrefixes(block: IpBlock): Cidr[] {
  let remaining = [parsePolicyCidr(block.cidr)];
  for (const text of block.except) {
    const excluded = parsePolicyCidr(text);
    remaining = remaining.flatMap((prefix) => subtract(prefix, excluded));
  }
  return remaining.sort(compareNetworks);
}

/** Returns `prefix` minus `excluded`. */
function subtract(prefix: Cidr, excluded: Cidr): Cidr[] {
  if (prefix.family !== excluded.family) return [prefix];
  if (contains(excluded, prefix)) return [];
  if (!contains(prefix, excluded)) return [prefix];

  // Walk down from `prefix` toward `excluded`, one bit at a time. At each level the half that
  // does not hold `excluded` is kept whole, and the walk continues into the other half.
  const remainder: Cidr[] = [];
  const bits = ADDRESS_BITS[prefix.family];
  let current = prefix;
  while (current.prefixLength < excluded.prefixLength) {
    const length = current.prefixLength + 1;
    const bit = 1n << BigInt(bits - length);
    const low: Cidr = { family: current.family, network: current.network, prefixLength: length };
    const high: Cidr = { family: current.family, network: current.network | bit, prefixLength: length };
    const towardExcluded = (excluded.network & bit) === 0n ? low : high;
    remainder.push(towardExcluded === low ? high : low);
    current = towardExcluded;
  }
  return remainder;
}

function compareNetworks(a: Cidr, b: Cidr): number {
  if (a.network === b.network) return 0;
  return a.network < b.network ? -1 : 1;
}

function contains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || outer.prefixLength > inner.prefixLength) return false;
  return (inner.network & prefixMask(outer.family, outer.prefixLength)) === outer.network;
}

/** Formats prefixes as "a.b.c.d/n" text, for messages and tests. */
export function formatPrefixes(prefixes: readonly Cidr[]): string[] {
  return prefixes.map(formatCidr);
}
