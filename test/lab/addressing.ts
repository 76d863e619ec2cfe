// IPv4 address plan of a lab: which block it uses, how the block splits into segments and
// which address each node, the router and the outside namespace get.
import { LabError, LabErrorCode } from "./errors.ts";
import type { SegmentName } from "./names.ts";

/** An IPv4 network: `base` is the network address as an unsigned 32-bit integer. */
export interface Cidr {
  base: number;
  prefixLength: number;
}

/** Number of /23 blocks inside 10.200.0.0/16 that lab names map to. */
export const derivedBlockCount = 128;

const derivedRange = parseIpv4("10.200.0.0");

/** Most specific segment that still leaves room for the router, 16 nodes and the outside. */
export const maxSegmentPrefixLength = 26;
/** Least specific segment, to keep a typo from claiming a huge range. */
export const minSegmentPrefixLength = 16;

/** Host offsets inside a segment. Node i gets nodeHostOffset + i; the outside gets the last host. */
export const routerHostOffset = 1;
export const nodeHostOffset = 10;

export interface SegmentPlan {
  name: SegmentName;
  cidr: string;
  prefixLength: number;
  /** The router's address on this segment; undefined with one subnet (no router). */
  gateway: string | undefined;
}

export interface NodeAddress {
  index: number;
  segment: SegmentName;
  ip: string;
}

export interface AddressPlan {
  /** The block all segments come from. */
  block: string;
  segments: SegmentPlan[];
  nodes: NodeAddress[];
  /** The outside namespace, on segment "a". */
  outside: { segment: SegmentName; ip: string };
}

/** Parses dotted-quad IPv4 text into an unsigned 32-bit integer; raises INVALID_OPTION. */
export function parseIpv4(text: string): number {
  const parts = text.split(".");
  const octets = parts.map((part) => (/^\d{1,3}$/.test(part) ? Number(part) : Number.NaN));
  if (octets.length !== 4 || octets.some((octet) => !(octet >= 0 && octet <= 255))) {
    throw new LabError(LabErrorCode.InvalidOption, `invalid IPv4 address ${JSON.stringify(text)}: use dotted-quad form such as 10.200.0.1`);
  }
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

/** Formats an unsigned 32-bit integer as dotted-quad IPv4 text. */
export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/** Parses "A.B.C.D/P"; raises INVALID_OPTION when the address has host bits set. */
export function parseCidr(text: string): Cidr {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  const prefixLength = match === null ? Number.NaN : Number(match[2]);
  if (match === null || match[1] === undefined || !(prefixLength >= 0 && prefixLength <= 32)) {
    throw new LabError(LabErrorCode.InvalidOption, `invalid CIDR ${JSON.stringify(text)}: use the form 10.200.0.0/24`);
  }
  const base = parseIpv4(match[1]);
  const size = 2 ** (32 - prefixLength);
  if (base % size !== 0) {
    const network = formatCidr({ base: base - (base % size), prefixLength });
    throw new LabError(LabErrorCode.InvalidOption, `invalid CIDR ${text}: host bits are set, did you mean ${network}?`);
  }
  return { base, prefixLength };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIpv4(cidr.base)}/${cidr.prefixLength}`;
}

/** 32-bit FNV-1a hash of the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Picks the underlay block for a lab named `name`: the /23 slot of 10.200.0.0/16 that the
 * name hashes to, or the next free slot when another lab already uses it (`taken` lists
 * the blocks of existing labs). Returns the whole /23 for two subnets and its first /24
 * for one. Deterministic for a given name and set of taken blocks.
 */
export function deriveUnderlayBlock(options: { name: string; subnets: 1 | 2; taken?: readonly string[] }): string {
  const takenSlots = new Set<number>();
  for (const block of options.taken ?? []) {
    const cidr = parseCidr(block);
    const offset = cidr.base - derivedRange;
    if (offset >= 0 && offset < derivedBlockCount * 512) takenSlots.add(Math.floor(offset / 512));
  }

  const first = fnv1a32(options.name) % derivedBlockCount;
  for (let step = 0; step < derivedBlockCount; step += 1) {
    const slot = (first + step) % derivedBlockCount;
    if (takenSlots.has(slot)) continue;
    return formatCidr({ base: derivedRange + slot * 512, prefixLength: options.subnets === 2 ? 23 : 24 });
  }
  throw new LabError(
    LabErrorCode.InvalidOption,
    `all ${derivedBlockCount} underlay blocks of 10.200.0.0/16 are used by other labs: pass --underlay-cidr`,
  );
}

/**
 * Splits `block` into one segment (one subnet) or two equal halves (two subnets) and
 * assigns addresses. Nodes alternate between segments: node1 on "a", node2 on "b", and so
 * on. Raises INVALID_OPTION when a segment is too small or too large.
 */
export function planAddresses(options: { block: string; subnets: 1 | 2; nodes: number }): AddressPlan {
  const block = parseCidr(options.block);
  const segmentPrefix = block.prefixLength + (options.subnets === 2 ? 1 : 0);
  if (segmentPrefix > maxSegmentPrefixLength || segmentPrefix < minSegmentPrefixLength) {
    const expected = options.subnets === 2 ? "a /15 to /25 block (split into two)" : "a /16 to /26 block";
    throw new LabError(LabErrorCode.InvalidOption, `underlay CIDR ${options.block} does not fit ${options.subnets} subnet(s): use ${expected}`);
  }

  const segmentSize = 2 ** (32 - segmentPrefix);
  const names: SegmentName[] = options.subnets === 2 ? ["a", "b"] : ["a"];
  const segments = names.map((name, position) => {
    const base = block.base + position * segmentSize;
    return {
      name,
      base,
      plan: {
        name,
        cidr: formatCidr({ base, prefixLength: segmentPrefix }),
        prefixLength: segmentPrefix,
        gateway: options.subnets === 2 ? formatIpv4(base + routerHostOffset) : undefined,
      },
    };
  });

  const nodes: NodeAddress[] = [];
  for (let index = 1; index <= options.nodes; index += 1) {
    const segment = segments[(index - 1) % segments.length];
    if (segment === undefined) throw new Error("unreachable: segment list is never empty");
    nodes.push({ index, segment: segment.name, ip: formatIpv4(segment.base + nodeHostOffset + index) });
  }

  const first = segments[0];
  if (first === undefined) throw new Error("unreachable: segment list is never empty");
  return {
    block: formatCidr(block),
    segments: segments.map((segment) => segment.plan),
    nodes,
    // The last host address: the broadcast address minus one.
    outside: { segment: "a", ip: formatIpv4(first.base + segmentSize - 2) },
  };
}

/** Returns a locally administered MAC built from an IPv4 address: 02:00 then the four octets. */
export function macFromIpv4(ip: string): string {
  const value = parseIpv4(ip);
  const octets = [24, 16, 8, 0].map((shift) => (Math.floor(value / 2 ** shift) % 256).toString(16).padStart(2, "0"));
  return ["02", "00", ...octets].join(":");
}
