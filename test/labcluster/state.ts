// The cluster state file (LAB-FOLDER/cluster/cluster.json): what `up` started, so `down` and
// `status` can find every process by PID.
import { readFile, rename, writeFile } from "node:fs/promises";

import type { ClusterMode } from "./config.ts";
import type { DaemonRecord } from "./daemons.ts";
import { ClusterUpError, ClusterUpErrorCode } from "./errors.ts";

export interface ClusterNodeState {
  name: string;
  netns: string;
  underlayIp: string;
}

export interface ClusterState {
  version: 1;
  name: string;
  mode: ClusterMode;
  /** Whether `up` finished every step. */
  ready: boolean;
  /** Port of the API server on the root namespace's 127.0.0.1. */
  apiPort: number;
  kubeconfig: string;
  /** Prefix of pod network namespace names, shared by the runners and the probes. */
  netnsPrefix: string;
  outsideIp: string;
  nodes: ClusterNodeState[];
  /** Started processes in start order; `down` stops them in reverse. */
  daemons: DaemonRecord[];
}

/** Writes the state atomically (a rename), so a reader never sees half a file. */
export async function writeClusterState(path: string, state: ClusterState): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`);
  await rename(temporary, path);
}

/** Reads the state; undefined when the file is missing, STATE_INVALID when it is not a cluster state. */
export async function readClusterState(path: string): Promise<ClusterState | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let parsed: Partial<ClusterState>;
  try {
    parsed = JSON.parse(text) as Partial<ClusterState>;
  } catch (error) {
    throw new ClusterUpError(ClusterUpErrorCode.StateInvalid, `cluster state ${path} is not JSON; remove it and run switchyard-lab down`, { cause: error });
  }
  if (parsed.version !== 1 || !Array.isArray(parsed.daemons) || !Array.isArray(parsed.nodes) || typeof parsed.kubeconfig !== "string") {
    throw new ClusterUpError(ClusterUpErrorCode.StateInvalid, `cluster state ${path} lacks version, nodes, daemons or kubeconfig; remove it and run switchyard-lab down`);
  }
  return parsed as ClusterState;
}
