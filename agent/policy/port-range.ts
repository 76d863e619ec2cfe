// Transport port ranges as OpenFlow value/mask matches. OpenFlow cannot match "from A to B",
// only a value under a bit mask, so a range becomes the minimal set of aligned power-of-two
// blocks that tile it exactly: 1000-1999 becomes 7 matches, 0-65535 one match with mask 0.
import { PolicyError, PolicyErrorCode } from "./errors.ts";

/** One masked port match: the ports p with (p & mask) === value. */
export interface PortMask {
  readonly value: number;
  /** 0xffff for a single port; 0 matches every port. */
  readonly mask: number;
}

const MAX_PORT = 0xffff;

/**
 * Splits the inclusive range start..end into the fewest value/mask pairs that together match
 * exactly the ports of the range, in increasing order. Throws PolicyError for a bound outside
 * 0..65535 or start > end.
 */
export function portRangeMasks(start: number, end: number): PortMask[] {
  checkPort(start);
  checkPort(end);
  if (start > end) {
    throw new PolicyError(PolicyErrorCode.invalidRule, `invalid port range ${start}-${end}: the start must not exceed the end`);
  }
  const masks: PortMask[] = [];
  let low = start;
  while (low <= end) {
    const size = largestBlock(low, end);
    masks.push({ value: low, mask: MAX_PORT & ~(size - 1) });
    low += size;
  }
  return masks;
}

/** Returns the size of the largest aligned block that starts at `low` and ends at or before `end`. */
function largestBlock(low: number, end: number): number {
  // The block must be aligned: its size divides `low` (0 is aligned to every size).
  let size = low === 0 ? MAX_PORT + 1 : low & -low;
  while (low + size - 1 > end) size >>= 1;
  return size;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > MAX_PORT) {
    throw new PolicyError(PolicyErrorCode.invalidRule, `invalid port ${port}: expected an integer from 0 to 65535`);
  }
}
