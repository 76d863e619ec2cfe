// A Pod informer (client-node ListWatch) over all namespaces with a field selector, which
// restarts itself with backoff after an error. ListWatch stops for good on any error other
// than 410 Gone (a refused connection, an abrupt close of the API server), so the runner and
// the scheduler would otherwise go deaf.
import { CoreV1Api, ListWatch, Watch } from "@kubernetes/client-node";
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";

import { errorMessage } from "./errors.ts";

export interface PodWatchOptions {
  kubeConfig: KubeConfig;
  /** Field selector such as "spec.nodeName=node1". */
  fieldSelector: string;
  onUpsert(pod: V1Pod): void;
  onDelete(pod: V1Pod): void;
  /** Called with each error before the restart that follows it. */
  onError(error: unknown, retryInMs: number): void;
  /** First restart delay in milliseconds, doubled per failure up to maxBackoffMs. Default 500. */
  initialBackoffMs?: number;
  /** Default 10000. */
  maxBackoffMs?: number;
}

/** One restarting pod informer. start() resolves after the first list, and stop() is idempotent. */
export class PodWatch {
  private readonly options: PodWatchOptions;
  private readonly informer: ListWatch<V1Pod>;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private delayMs: number;

  constructor(options: PodWatchOptions) {
    this.options = options;
    this.delayMs = options.initialBackoffMs ?? 500;
    const core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.informer = new ListWatch<V1Pod>(
      "/api/v1/pods",
      new Watch(options.kubeConfig),
      () => core.listPodForAllNamespaces({ fieldSelector: options.fieldSelector }),
      false,
      undefined,
      options.fieldSelector,
    );
    this.informer.on("add", (pod) => options.onUpsert(pod));
    this.informer.on("update", (pod) => options.onUpsert(pod));
    this.informer.on("delete", (pod) => options.onDelete(pod));
    this.informer.on("error", (error) => this.restartLater(error));
    this.informer.on("connect", () => {
      this.delayMs = options.initialBackoffMs ?? 500;
    });
  }

  /** Lists and starts watching. Raises if the first list fails. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.informer.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    await this.informer.stop();
  }

  /** Pods in the informer's cache. */
  list(): readonly V1Pod[] {
    return this.informer.list();
  }

  private restartLater(error: unknown): void {
    if (this.stopped || this.restartTimer !== undefined) return;
    const delayMs = this.delayMs;
    this.delayMs = Math.min(delayMs * 2, this.options.maxBackoffMs ?? 10_000);
    this.options.onError(error, delayMs);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.informer.start().catch((startError: unknown) => this.restartLater(new Error(`restart failed: ${errorMessage(startError)}`, { cause: startError })));
    }, delayMs);
  }
}
