// The lab's scheduler: binds each unscheduled Pod to the next node in a fixed round-robin
// order. The local API server has no pods/binding subresource, so binding is a merge patch
// of spec.nodeName, which the API server accepts from an empty value.
import { CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import winston from "winston";
import type { Logger } from "winston";

import { ClusterError, ClusterErrorCode, errorMessage } from "./errors.ts";
import { PodEventRecorder } from "./pod-events.ts";
import { PodWatch } from "./pod-watch.ts";

/** schedulerName of pods this scheduler takes. Pods naming another scheduler are left alone. */
export const defaultSchedulerName = "default-scheduler";

/** Delay before a failed binding is tried again. */
const bindRetryMs = 1000;

/** Returns the node at `cursor` (wrapping around) and the cursor for the following pod. */
export function nextNode(nodes: readonly string[], cursor: number): { node: string; cursor: number } {
  const node = nodes[cursor % nodes.length];
  if (node === undefined) throw new ClusterError(ClusterErrorCode.InvalidOption, "round-robin scheduling needs at least one node");
  return { node, cursor: (cursor + 1) % nodes.length };
}

export interface RoundRobinSchedulerOptions {
  kubeConfig: KubeConfig;
  /** Node names in binding order. */
  nodes: readonly string[];
  /** Default: a silent logger. */
  logger?: Logger;
}

/**
 * Watches Pods with an empty spec.nodeName and binds them one at a time, in the order the
 * watch delivers them, to nodes[0], nodes[1], ... and around again. Run only one scheduler
 * per API server, because two would both bind the same pods.
 */
export class RoundRobinScheduler {
  private readonly options: RoundRobinSchedulerOptions;
  private readonly log: Logger;
  private readonly core: CoreV1Api;
  private readonly watch: PodWatch;
  private readonly events: PodEventRecorder;
  private cursor = 0;
  private queue: Promise<void> = Promise.resolve();
  /** Pods already bound or being bound, by uid, so a repeated event does not bind twice. */
  private readonly bound = new Set<string>();

  constructor(options: RoundRobinSchedulerOptions) {
    if (options.nodes.length === 0) throw new ClusterError(ClusterErrorCode.InvalidOption, "the scheduler needs at least one node name");
    this.options = options;
    this.log = (options.logger ?? winston.createLogger({ silent: true })).child({ component: "scheduler" });
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.events = new PodEventRecorder({ kubeConfig: options.kubeConfig, component: defaultSchedulerName, logger: this.log });
    this.watch = new PodWatch({
      kubeConfig: options.kubeConfig,
      fieldSelector: "spec.nodeName=",
      onUpsert: (pod) => this.onUnscheduled(pod),
      onDelete: () => {},
      onError: (error, retryInMs) => this.log.warn("pod watch failed, restarting", { error: errorMessage(error), retryInMs }),
    });
  }

  async start(): Promise<void> {
    await this.watch.start();
  }

  /** Stops watching and waits for bindings in progress. Idempotent. */
  async stop(): Promise<void> {
    await this.watch.stop();
    await this.idle();
  }

  /** Resolves once every queued binding has been sent. */
  async idle(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.queue;
      await current;
    } while (current !== this.queue);
  }

  private onUnscheduled(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (uid === undefined || this.bound.has(uid)) return;
    if ((pod.spec?.nodeName ?? "") !== "") return;
    if ((pod.spec?.schedulerName ?? defaultSchedulerName) !== defaultSchedulerName) return;
    this.bound.add(uid);
    this.queue = this.queue.then(() => this.bind(pod));
  }

  private async bind(pod: V1Pod): Promise<void> {
    const namespace = pod.metadata?.namespace ?? "default";
    const name = pod.metadata?.name ?? "";
    const { node, cursor } = nextNode(this.options.nodes, this.cursor);
    try {
      await this.core.patchNamespacedPod(
        { namespace, name, body: { spec: { nodeName: node } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
      this.cursor = cursor;
      this.log.info("pod bound", { pod: `${namespace}/${name}`, node });
      await this.events.record({ namespace, name, uid: pod.metadata?.uid ?? "" }, { type: "Normal", reason: "Scheduled", message: `Successfully assigned ${namespace}/${name} to ${node}` });
    } catch (error) {
      // A pod deleted before its binding needs nothing. Any other failure is retried.
      const uid = pod.metadata?.uid ?? "";
      this.bound.delete(uid);
      if ((error as { code?: number }).code === 404) return;
      this.log.error("binding failed, retrying", { pod: `${namespace}/${name}`, node, error: errorMessage(error), retryInMs: bindRetryMs });
      const timer = setTimeout(() => {
        const current = this.watch.list().find((candidate) => candidate.metadata?.uid === uid);
        if (current !== undefined) this.onUnscheduled(current);
      }, bindRetryMs);
      timer.unref();
    }
  }
}
