// The set of peer nodes and the pod-CIDR routes toward them.
//
// Node events can arrive in any order. When the controller moves a pod CIDR from a deleted
// node to a new one, the new node's add may come before the old node's delete, so for a
// while two nodes claim one CIDR. The claim of the node created last wins (ties: the greater
// name), because the controller only hands a CIDR to a node after its previous owner is
// gone. Status updates of the old node do not flip the route back, and its later delete
// leaves the new owner's route alone: every CIDR has exactly one route at all times.
import { containsAddress, familyOf, formatCidr, type Cidr } from "../../common/net/cidr.ts";
import type { EncapMode } from "./modes.ts";

/** Another node as the routing rules see it. */
export interface PeerNode {
  readonly name: string;
  readonly podCIDRs: readonly Cidr[];
  /** Address other nodes reach it at (its InternalIP), the tunnel destination and route next hop. */
  readonly transportIP: string;
  /** Node.metadata.creationTimestamp in milliseconds since the epoch; decides between two claims of one CIDR. */
  readonly createdAtMs: number;
}

/** Path of traffic toward one peer pod CIDR: into the tunnel, or routed over the underlay. */
export type RouteVia = "tunnel" | "underlay";

export interface PeerRoute {
  readonly cidr: Cidr;
  /** formatCidr(cidr): the key of this route. */
  readonly key: string;
  readonly node: string;
  readonly transportIP: string;
  readonly via: RouteVia;
}

export interface RouteOptions {
  readonly mode: EncapMode;
  /** The local node's transport subnets; hybrid mode routes peers inside them over the underlay. */
  readonly localSubnets: readonly Cidr[];
}

export interface RouteDiff {
  readonly added: readonly PeerRoute[];
  readonly removed: readonly PeerRoute[];
  /** Routes whose node, next hop or path changed: the new values. */
  readonly changed: readonly PeerRoute[];
}

/** Peer nodes keyed by name. Not safe for concurrent mutation; the daemon calls it from one event loop. */
export class PeerSet {
  readonly #nodes = new Map<string, PeerNode>();

  /** Adds or replaces a node. Idempotent. */
  upsert(node: PeerNode): void {
    this.#nodes.set(node.name, node);
  }

  /** Removes a node; returns false when it was not known. Idempotent. */
  delete(name: string): boolean {
    return this.#nodes.delete(name);
  }

  get(name: string): PeerNode | undefined {
    return this.#nodes.get(name);
  }

  get size(): number {
    return this.#nodes.size;
  }

  /** Returns one route per claimed pod CIDR, sorted by key, resolving double claims by the rule in the file header. */
  routes(options: RouteOptions): PeerRoute[] {
    const winners = new Map<string, { node: PeerNode; cidr: Cidr }>();
    for (const node of this.#nodes.values()) {
      for (const cidr of node.podCIDRs) {
        const key = formatCidr(cidr);
        const current = winners.get(key);
        if (current === undefined || claimsLater(node, current.node)) winners.set(key, { node, cidr });
      }
    }
    return [...winners.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, { node, cidr }]) => ({ cidr, key, node: node.name, transportIP: node.transportIP, via: routeVia(node.transportIP, options) }));
  }
}

function claimsLater(candidate: PeerNode, current: PeerNode): boolean {
  if (candidate.createdAtMs !== current.createdAtMs) return candidate.createdAtMs > current.createdAtMs;
  return candidate.name > current.name;
}

/** Returns how traffic to a peer at `transportIP` leaves the node in the given mode. */
export function routeVia(transportIP: string, options: RouteOptions): RouteVia {
  if (options.mode === "encap") return "tunnel";
  if (options.mode === "noEncap") return "underlay";
  if (familyOf(transportIP) === undefined) return "tunnel";
  return options.localSubnets.some((subnet) => containsAddress(subnet, transportIP)) ? "underlay" : "tunnel";
}

/** Compares two route lists by key. */
export function diffRoutes(previous: readonly PeerRoute[], next: readonly PeerRoute[]): RouteDiff {
  const before = new Map(previous.map((route) => [route.key, route]));
  const after = new Map(next.map((route) => [route.key, route]));
  const added: PeerRoute[] = [];
  const changed: PeerRoute[] = [];
  const removed: PeerRoute[] = [];
  for (const [key, route] of after) {
    const old = before.get(key);
    if (old === undefined) added.push(route);
    else if (old.node !== route.node || old.transportIP !== route.transportIP || old.via !== route.via) changed.push(route);
  }
  for (const [key, route] of before) {
    if (!after.has(key)) removed.push(route);
  }
  return { added, removed, changed };
}
