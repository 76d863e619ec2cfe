// The Lab and LabNode objects that callers use, built from a lab's state file.
import { LabError, LabErrorCode } from "./errors.ts";
import { labInterfaces } from "./names.ts";
import { mgmtSocketPath, ovsPaths } from "./ovs.ts";
import type { ChildProcess, SpawnOptions } from "node:child_process";

import { run, spawnInNetns } from "./run.ts";
import type { RunOptions } from "./run.ts";
import type { LabState, NodeState, SegmentState } from "./state.ts";

/** Options of LabNode.exec; the namespace is the node's own. */
export type ExecOptions = Omit<RunOptions, "netns">;

/** One simulated node: a network namespace with its own OVS instance. */
export interface LabNode {
  /** "node1" ... */
  name: string;
  /** 1-based position in the lab. */
  index: number;
  netns: string;
  /** Address on br-phy's internal port. */
  underlayIp: string;
  underlayPrefixLength: number;
  /** The router's address on this node's segment; undefined with one subnet. */
  gateway: string | undefined;
  /** CIDR of the node's underlay segment. */
  subnet: string;
  /** MAC address of br-phy's internal port. */
  mac: string;
  /** Name of the OVS bridge that owns the uplink and carries the underlay address. */
  physicalBridge: string;
  /** Name of the underlay uplink inside the node (a port of br-phy). */
  uplink: string;
  /** Folder of the node's OVS instance. */
  ovsDir: string;
  /** Unix socket path of ovsdb-server (pass `unix:` + this as --db). */
  dbSocket: string;
  /** ovsdb-server's control socket (ovs-appctl -t). */
  ovsdbCtl: string;
  /** ovs-vswitchd's control socket (ovs-appctl -t). */
  vswitchdCtl: string;
  /** Daemon PIDs from the state file; undefined for a daemon that never started. */
  pids: { ovsdbServer: number | undefined; vswitchd: number | undefined };
  /** Returns the OpenFlow management socket of `bridge` (for ovs-ofctl unix:PATH). */
  mgmtSocket(bridge: string): string;
  /** Runs `argv` inside the node's namespace and returns its stdout; raises CommandError. */
  exec(argv: readonly string[], options?: ExecOptions): Promise<string>;
  /** Starts a long-running command inside the node's namespace; the caller must kill it. */
  spawn(argv: readonly string[], options?: SpawnOptions): ChildProcess;
  /** Runs ovs-vsctl against the node's database and returns its stdout. */
  vsctl(args: readonly string[], options?: ExecOptions): Promise<string>;
}

/** A namespace on the underlay that stands for the internet. */
export interface LabOutside {
  netns: string;
  ip: string;
  exec(argv: readonly string[], options?: ExecOptions): Promise<string>;
  /** Starts a long-running command inside the outside namespace; the caller must kill it. */
  spawn(argv: readonly string[], options?: SpawnOptions): ChildProcess;
}

export interface Lab {
  name: string;
  /** Folder with the state file and the nodes' OVS folders. */
  dir: string;
  stateFile: string;
  subnets: 1 | 2;
  /** Address block all underlay segments come from. */
  block: string;
  segments: SegmentState[];
  /** Namespace with the segments' Linux bridges. */
  underlayNetns: string;
  /** The router joining the two segments; undefined with one subnet. */
  router: { netns: string; addresses: string[] } | undefined;
  outside: LabOutside;
  nodes: LabNode[];
  /** Returns the node with this name ("node2") or index (2); raises RangeError when absent. */
  node(nameOrIndex: string | number): LabNode;
}

/** Builds the Lab object for a state. */
export function labFromState(state: LabState, paths: { dir: string; stateFile: string }): Lab {
  const nodes = state.nodes.map((node) => nodeFromState(state, node));
  return {
    name: state.name,
    dir: paths.dir,
    stateFile: paths.stateFile,
    subnets: state.subnets,
    block: state.block,
    segments: state.segments,
    underlayNetns: state.underlayNetns,
    router:
      state.router === undefined
        ? undefined
        : { netns: state.router.netns, addresses: state.segments.flatMap((segment) => (segment.gateway === undefined ? [] : [segment.gateway])) },
    outside: {
      netns: state.outside.netns,
      ip: state.outside.ip,
      exec: (argv, options) => run(argv, { ...options, netns: state.outside.netns }),
      spawn: (argv, options) => spawnInNetns(argv, { netns: state.outside.netns, spawnOptions: options }),
    },
    nodes,
    node(nameOrIndex) {
      const found = nodes.find((node) => node.name === nameOrIndex || node.index === nameOrIndex);
      if (found === undefined) throw new RangeError(`lab ${state.name} has no node ${String(nameOrIndex)}`);
      return found;
    },
  };
}

function nodeFromState(state: LabState, node: NodeState): LabNode {
  const paths = ovsPaths(node.ovsDir);
  const segment = state.segments.find((candidate) => candidate.name === node.segment);
  if (segment === undefined) {
    throw new LabError(LabErrorCode.StateInvalid, `state of lab ${state.name}: ${node.name} is on segment ${node.segment}, which the state does not list`);
  }
  return {
    name: node.name,
    index: node.index,
    netns: node.netns,
    underlayIp: node.underlayIp,
    underlayPrefixLength: node.underlayPrefixLength,
    gateway: node.gateway,
    subnet: segment.cidr,
    mac: node.mac,
    physicalBridge: labInterfaces.physicalBridge,
    uplink: labInterfaces.uplink,
    ovsDir: node.ovsDir,
    dbSocket: paths.dbSocket,
    ovsdbCtl: paths.ovsdbCtl,
    vswitchdCtl: paths.vswitchdCtl,
    pids: { ovsdbServer: node.pids.ovsdbServer, vswitchd: node.pids.vswitchd },
    mgmtSocket: (bridge) => mgmtSocketPath(node.ovsDir, bridge),
    exec: (argv, options) => run(argv, { ...options, netns: node.netns }),
    spawn: (argv, options) => spawnInNetns(argv, { netns: node.netns, spawnOptions: options }),
    vsctl: (args, options) => run(["ovs-vsctl", `--db=unix:${paths.dbSocket}`, ...args], options),
  };
}
