// Pod-level helpers of the local cluster: waiting for pods to run, and HTTP requests sent
// from inside a pod's network namespace.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { CoreV1Api } from "@kubernetes/client-node";
import type { V1Pod } from "@kubernetes/client-node";

import { podNetnsName } from "../cluster/index.ts";
import { loadClusterKubeConfig } from "./cluster.ts";
import { waitFor } from "./daemons.ts";
import { ClusterUpError, ClusterUpErrorCode, errorText } from "./errors.ts";
import type { ClusterState } from "./state.ts";

const execFileAsync = promisify(execFile);

/** Why a pod is not running yet, from its phase and its first false condition's message. */
export function podWaitReason(pod: V1Pod): string {
  const failed = pod.status?.conditions?.find((condition) => condition.status === "False" && (condition.message ?? "") !== "");
  return `${pod.metadata?.name ?? "?"}: ${pod.status?.phase ?? "no status"}${failed === undefined ? "" : ` (${failed.reason ?? ""}: ${failed.message ?? ""})`}`;
}

/**
 * Waits until every named pod of `namespace` is Running with an IP and returns them by name.
 * Raises TIMEOUT listing each waiting pod with the reason its status gives.
 */
export async function waitForPodsRunning(options: { state: ClusterState; namespace?: string; names: readonly string[]; timeoutMs: number }): Promise<Map<string, V1Pod>> {
  const core = loadClusterKubeConfig(options.state).makeApiClient(CoreV1Api);
  const namespace = options.namespace ?? "default";
  let waiting: string[] = [];
  try {
    return await waitFor(
      async () => {
        const pods = await Promise.all(options.names.map((name) => core.readNamespacedPod({ name, namespace })));
        waiting = pods.filter((pod) => pod.status?.phase !== "Running" || (pod.status.podIP ?? "") === "").map(podWaitReason);
        return waiting.length === 0 ? new Map(pods.map((pod) => [pod.metadata?.name ?? "", pod])) : undefined;
      },
      { what: `pods ${options.names.join(", ")} to run`, timeoutMs: options.timeoutMs, intervalMs: 500 },
    );
  } catch (error) {
    if (waiting.length === 0) throw error;
    throw new ClusterUpError(ClusterUpErrorCode.Timeout, `${errorText(error)}; still waiting: ${waiting.join("; ")}`, { cause: error });
  }
}

/** Returns the name of the network namespace the pod runners created for a pod. */
export function podNetns(state: ClusterState, pod: V1Pod): string {
  return podNetnsName({ prefix: state.netnsPrefix, namespace: pod.metadata?.namespace ?? "default", name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" });
}

/** Outcome of one HTTP request sent from a pod. */
export interface HttpOutcome {
  /** Whether a response arrived (any status). */
  answered: boolean;
  status: number;
  body: string;
  /** curl's exit code: 0 response received, 28 timed out, 7 connection refused. */
  curlExitCode: number;
}

/** Sends one HTTP request with curl from inside `from`'s namespace to `url`. Never raises for network failures. */
export async function httpFromPod(options: { state: ClusterState; from: V1Pod; method: string; url: string; timeoutSeconds: number }): Promise<HttpOutcome> {
  const argv = ["netns", "exec", podNetns(options.state, options.from), "curl", "-s", "-X", options.method, "--max-time", String(options.timeoutSeconds), "-w", "\n%{http_code}", options.url];
  try {
    const { stdout } = await execFileAsync("ip", argv);
    const split = stdout.lastIndexOf("\n");
    return { answered: true, status: Number(stdout.slice(split + 1)), body: stdout.slice(0, split), curlExitCode: 0 };
  } catch (error) {
    const code = (error as { code?: number | string }).code;
    return { answered: false, status: 0, body: "", curlExitCode: typeof code === "number" ? code : -1 };
  }
}
