// An informer of @kubernetes/client-node that restarts itself after errors, for the agent
// and the controller.
//
// The library's ListWatch relists by itself after a 410 Gone and re-watches after a watch
// closes, but it stops for good after any other error (a refused connection, a 5xx, a failed
// list) and only emits "error". This wrapper restarts it with a capped exponential backoff.
// A restart keeps the last resourceVersion, so the library resumes the watch, or relists
// (emitting deletes for vanished objects) if that version is gone.
import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from "@kubernetes/client-node";
import { errorMessage } from "../log/logger.ts";
import type { InformerLogger } from "./informer-logger.ts";
import type { InformerMetrics } from "./informer-metrics.ts";

export interface InformerHandlers<T> {
  /** Called for an added or changed object, and for every cached object on each periodic resync. */
  upsert(object: T): void;
  /** Called for a deleted object, and for an object that changed so that it no longer matches the selectors. */
  delete(object: T): void;
}

/** Selectors in Kubernetes syntax that restrict an informer to part of its collection. */
export interface InformerSelectors {
  /** Label selector such as "app=web,tier!=cache". Undefined selects every object. */
  readonly labelSelector?: string;
  /** Field selector such as "spec.nodeName=node-1". The API server rejects, with 400, a field it does not support for the kind. */
  readonly fieldSelector?: string;
}

export interface ResilientInformerOptions<T extends KubernetesObject> extends InformerSelectors {
  /** Kind for logs and metrics, e.g. "Pod". */
  readonly kind: string;
  readonly kubeConfig: KubeConfig;
  /** API path of the collection, e.g. "/api/v1/pods". */
  readonly path: string;
  /**
   * Lists the collection. It receives the informer's selectors and must pass them on to the
   * list request, so that the list and the watch see the same objects.
   */
  readonly list: (selectors: InformerSelectors) => Promise<KubernetesListObject<T>>;
  readonly handlers: InformerHandlers<T>;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** 0 disables the periodic resync. */
  readonly resyncMs: number;
  readonly logger: InformerLogger;
  readonly metrics: InformerMetrics;
}

/**
 * One list-watch loop for one kind. start() resolves once the first full list has been
 * delivered to the handlers (retrying with backoff until then). stop() is idempotent.
 * Handlers are called synchronously, one event at a time.
 */
export class ResilientInformer<T extends KubernetesObject> {
  private readonly options: ResilientInformerOptions<T>;
  private readonly informer: ListWatch<T>;
  private delayMs: number;
  private restartTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private errorsDuringStart = 0;
  private synced = false;
  private syncWaiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(options: ResilientInformerOptions<T>) {
    this.options = options;
    this.delayMs = options.backoffInitialMs;
    const selectors: InformerSelectors = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
    // client-node 2.0's makeInformer takes no field selector, so the ListWatch is built here.
    // It adds both selectors to every watch request.
    this.informer = new ListWatch<T>(options.path, new Watch(options.kubeConfig), () => options.list(selectors), false, options.labelSelector, options.fieldSelector);
    this.informer.on("add", (object) => this.deliver("upsert", object));
    this.informer.on("update", (object) => this.deliver("upsert", object));
    this.informer.on("delete", (object) => this.deliver("delete", object));
    this.informer.on("error", (error: unknown) => this.onError(error));
    // Counting the cache copies it, so it happens per scrape, not per event.
    options.metrics.onScrape(() => options.metrics.cachedObjects.set({ kind: options.kind }, this.informer.list().length));
  }

  /** Starts the loop and resolves after the first successful list; rejects if stop() comes first. */
  async start(): Promise<void> {
    this.stopped = false;
    const synced = new Promise<void>((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
    // stop() may reject it while attempt() is still pending; the await below reports it.
    synced.catch(() => undefined);
    await this.attempt();
    if (this.options.resyncMs > 0) {
      this.resyncTimer = setInterval(() => this.resync(), this.options.resyncMs);
      this.resyncTimer.unref();
    }
    await synced;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearInterval(this.resyncTimer);
    const error = new Error(`${this.options.kind} informer stopped before its first list`);
    for (const waiter of this.syncWaiters.splice(0)) waiter.reject(error);
    await this.informer.stop();
  }

  /** Objects in the informer's cache: only those matching its selectors. */
  list(): readonly T[] {
    return this.informer.list();
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  private async attempt(): Promise<void> {
    this.errorsDuringStart = 0;
    await this.informer.start();
    if (this.errorsDuringStart > 0 || this.stopped) return;
    // The list went through and the watch is open: the loop is healthy again.
    this.delayMs = this.options.backoffInitialMs;
    if (!this.synced) {
      this.synced = true;
      for (const waiter of this.syncWaiters.splice(0)) waiter.resolve();
    }
  }

  private onError(error: unknown): void {
    this.errorsDuringStart += 1;
    if (this.stopped || this.restartTimer !== undefined) return;
    const delayMs = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.options.backoffMaxMs);
    this.options.metrics.restarts.inc({ kind: this.options.kind });
    const server = this.options.kubeConfig.getCurrentCluster()?.server;
    this.options.logger.warn("informer failed, restarting", { kind: this.options.kind, server, error: errorMessage(error), delayMs });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.attempt().catch((startError: unknown) => this.onError(startError));
    }, delayMs);
  }

  private deliver(kind: keyof InformerHandlers<T>, object: T): void {
    const { handlers, logger, metrics } = this.options;
    const end = metrics.handlerDuration.startTimer({ kind: this.options.kind });
    try {
      handlers[kind](object);
    } catch (error) {
      // A handler error must not stop the informer; the object is retried on the next resync.
      logger.error("informer handler failed", { kind: this.options.kind, ...logFields(this.options.kind, object), error: errorMessage(error) });
    } finally {
      end();
    }
  }

  private resync(): void {
    if (!this.synced || this.stopped) return;
    this.options.logger.debug("informer resync", { kind: this.options.kind, objects: this.informer.list().length });
    for (const object of this.informer.list()) this.deliver("upsert", object);
  }
}

/** Returns the object's identity under the daemons' fixed log keys (node, pod, namespace, policy). */
function logFields(kind: string, object: KubernetesObject): Record<string, string | undefined> {
  const name = object.metadata?.name;
  const namespace = object.metadata?.namespace;
  switch (kind) {
    case "Pod":
      return { namespace, pod: name };
    case "NetworkPolicy":
      return { namespace, policy: name };
    case "Node":
      return { node: name };
    case "Namespace":
      return { namespace: name };
    default:
      return { namespace, name };
  }
}
