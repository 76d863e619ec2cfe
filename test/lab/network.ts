// Creates the lab's namespaces and links with `ip -batch`, one process per namespace, and
// removes namespaces. Every link lives inside a lab namespace (veth pairs are created
// with both ends already in their namespaces), so deleting the namespaces removes them all
// and nothing of the lab ever appears in the root namespace.
import { readdir } from "node:fs/promises";

import { labInterfaces } from "./names.ts";
import { disableTxChecksumOffload } from "./offload.ts";
import { run } from "./run.ts";
import type { LabState, NodeState, SegmentState } from "./state.ts";

/** Folder where `ip netns add` mounts named namespaces. */
export const netnsRunDir = "/var/run/netns";

/** Lists the named network namespaces (the entries of /var/run/netns). */
export async function listNetns(): Promise<Set<string>> {
  try {
    return new Set(await readdir(netnsRunDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Set();
    throw error;
  }
}

/** Creates the named namespaces in one `ip -batch`. Not idempotent: an existing name fails. */
export async function createNamespaces(names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await run(["ip", "-batch", "-"], { input: names.map((name) => `netns add ${name}\n`).join("") });
}

/**
 * Deletes those of `names` that exist, in one `ip -force -batch` that keeps going past
 * errors. Idempotent. Returns the names it deleted.
 */
export async function deleteNamespaces(names: readonly string[]): Promise<string[]> {
  const existing = await listNetns();
  const present = names.filter((name) => existing.has(name));
  if (present.length > 0) {
    await run(["ip", "-force", "-batch", "-"], { input: present.map((name) => `netns del ${name}\n`).join("") });
  }
  return present;
}

/**
 * Builds the underlay namespace: one Linux bridge per segment and a veth pair from it to
 * every node, to the outside namespace and (two subnets) to the router. The far ends
 * land directly in their namespaces.
 */
export async function buildUnderlay(state: LabState): Promise<void> {
  const lines = ["link set lo up"];
  for (const segment of state.segments) {
    lines.push(`link add ${segment.bridge} type bridge`, `link set ${segment.bridge} up`);
  }
  const attach = (port: string, peerNetns: string, peerName: string, segment: SegmentState): void => {
    lines.push(
      `link add ${port} type veth peer name ${peerName} netns ${peerNetns}`,
      `link set ${port} master ${segment.bridge} up`,
    );
  };

  for (const node of state.nodes) {
    attach(labInterfaces.underlayPortOfNode(node.index), node.netns, labInterfaces.uplink, segmentOf(state, node.segment));
  }
  attach(labInterfaces.underlayPortOfOutside, state.outside.netns, labInterfaces.uplink, segmentOf(state, state.outside.segment));
  if (state.router !== undefined) {
    for (const segment of state.segments) {
      attach(labInterfaces.underlayPortOfRouter(segment.name), state.router.netns, labInterfaces.routerPort(segment.name), segment);
    }
  }
  await runBatch(state.underlayNetns, lines);
}

/** Gives the router an address on each segment and turns on IPv4 forwarding. */
export async function configureRouter(state: LabState): Promise<void> {
  if (state.router === undefined) return;
  const netns = state.router.netns;
  const lines = ["link set lo up"];
  for (const segment of state.segments) {
    const device = labInterfaces.routerPort(segment.name);
    lines.push(`addr add ${segment.gateway}/${segment.prefixLength} dev ${device}`, `link set ${device} up`);
  }
  await runBatch(netns, lines);
  await run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"], { netns });
  await disableTxChecksumOffload({ netns, devices: state.segments.map((segment) => labInterfaces.routerPort(segment.name)) });
}

/** Addresses the outside namespace and routes the other segment through the router. */
export async function configureOutside(state: LabState): Promise<void> {
  const netns = state.outside.netns;
  const home = segmentOf(state, state.outside.segment);
  const device = labInterfaces.uplink;
  const lines = ["link set lo up", `addr add ${state.outside.ip}/${home.prefixLength} dev ${device}`, `link set ${device} up`];
  lines.push(...routesToOtherSegments(state, home));
  await runBatch(netns, lines);
  await disableTxChecksumOffload({ netns, devices: [device] });
}

/**
 * Prepares a node's uplink before OVS takes it: up, without ARP and without IPv6
 * addresses, so the node's kernel neither replies to ARP on it nor sends from it. The node's
 * address goes on br-phy instead.
 */
export async function prepareNodeUplink(node: NodeState): Promise<void> {
  const device = labInterfaces.uplink;
  await runBatch(node.netns, ["link set lo up", `link set ${device} addrgenmode none`, `link set ${device} arp off up`]);
}

/**
 * Creates br-phy (userspace datapath) with the uplink as a port, then puts the node's
 * underlay address and routes on br-phy's internal port. The bridge gets a fixed MAC
 * because OVS would otherwise copy the uplink's MAC, and the node's kernel would then take
 * frames for br-phy on the uplink as well and reply twice.
 */
export async function configureNodeBridge(state: LabState, node: NodeState, dbSocket: string): Promise<void> {
  const bridge = labInterfaces.physicalBridge;
  await run([
    "ovs-vsctl",
    `--db=unix:${dbSocket}`,
    "--timeout=10",
    "--",
    "add-br",
    bridge,
    "--",
    "set",
    "bridge",
    bridge,
    "datapath_type=netdev",
    `other-config:hwaddr=${node.mac}`,
    "--",
    "add-port",
    bridge,
    labInterfaces.uplink,
  ]);

  const home = segmentOf(state, node.segment);
  await runBatch(node.netns, [
    `addr add ${node.underlayIp}/${node.underlayPrefixLength} dev ${bridge}`,
    `link set ${bridge} up`,
    ...routesToOtherSegments(state, home),
  ]);
}

function routesToOtherSegments(state: LabState, home: SegmentState): string[] {
  if (home.gateway === undefined) return [];
  return state.segments.filter((segment) => segment.name !== home.name).map((segment) => `route add ${segment.cidr} via ${home.gateway}`);
}

function segmentOf(state: LabState, name: string): SegmentState {
  const segment = state.segments.find((candidate) => candidate.name === name);
  if (segment === undefined) throw new Error(`state of lab ${state.name} has no segment ${name}`);
  return segment;
}

async function runBatch(netns: string, lines: readonly string[]): Promise<void> {
  await run(["ip", "-n", netns, "-batch", "-"], { input: lines.map((line) => `${line}\n`).join("") });
}
