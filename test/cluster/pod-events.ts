// core/v1 Events about a Pod, as the kubelet and the scheduler record them, so that
// `kubectl get events` and `kubectl describe pod` show why a lab pod is not running.
import { CoreV1Api } from "@kubernetes/client-node";
import type { CoreV1Event, KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "winston";

import { errorMessage } from "./errors.ts";

export interface PodEvent {
  type: "Normal" | "Warning";
  /** Kubelet and scheduler reasons: Scheduled, Started, Killing, FailedCreatePodSandBox, ... */
  reason: string;
  message: string;
}

/** Writes Events about pods. Best effort: a failed write is logged, never raised. */
export class PodEventRecorder {
  private readonly core: CoreV1Api;
  private readonly component: string;
  /** Node name for `source.host`, undefined for the scheduler. */
  private readonly host: string | undefined;
  private readonly log: Logger;

  constructor(options: { kubeConfig: KubeConfig; component: string; host?: string; logger: Logger }) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.component = options.component;
    this.host = options.host;
    this.log = options.logger;
  }

  /** Creates one Event whose involvedObject is the pod. */
  async record(pod: { namespace: string; name: string; uid: string }, event: PodEvent): Promise<void> {
    const now = new Date();
    const body: CoreV1Event = {
      metadata: { generateName: `${pod.name}.`, namespace: pod.namespace },
      involvedObject: { apiVersion: "v1", kind: "Pod", namespace: pod.namespace, name: pod.name, uid: pod.uid },
      type: event.type,
      reason: event.reason,
      message: event.message,
      source: this.host === undefined ? { component: this.component } : { component: this.component, host: this.host },
      reportingComponent: this.component,
      reportingInstance: this.host ?? this.component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.core.createNamespacedEvent({ namespace: pod.namespace, body });
    } catch (error) {
      this.log.warn("event write failed", { pod: `${pod.namespace}/${pod.name}`, reason: event.reason, error: errorMessage(error) });
    }
  }
}
