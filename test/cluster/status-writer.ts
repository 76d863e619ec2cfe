// Writing a Pod's status through the status subresource, the only way the runner changes
// Pods. reportPending and ensureRunning skip a write when the Pod already shows it, because
// every write causes a watch event that brings the pod back to the runner.
import { CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";

import type { PodEventRecorder } from "./pod-events.ts";
import { pendingStatus, runningStatus } from "./pod-status.ts";
import type { StatusJson } from "./pod-status.ts";
import type { PodRecord } from "./state.ts";

export class PodStatusWriter {
  private readonly core: CoreV1Api;
  private readonly hostIp: string;
  private readonly events: PodEventRecorder;

  constructor(options: { kubeConfig: KubeConfig; hostIp: string; events: PodEventRecorder }) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.hostIp = options.hostIp;
    this.events = options.events;
  }

  /**
   * Writes a Pending status and a Warning Event, unless the Pod already shows the same reason
   * and message. Writing it again would only change lastTransitionTime.
   */
  async reportPending(pod: V1Pod, options: { reason: string; message: string }): Promise<void> {
    const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting;
    const sandboxCondition = pod.status?.conditions?.find((condition) => condition.type === "PodReadyToStartContainers");
    const alreadyReported =
      pod.status?.phase === "Pending" &&
      ((waiting?.reason === options.reason && waiting.message === options.message) || (sandboxCondition?.reason === options.reason && sandboxCondition.message === options.message));
    if (alreadyReported) return;
    const identity = { namespace: pod.metadata?.namespace ?? "default", name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" };
    await this.write(identity, pendingStatus({ pod, hostIp: this.hostIp, ...options, now: new Date() }));
    await this.events.record(identity, { type: "Warning", ...options });
  }

  /** Writes the Running status unless the Pod already shows this record's IPs and restart count. */
  async ensureRunning(pod: V1Pod, record: PodRecord): Promise<void> {
    const status = pod.status;
    const current =
      status?.phase === "Running" &&
      status.podIP === record.podIps[0] &&
      status.hostIP === this.hostIp &&
      status.containerStatuses?.[0]?.restartCount === record.restartCount;
    if (current) return;
    await this.writeRunning(pod, record);
  }

  /** Writes the Running status of `record` unconditionally. */
  async writeRunning(pod: V1Pod, record: PodRecord): Promise<void> {
    const startTime = new Date(record.startTime ?? Date.now());
    await this.write(record, runningStatus({ pod, hostIp: this.hostIp, podIps: record.podIps, sandboxId: record.sandboxId, startTime, restartCount: record.restartCount }));
  }

  /** Patches the status subresource with a merge patch. A Pod deleted meanwhile is not an error. */
  private async write(pod: { namespace: string; name: string }, status: StatusJson): Promise<void> {
    try {
      await this.core.patchNamespacedPodStatus({ namespace: pod.namespace, name: pod.name, body: { status } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
    } catch (error) {
      if ((error as { code?: number }).code === 404) return;
      throw error;
    }
  }
}
