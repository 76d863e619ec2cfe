// The pod runner's state file: one JSON file per node listing every pod whose namespace,
// network or workload the runner has created, so that a restarted runner can find and
// remove what belongs to pods deleted while it was down.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

import { isRecord } from "./cni/conflist.ts";
import { ClusterError, ClusterErrorCode } from "./errors.ts";
import type { PortMapping } from "./runtime-args.ts";

export const runnerStateVersion = 1;

/** Where a pod is in its life on the node. */
export type PodRecordPhase = "setting-up" | "running" | "tearing-down";

/** What the runner created for one pod. */
export interface PodRecord {
  uid: string;
  namespace: string;
  name: string;
  netns: string;
  /** CNI_CONTAINERID of the pod's attachment. */
  sandboxId: string;
  phase: PodRecordPhase;
  /** PID of the workload process, undefined before it starts. */
  workloadPid: number | undefined;
  podIps: string[];
  /** The portMappings capability passed on ADD, passed again on DEL. */
  portMappings: PortMapping[];
  /** RFC 3339 time the workload first started. */
  startTime: string | undefined;
  restartCount: number;
}

export interface RunnerState {
  version: typeof runnerStateVersion;
  node: string;
  /** Records by pod uid. */
  pods: Record<string, PodRecord>;
}

/** Reads the state file. Returns an empty state for `node` when the file does not exist. Raises STATE_INVALID on a corrupt file. */
export async function readRunnerState(options: { path: string; node: string }): Promise<RunnerState> {
  let text: string;
  try {
    text = await readFile(options.path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: runnerStateVersion, node: options.node, pods: {} };
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ClusterError(ClusterErrorCode.StateInvalid, `pod runner state ${options.path} is not valid JSON: delete the pods' namespaces by hand, then the file`, { cause: error });
  }
  if (!isRecord(parsed) || parsed.version !== runnerStateVersion || !isRecord(parsed.pods)) {
    throw new ClusterError(ClusterErrorCode.StateInvalid, `pod runner state ${options.path} is not a version ${runnerStateVersion} state file`);
  }
  if (parsed.node !== options.node) {
    throw new ClusterError(ClusterErrorCode.StateInvalid, `pod runner state ${options.path} belongs to node ${String(parsed.node)}, not ${options.node}: give each node its own state folder`);
  }
  return parsed as unknown as RunnerState;
}

/** Writes the state file atomically (write, then rename). */
export async function writeRunnerState(path: string, state: RunnerState): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}
