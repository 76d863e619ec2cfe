// Pod CIDR bookkeeping per node across all cluster CIDRs: one subnet per IP family.
import { CidrError, formatCidr, parseCidr, type Cidr, type IPFamily } from "../../common/net/cidr.ts";
import { SubnetPool, type SubnetRange } from "./subnet-pool.ts";

export const IpamErrorCode = {
  /** Every cluster CIDR of a family is fully allocated. */
  exhausted: "IPAM_EXHAUSTED",
  /** A CIDR already on a Node is not inside any configured cluster CIDR. */
  outsideClusterCidrs: "IPAM_OUTSIDE_CLUSTER_CIDRS",
  /** A CIDR already on a Node overlaps a subnet owned by another node. */
  conflict: "IPAM_CONFLICT",
  /** A CIDR already on a Node cannot be parsed. */
  invalidCidr: "IPAM_INVALID_CIDR",
} as const;
export type IpamErrorCode = (typeof IpamErrorCode)[keyof typeof IpamErrorCode];

export class IpamError extends Error {
  readonly code: IpamErrorCode;
  readonly node: string;

  constructor(code: IpamErrorCode, node: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "IpamError";
    this.code = code;
    this.node = node;
  }
}

export interface NodeCidrAllocatorOptions {
  /** Cluster CIDRs in configuration order; the first one's family comes first in podCIDRs. */
  readonly clusterCIDRs: readonly string[];
  readonly nodeCIDRMaskSizeIPv4: number;
  readonly nodeCIDRMaskSizeIPv6: number;
}

interface Claim {
  readonly pool: SubnetPool;
  readonly range: SubnetRange;
  readonly cidr: string;
}

export interface PoolUsage {
  readonly clusterCIDR: string;
  readonly family: IPFamily;
  readonly capacity: number;
  readonly allocated: number;
}

/**
 * Which node owns which pod CIDR. All methods are synchronous and all-or-nothing: a
 * failed allocate or claim leaves the state as it was. Because JavaScript runs them to
 * completion, two nodes can never receive the same subnet, however the calls interleave
 * with I/O around them.
 */
export class NodeCidrAllocator {
  /** IP families in the order podCIDRs lists them. */
  readonly families: readonly IPFamily[];
  private readonly pools: readonly SubnetPool[];
  private readonly claims = new Map<string, Claim[]>();

  constructor(options: NodeCidrAllocatorOptions) {
    const pools: SubnetPool[] = [];
    const families: IPFamily[] = [];
    for (const text of options.clusterCIDRs) {
      const clusterCidr = parseCidr(text);
      const subnetPrefixLength = clusterCidr.family === "IPv4" ? options.nodeCIDRMaskSizeIPv4 : options.nodeCIDRMaskSizeIPv6;
      pools.push(new SubnetPool({ clusterCidr, subnetPrefixLength }));
      if (!families.includes(clusterCidr.family)) families.push(clusterCidr.family);
    }
    this.pools = pools;
    this.families = families;
  }

  /** Returns the CIDRs a node holds, in podCIDRs order, or undefined when it holds none. */
  cidrsOf(node: string): string[] | undefined {
    return this.claims.get(node)?.map((claim) => claim.cidr);
  }

  /**
   * Allocates one subnet per configured family to a node that holds none, and returns
   * them in podCIDRs order. Returns the node's existing CIDRs if it already holds some.
   * Throws IpamError IPAM_EXHAUSTED, with nothing allocated, when a family has no free subnet.
   */
  allocate(node: string): string[] {
    const existing = this.cidrsOf(node);
    if (existing !== undefined) return existing;
    const claims: Claim[] = [];
    for (const family of this.families) {
      const claim = this.allocateFamily(family);
      if (claim === undefined) {
        for (const done of claims) done.pool.release(done.range);
        throw new IpamError(IpamErrorCode.exhausted, node, this.exhaustedMessage(node, family));
      }
      claims.push(claim);
    }
    this.claims.set(node, claims);
    return claims.map((claim) => claim.cidr);
  }

  /**
   * Records CIDRs already written on a Node (after a restart, or set by someone else).
   * Idempotent for the same node and CIDRs. Throws IpamError, recording nothing, when a
   * CIDR is unparsable, outside every cluster CIDR, or overlaps another node's subnet.
   */
  claim(node: string, cidrs: readonly string[]): void {
    const parsed = cidrs.map((text) => this.parseNodeCidr(node, text));
    const own = new Set(this.cidrsOf(node) ?? []);
    if (own.size === cidrs.length && cidrs.every((cidr) => own.has(cidr))) return;
    const previous = this.claims.get(node);
    this.release(node);
    try {
      const claims = this.validateClaims(node, cidrs, parsed);
      for (const claim of claims) claim.pool.mark(claim.range);
      this.claims.set(node, claims);
    } catch (error) {
      if (previous !== undefined) {
        for (const claim of previous) claim.pool.mark(claim.range);
        this.claims.set(node, previous);
      }
      throw error;
    }
  }

  private validateClaims(node: string, cidrs: readonly string[], parsed: readonly Cidr[]): Claim[] {
    const claims: Claim[] = [];
    for (const [i, cidr] of parsed.entries()) {
      const text = cidrs[i] ?? "";
      const found = this.locate(cidr);
      if (found === undefined) {
        throw new IpamError(
          IpamErrorCode.outsideClusterCidrs,
          node,
          `pod CIDR ${text} of node ${node} is outside the cluster CIDRs ${this.pools.map((p) => formatCidr(p.clusterCidr)).join(", ")}; ` +
            `remove it from the Node or add its range to clusterCIDRs`,
        );
      }
      if (found.pool.anyMarked(found.range) || claims.some((c) => c.pool === found.pool && rangesOverlap(c.range, found.range))) {
        const owner = this.ownerOf(found.pool, found.range) ?? node;
        throw new IpamError(
          IpamErrorCode.conflict,
          node,
          `pod CIDR ${text} of node ${node} overlaps the pod CIDR of node ${owner}; give one of the nodes a different podCIDR`,
        );
      }
      claims.push({ pool: found.pool, range: found.range, cidr: text });
    }
    return claims;
  }

  /** Frees every subnet of a node. Idempotent. */
  release(node: string): void {
    const claims = this.claims.get(node);
    if (claims === undefined) return;
    for (const claim of claims) claim.pool.release(claim.range);
    this.claims.delete(node);
  }

  usage(): PoolUsage[] {
    return this.pools.map((pool) => ({
      clusterCIDR: formatCidr(pool.clusterCidr),
      family: pool.clusterCidr.family,
      capacity: pool.capacity,
      allocated: pool.allocated,
    }));
  }

  private allocateFamily(family: IPFamily): Claim | undefined {
    for (const pool of this.pools) {
      if (pool.clusterCidr.family !== family) continue;
      const cidr = pool.allocateNext();
      if (cidr === undefined) continue;
      const range = pool.rangeOf(cidr);
      if (range === undefined) throw new Error(`allocated subnet ${formatCidr(cidr)} outside its own pool`);
      return { pool, range, cidr: formatCidr(cidr) };
    }
    return undefined;
  }

  private locate(cidr: Cidr): { pool: SubnetPool; range: SubnetRange } | undefined {
    for (const pool of this.pools) {
      const range = pool.rangeOf(cidr);
      if (range !== undefined) return { pool, range };
    }
    return undefined;
  }

  private ownerOf(pool: SubnetPool, range: SubnetRange): string | undefined {
    for (const [node, claims] of this.claims) {
      if (claims.some((c) => c.pool === pool && rangesOverlap(c.range, range))) return node;
    }
    return undefined;
  }

  private parseNodeCidr(node: string, text: string): Cidr {
    try {
      return parseCidr(text);
    } catch (error) {
      const reason = error instanceof CidrError ? error.message : String(error);
      throw new IpamError(IpamErrorCode.invalidCidr, node, `pod CIDR of node ${node} is invalid: ${reason}`, { cause: error });
    }
  }

  private exhaustedMessage(node: string, family: IPFamily): string {
    const pools = this.pools.filter((p) => p.clusterCidr.family === family);
    const ranges = pools.map((p) => `${formatCidr(p.clusterCidr)} (${p.capacity} subnets of /${p.subnetPrefixLength})`).join(", ");
    return `no free ${family} pod CIDR for node ${node}: every subnet of ${ranges} is allocated; add a cluster CIDR or delete unused Nodes`;
  }
}

function rangesOverlap(a: SubnetRange, b: SubnetRange): boolean {
  return a.first < b.first + b.count && b.first < a.first + a.count;
}
