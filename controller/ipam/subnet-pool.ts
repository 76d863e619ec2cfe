// One cluster CIDR cut into equal node subnets, tracked with one bit per subnet.
import { ADDRESS_BITS, cidrContains, type Cidr } from "../../common/net/cidr.ts";

/**
 * Largest difference between a cluster CIDR's prefix length and the node mask size.
 * 16 bits is 65,536 node subnets per cluster CIDR and an 8 KiB bitmap, more nodes than a
 * Kubernetes cluster supports, and it keeps an IPv6 /48 split into /64s affordable.
 */
export const MAX_SUBNET_BITS = 16;

/** A run of subnet indexes [first, first + count). */
export interface SubnetRange {
  readonly first: number;
  readonly count: number;
}

export interface SubnetPoolOptions {
  readonly clusterCidr: Cidr;
  /** Prefix length of each node subnet; from clusterCidr.prefixLength to MAX_SUBNET_BITS more. */
  readonly subnetPrefixLength: number;
}

/**
 * Allocation state of one cluster CIDR. Not safe against interleaved async callers by
 * itself, but every method is synchronous, so callers on one event loop never interleave.
 */
export class SubnetPool {
  readonly clusterCidr: Cidr;
  readonly subnetPrefixLength: number;
  readonly capacity: number;
  private readonly bitmap: Uint8Array;
  private used = 0;
  /** Next index to try: allocation is next-fit, so a released subnet is reused last. */
  private cursor = 0;

  constructor(options: SubnetPoolOptions) {
    const { clusterCidr, subnetPrefixLength } = options;
    const subnetBits = subnetPrefixLength - clusterCidr.prefixLength;
    if (subnetBits < 0 || subnetBits > MAX_SUBNET_BITS || subnetPrefixLength > ADDRESS_BITS[clusterCidr.family]) {
      throw new RangeError(
        `node mask size /${subnetPrefixLength} does not fit cluster prefix /${clusterCidr.prefixLength}: ` +
          `it must be from ${clusterCidr.prefixLength} to ${clusterCidr.prefixLength + MAX_SUBNET_BITS}`,
      );
    }
    this.clusterCidr = clusterCidr;
    this.subnetPrefixLength = subnetPrefixLength;
    this.capacity = 2 ** subnetBits;
    this.bitmap = new Uint8Array(Math.ceil(this.capacity / 8));
  }

  get allocated(): number {
    return this.used;
  }

  /** Marks and returns the next free subnet, or undefined when the pool is exhausted. */
  allocateNext(): Cidr | undefined {
    if (this.used >= this.capacity) return undefined;
    for (let step = 0; step < this.capacity; step++) {
      const index = (this.cursor + step) % this.capacity;
      if (this.isSet(index)) continue;
      this.setBit(index, true);
      this.cursor = (index + 1) % this.capacity;
      return this.subnetAt(index);
    }
    return undefined;
  }

  /**
   * Returns the subnet indexes a CIDR covers, or undefined when it lies outside this pool.
   * A CIDR longer than the node mask covers the one subnet that contains it.
   */
  rangeOf(cidr: Cidr): SubnetRange | undefined {
    if (!cidrContains(this.clusterCidr, cidr)) return undefined;
    const bits = BigInt(ADDRESS_BITS[cidr.family]);
    const offset = cidr.network - this.clusterCidr.network;
    const first = Number(offset >> (bits - BigInt(this.subnetPrefixLength)));
    const count = cidr.prefixLength >= this.subnetPrefixLength ? 1 : 2 ** (this.subnetPrefixLength - cidr.prefixLength);
    return { first, count };
  }

  /** Whether any subnet in the range is marked. */
  anyMarked(range: SubnetRange): boolean {
    for (let i = range.first; i < range.first + range.count; i++) {
      if (this.isSet(i)) return true;
    }
    return false;
  }

  /** Marks every subnet in the range. Idempotent. */
  mark(range: SubnetRange): void {
    for (let i = range.first; i < range.first + range.count; i++) this.setBit(i, true);
  }

  /** Clears every subnet in the range. Idempotent. */
  release(range: SubnetRange): void {
    for (let i = range.first; i < range.first + range.count; i++) this.setBit(i, false);
  }

  private subnetAt(index: number): Cidr {
    const bits = BigInt(ADDRESS_BITS[this.clusterCidr.family]);
    const network = this.clusterCidr.network + (BigInt(index) << (bits - BigInt(this.subnetPrefixLength)));
    return { family: this.clusterCidr.family, network, prefixLength: this.subnetPrefixLength };
  }

  private isSet(index: number): boolean {
    return ((this.bitmap[index >> 3] ?? 0) & (1 << (index & 7))) !== 0;
  }

  private setBit(index: number, value: boolean): void {
    const byte = index >> 3;
    const bit = 1 << (index & 7);
    const old = this.bitmap[byte] ?? 0;
    const wasSet = (old & bit) !== 0;
    if (wasSet === value) return;
    this.bitmap[byte] = value ? old | bit : old & ~bit;
    this.used += value ? 1 : -1;
  }
}
