// Stopping a cluster's processes and pods, in the order that lets each step still work:
// scheduler and runners first, then the pods (CNI DEL needs the agents), then the rest.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";

import { PodRunner } from "../cluster/index.ts";
import type { ClusterPaths } from "./config.ts";
import { isDaemonAlive, stopDaemon } from "./daemons.ts";
import type { DaemonRecord } from "./daemons.ts";
import { errorText } from "./errors.ts";
import type { ClusterState } from "./state.ts";

const execFileAsync = promisify(execFile);

/** Time limit for removing one node's pods, in milliseconds. */
const podTeardownTimeoutMs = 30_000;

function isPodSide(daemon: DaemonRecord): boolean {
  return daemon.name === "scheduler" || daemon.name.startsWith("runner ");
}

async function stopAll(daemons: readonly DaemonRecord[], log: (line: string) => void): Promise<number[]> {
  const stopped: number[] = [];
  for (const daemon of [...daemons].reverse()) {
    if (await stopDaemon(daemon)) {
      log(`stopped ${daemon.name} (PID ${daemon.pid})`);
      stopped.push(daemon.pid);
    }
  }
  return stopped;
}

async function tearDownPods(options: { state: ClusterState; paths: ClusterPaths; log: (line: string) => void }): Promise<void> {
  const { state, paths, log } = options;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(state.kubeconfig);
  for (const node of state.nodes) {
    const nodePaths = paths.node(node.name);
    const runner = new PodRunner({
      kubeConfig,
      nodeName: node.name,
      nodeNetns: node.netns,
      hostIp: node.underlayIp,
      cniConfDir: nodePaths.cniConfDir,
      cniBinDirs: [nodePaths.cniBinDir],
      stateDir: nodePaths.runnerStateDir,
      netnsPrefix: state.netnsPrefix,
      registerNode: false,
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${podTeardownTimeoutMs} ms`)), podTeardownTimeoutMs);
    });
    try {
      await Promise.race([runner.teardownAll(), timeout]);
      log(`removed the pods of ${node.name}`);
    } catch (error) {
      log(`could not remove every pod of ${node.name} through CNI DEL (${errorText(error)}); deleting their namespaces instead`);
    } finally {
      clearTimeout(timer);
    }
  }
  await deleteLeftoverPodNamespaces(state.netnsPrefix, log);
}

/** Deletes pod namespaces with the cluster's prefix that a failed teardown left behind. */
async function deleteLeftoverPodNamespaces(prefix: string, log: (line: string) => void): Promise<void> {
  const { stdout } = await execFileAsync("ip", ["netns", "list"]);
  const names = stdout
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(prefix));
  for (const name of names) {
    await execFileAsync("ip", ["netns", "del", name]).catch((error: unknown) => log(`could not delete namespace ${name}: ${errorText(error)}`));
    log(`deleted leftover pod namespace ${name}`);
  }
}

/**
 * Stops every process in the state and removes the pods. Returns the PIDs it signalled.
 * Idempotent: processes already gone are skipped.
 */
export async function tearDownCluster(options: { state: ClusterState; paths: ClusterPaths; log: (line: string) => void }): Promise<number[]> {
  const { state, log } = options;
  const stopped = await stopAll(state.daemons.filter(isPodSide), log);
  const apiAlive = state.daemons.some((daemon) => daemon.name === "apiserver" && isDaemonAlive(daemon));
  if (apiAlive) {
    await tearDownPods(options).catch((error: unknown) => log(`pod teardown failed: ${errorText(error)}`));
  } else {
    await deleteLeftoverPodNamespaces(state.netnsPrefix, log);
  }
  stopped.push(...(await stopAll(state.daemons.filter((daemon) => !isPodSide(daemon)), log)));
  return stopped;
}
