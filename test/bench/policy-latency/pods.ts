// Creating the benchmark's pods, waiting for them to run, and removing them again through the
// API so the pod runners tear them down concurrently (one queue per pod) before the cluster
// goes down.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api } from "@kubernetes/client-node";
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";

import { readRunnerState } from "../../cluster/state.ts";
import type { ClusterPaths } from "../../labcluster/config.ts";
import type { Layout } from "./layout.ts";

/** Runs `task` over `items` with at most `limit` calls in flight. */
async function forEachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Creates the layout's namespaces, then its pods (20 requests in flight). Not idempotent: existing objects raise. */
export async function createLayout(kubeConfig: KubeConfig, layout: Layout): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  for (const body of layout.namespaces) await core.createNamespace({ body });
  await forEachLimited(layout.pods, 20, async (body) => {
    await core.createNamespacedPod({ namespace: body.metadata?.namespace ?? "default", body });
  });
}

/**
 * Polls the layout's namespaces until every pod is Running with an IP, and returns them by
 * "namespace/name". Calls `progress` with the running count at most every 5 s. Raises an
 * Error naming the count and some waiting pods after `timeoutMs`.
 */
export async function waitForLayoutRunning(options: { kubeConfig: KubeConfig; layout: Layout; timeoutMs: number; progress: (running: number) => void }): Promise<Map<string, V1Pod>> {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const names = options.layout.namespaces.map((ns) => ns.metadata?.name ?? "");
  const expected = options.layout.pods.length;
  const deadline = Date.now() + options.timeoutMs;
  let lastProgress = 0;
  for (;;) {
    const lists = await Promise.all(names.map((namespace) => core.listNamespacedPod({ namespace })));
    const pods = lists.flatMap((list) => list.items);
    const running = pods.filter((pod) => pod.status?.phase === "Running" && (pod.status.podIP ?? "") !== "");
    if (running.length === expected) return new Map(running.map((pod) => [`${pod.metadata?.namespace}/${pod.metadata?.name}`, pod]));
    if (Date.now() > deadline) {
      const waiting = pods.filter((pod) => !running.includes(pod)).slice(0, 5).map((pod) => `${pod.metadata?.namespace}/${pod.metadata?.name} ${pod.status?.phase ?? "no status"}`);
      throw new Error(`timed out after ${options.timeoutMs} ms: ${running.length} of ${expected} pods run; waiting, for example: ${waiting.join(", ")}`);
    }
    if (Date.now() - lastProgress >= 5000) {
      options.progress(running.length);
      lastProgress = Date.now();
    }
    await sleep(1000);
  }
}

/** Path of a node's pod runner state file. */
function runnerStatePath(paths: ClusterPaths, node: string): string {
  return join(paths.node(node).runnerStateDir, "state.json");
}

/** Counts the pods the nodes' runners still hold in their state files. */
export async function runnerPodCount(options: { paths: ClusterPaths; nodes: readonly string[] }): Promise<number> {
  const states = await Promise.all(options.nodes.map((node) => readRunnerState({ path: runnerStatePath(options.paths, node), node })));
  return states.reduce((sum, state) => sum + Object.keys(state.pods).length, 0);
}

/**
 * Deletes every pod of the layout (20 requests in flight) and waits until the runners'
 * state files hold no pod, or `timeoutMs` passes. Returns the pods still held (0 when done).
 * Idempotent: pods already gone are skipped.
 */
export async function deleteLayoutPods(options: { kubeConfig: KubeConfig; layout: Layout; paths: ClusterPaths; nodes: readonly string[]; timeoutMs: number }): Promise<number> {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  await forEachLimited(options.layout.pods, 20, async (pod) => {
    await core.deleteNamespacedPod({ namespace: pod.metadata?.namespace ?? "default", name: pod.metadata?.name ?? "" }).catch(() => undefined);
  });
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const left = await runnerPodCount(options);
    if (left === 0 || Date.now() > deadline) return left;
    await sleep(1000);
  }
}

/** Workload processes the runners recorded: PID and pod uid, so a leftover can be found after teardown. */
export async function recordedWorkloads(options: { paths: ClusterPaths; nodes: readonly string[] }): Promise<{ pid: number; uid: string }[]> {
  const states = await Promise.all(options.nodes.map((node) => readRunnerState({ path: runnerStatePath(options.paths, node), node }).catch(() => undefined)));
  return states.flatMap((state) => Object.values(state?.pods ?? {}).flatMap((record) => (record.workloadPid === undefined ? [] : [{ pid: record.workloadPid, uid: record.uid }])));
}

/**
 * Sends SIGKILL to each recorded workload that still runs with its pod's uid on the command
 * line (the runner tags workloads with --pod-uid), and returns the PIDs signalled. A PID
 * reused by another program is left alone.
 */
export function killLeftoverWorkloads(workloads: readonly { pid: number; uid: string }[]): number[] {
  const killed: number[] = [];
  for (const { pid, uid } of workloads) {
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (!cmdline.split("\0").includes(uid)) continue;
    try {
      process.kill(pid, "SIGKILL");
      killed.push(pid);
    } catch {
      // It exited between the check and the signal.
    }
  }
  return killed;
}
