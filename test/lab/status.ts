// Reports a lab's health: whether its namespaces exist and its OVS daemons are alive.
import { join } from "node:path";

import { defaultLabName, validateLabName } from "./names.ts";
import { listNetns } from "./network.ts";
import { ovsDaemonIdentity, ovsPaths } from "./ovs.ts";
import type { OvsDaemon } from "./ovs.ts";
import { isOurProcessAlive, readPidFile } from "./process.ts";
import { readLabState, resolveStateRoot, stateFileName, stateNamespaces } from "./state.ts";
import type { LabPhase } from "./state.ts";
import type { LabLocation } from "./lab.ts";

export interface DaemonStatus {
  daemon: OvsDaemon;
  /** PID from the state file, else from the pid file; undefined when neither has one. */
  pid: number | undefined;
  alive: boolean;
}

export interface NodeStatus {
  name: string;
  netns: string;
  netnsExists: boolean;
  underlayIp: string;
  underlayPrefixLength: number;
  gateway: string | undefined;
  ovsDir: string;
  daemons: DaemonStatus[];
}

export interface LabStatus {
  name: string;
  dir: string;
  /** Whether a state file exists. */
  present: boolean;
  phase: LabPhase | undefined;
  /** Present, phase "ready", every namespace exists and every daemon is alive. */
  healthy: boolean;
  block: string | undefined;
  subnets: 1 | 2 | undefined;
  namespaces: Array<{ name: string; exists: boolean }>;
  outside: { netns: string; ip: string } | undefined;
  router: { netns: string; addresses: string[] } | undefined;
  nodes: NodeStatus[];
  /** One line per problem found ("node2: ovs-vswitchd (PID 123) is not running"). */
  problems: string[];
}

/** Reads a lab's state and checks it against the running system. Reads only. */
export async function labStatus(options: LabLocation = {}): Promise<LabStatus> {
  const name = options.name ?? defaultLabName;
  validateLabName(name);
  const dir = join(resolveStateRoot(options.stateDir), name);
  const state = await readLabState(join(dir, stateFileName));
  if (state === undefined) {
    return {
      name,
      dir,
      present: false,
      phase: undefined,
      healthy: false,
      block: undefined,
      subnets: undefined,
      namespaces: [],
      outside: undefined,
      router: undefined,
      nodes: [],
      problems: [`lab ${name} does not exist (no ${join(dir, stateFileName)})`],
    };
  }

  const existing = await listNetns();
  const problems: string[] = [];
  if (state.phase !== "ready") problems.push(`lab ${name} is in phase ${state.phase}, not ready`);
  const namespaces = stateNamespaces(state).map((netns) => ({ name: netns, exists: existing.has(netns) }));
  for (const netns of namespaces) {
    if (!netns.exists) problems.push(`namespace ${netns.name} is missing`);
  }

  const nodes: NodeStatus[] = [];
  for (const node of state.nodes) {
    const daemons = [
      await daemonStatus({ dir: node.ovsDir, daemon: "ovsdb-server", recorded: node.pids.ovsdbServer }),
      await daemonStatus({ dir: node.ovsDir, daemon: "ovs-vswitchd", recorded: node.pids.vswitchd }),
    ];
    for (const daemon of daemons) {
      if (!daemon.alive) problems.push(`${node.name}: ${daemon.daemon} (PID ${daemon.pid ?? "unknown"}) is not running`);
    }
    nodes.push({
      name: node.name,
      netns: node.netns,
      netnsExists: existing.has(node.netns),
      underlayIp: node.underlayIp,
      underlayPrefixLength: node.underlayPrefixLength,
      gateway: node.gateway,
      ovsDir: node.ovsDir,
      daemons,
    });
  }

  return {
    name,
    dir,
    present: true,
    phase: state.phase,
    healthy: problems.length === 0,
    block: state.block,
    subnets: state.subnets,
    namespaces,
    outside: { netns: state.outside.netns, ip: state.outside.ip },
    router:
      state.router === undefined
        ? undefined
        : { netns: state.router.netns, addresses: state.segments.flatMap((segment) => (segment.gateway === undefined ? [] : [segment.gateway])) },
    nodes,
    problems,
  };
}

async function daemonStatus(input: { dir: string; daemon: OvsDaemon; recorded: number | undefined }): Promise<DaemonStatus> {
  const paths = ovsPaths(input.dir);
  const pidFile = input.daemon === "ovsdb-server" ? paths.ovsdbPidFile : paths.vswitchdPidFile;
  const pid = input.recorded ?? (await readPidFile(pidFile));
  const alive = pid !== undefined && (await isOurProcessAlive(pid, ovsDaemonIdentity(input.dir, input.daemon)));
  return { daemon: input.daemon, pid, alive };
}
