// The Pod status the runner writes, in the shape a kubelet gives it, and the pod IPs taken
// from a CNI result. Statuses are plain JSON (times as RFC 3339 strings in whole seconds, as
// the API server stores them) because they go out as merge patch bodies.
import type { V1Pod } from "@kubernetes/client-node";

import { isRecord } from "./cni/conflist.ts";
import type { CniResult } from "./cni/invoke.ts";

/** A pod status or condition as JSON. */
export type StatusJson = Record<string, unknown>;

/** Prefix of containerStatuses[].containerID, where a kubelet writes the runtime's name. */
export const runtimeName = "switchyard-podrunner";

/** Returns the addresses (without prefix length) of a CNI 0.3+ result's `ips`, in result order. */
export function podIpsFromResult(result: CniResult): string[] {
  const ips = Array.isArray(result.ips) ? result.ips : [];
  return ips.flatMap((entry: unknown) => {
    if (!isRecord(entry) || typeof entry.address !== "string") return [];
    const [address = ""] = entry.address.split("/");
    return address === "" ? [] : [address];
  });
}

/** Returns the status of a pod whose network is up and whose workload runs. */
export function runningStatus(options: { pod: V1Pod; hostIp: string; podIps: readonly string[]; sandboxId: string; startTime: Date; restartCount: number }): StatusJson {
  const { pod, startTime } = options;
  const conditions = ["PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready", "PodScheduled"].map((type) => condition({ type, status: "True", at: startTime }));
  return {
    phase: "Running",
    hostIP: options.hostIp,
    hostIPs: [{ ip: options.hostIp }],
    podIP: options.podIps[0],
    podIPs: options.podIps.map((ip) => ({ ip })),
    startTime: rfc3339(startTime),
    conditions,
    containerStatuses: (pod.spec?.containers ?? []).map((container) => ({
      name: container.name,
      image: container.image ?? "",
      imageID: "",
      containerID: `${runtimeName}://${options.sandboxId}`,
      ready: true,
      started: true,
      restartCount: options.restartCount,
      state: { running: { startedAt: rfc3339(startTime) } },
    })),
  };
}

/**
 * Returns the status of a pod the runner could not start: phase Pending, the failed step as
 * a False condition whose message names the error, and each container waiting with `reason`.
 */
export function pendingStatus(options: { pod: V1Pod; hostIp: string; reason: string; message: string; now: Date }): StatusJson {
  const { pod, now } = options;
  const sandboxFailed = options.reason === "FailedCreatePodSandBox";
  return {
    phase: "Pending",
    hostIP: options.hostIp,
    hostIPs: [{ ip: options.hostIp }],
    conditions: [
      condition({ type: "PodReadyToStartContainers", status: sandboxFailed ? "False" : "True", at: now, reason: sandboxFailed ? options.reason : undefined, message: sandboxFailed ? options.message : undefined }),
      condition({ type: "Initialized", status: "True", at: now }),
      condition({ type: "ContainersReady", status: "False", at: now, reason: "ContainersNotReady", message: options.message }),
      condition({ type: "Ready", status: "False", at: now, reason: "ContainersNotReady", message: options.message }),
      condition({ type: "PodScheduled", status: "True", at: now }),
    ],
    containerStatuses: (pod.spec?.containers ?? []).map((container) => ({
      name: container.name,
      image: container.image ?? "",
      imageID: "",
      ready: false,
      started: false,
      restartCount: 0,
      state: { waiting: { reason: sandboxFailed ? "ContainerCreating" : options.reason, message: options.message } },
    })),
  };
}

/** Formats a time as the API server does: RFC 3339 in UTC, whole seconds. */
export function rfc3339(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

function condition(options: { type: string; status: "True" | "False"; at: Date; reason?: string; message?: string }): StatusJson {
  const result: StatusJson = { type: options.type, status: options.status, lastTransitionTime: rfc3339(options.at) };
  if (options.reason !== undefined) result.reason = options.reason;
  if (options.message !== undefined) result.message = options.message;
  return result;
}
