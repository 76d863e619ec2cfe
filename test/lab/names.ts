// Names of a lab and of everything it creates, derived from the lab name alone so that
// `down` and `status` can recompute them and two labs with different names never share one.
import { LabError, LabErrorCode } from "./errors.ts";

/** Lab name used when the caller gives none. */
export const defaultLabName = "lab";

/** Maximum lab name length: the name prefixes namespace names and folder paths that must stay short. */
export const maxLabNameLength = 20;

/**
 * Most nodes one lab may have. Each node runs two OVS daemons and polls its ports, so more
 * than this would starve a small test machine.
 */
export const maxNodes = 16;

const labNamePattern = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** Raises INVALID_OPTION unless `name` is 1-20 lowercase letters, digits and inner hyphens, starting with a letter. */
export function validateLabName(name: string): void {
  if (name.length > maxLabNameLength || !labNamePattern.test(name)) {
    throw new LabError(
      LabErrorCode.InvalidOption,
      `invalid lab name ${JSON.stringify(name)}: use 1 to ${maxLabNameLength} lowercase letters, digits ` +
        `and single inner hyphens, starting with a letter (for example "lab" or "ci-2")`,
    );
  }
}

/** Raises INVALID_OPTION unless `nodes` is an integer from 1 to maxNodes. */
export function validateNodeCount(nodes: number): void {
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > maxNodes) {
    throw new LabError(
      LabErrorCode.InvalidOption,
      `invalid node count ${String(nodes)}: use an integer from 1 to ${maxNodes}`,
    );
  }
}

/** Raises INVALID_OPTION unless `subnets` is 1 or 2. */
export function validateSubnetCount(subnets: number): asserts subnets is 1 | 2 {
  if (subnets !== 1 && subnets !== 2) {
    throw new LabError(LabErrorCode.InvalidOption, `invalid subnet count ${String(subnets)}: use 1 or 2`);
  }
}

/** Returns the state name of node `index` (1-based): "node1". */
export function nodeName(index: number): string {
  return `node${index}`;
}

/** Network namespace names of a lab. */
export const labNetns = {
  node: (lab: string, index: number): string => `${lab}-n${index}`,
  underlay: (lab: string): string => `${lab}-ul`,
  router: (lab: string): string => `${lab}-rt`,
  outside: (lab: string): string => `${lab}-out`,
} as const;

/**
 * Interface names inside the lab's namespaces. They need no lab prefix because they only
 * exist inside namespaces of one lab and vanish with them.
 */
export const labInterfaces = {
  /** A node's underlay uplink, and the outside namespace's only interface. */
  uplink: "eth0",
  /** The OVS bridge in each node that owns the uplink and carries the node's underlay IP. */
  physicalBridge: "br-phy",
  /** The underlay namespace's end of node `index`'s veth pair. */
  underlayPortOfNode: (index: number): string => `n${index}`,
  /** The underlay namespace's end of the outside namespace's veth pair. */
  underlayPortOfOutside: "out",
  /** Linux bridge of segment `segment` in the underlay namespace. */
  segmentBridge: (segment: SegmentName): string => `br-${segment}`,
  /** The router's interface on segment `segment`. */
  routerPort: (segment: SegmentName): string => `eth-${segment}`,
  /** The underlay namespace's end of the router's veth on segment `segment`. */
  underlayPortOfRouter: (segment: SegmentName): string => `rt-${segment}`,
} as const;

/** Underlay segments: "a" always, "b" with two subnets. */
export type SegmentName = "a" | "b";
