// Node IPAM: gives each Node a pod CIDR per IP family and writes it to spec.podCIDR(s).
import type { V1Node } from "@kubernetes/client-node";
import type { NodeWriter } from "../kube/node-writer.ts";
import { httpStatusOf } from "../kube/node-writer.ts";
import { errorMessage, type Logger } from "../../common/log/logger.ts";
import type { ControllerMetrics } from "../metrics.ts";
import { IpamError, IpamErrorCode, type NodeCidrAllocator } from "./allocator.ts";

/** Event reasons written on a Node. CIDRNotAvailable is the reason Kubernetes itself uses. */
export const IpamEventReason = {
  exhausted: "CIDRNotAvailable",
  rejected: "PodCIDRRejected",
} as const;

export interface NodeIpamOptions {
  readonly allocator: NodeCidrAllocator;
  readonly writer: NodeWriter;
  readonly logger: Logger;
  readonly metrics: ControllerMetrics;
  /** First delay before retrying a failed patch, doubled per failure up to retryMaxMs. */
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
}

/**
 * Reacts to Node objects. All work runs through one promise chain, so allocations and the
 * patches that publish them are serialised: a node never gets two allocations, and two
 * nodes never get the same subnet. Nothing happens before rebuild(), which must be given the
 * complete Node list so every CIDR already in use is claimed before the first allocation.
 */
export class NodeIpamController {
  private readonly options: NodeIpamOptions;
  private queue: Promise<void> = Promise.resolve();
  private live = false;
  private stopped = false;
  /** Nodes whose patch is retried later, with the current delay. */
  private readonly retries = new Map<string, { timer: NodeJS.Timeout; delayMs: number }>();
  /** Last error reported per node, so a resync does not repeat the same Event. */
  private readonly reported = new Map<string, string>();
  /** Latest object per node, for retries. */
  private readonly latest = new Map<string, V1Node>();

  constructor(options: NodeIpamOptions) {
    this.options = options;
  }

  /**
   * Claims the CIDRs of every listed Node, then allocates for the Nodes without one.
   * Call once, with the informer's complete list; later changes arrive through upsert/delete.
   */
  rebuild(nodes: readonly V1Node[]): Promise<void> {
    this.live = true;
    return this.enqueue(async () => {
      for (const node of nodes) {
        this.latest.set(nameOf(node), node);
        if (podCidrsOf(node).length > 0) await this.claimExisting(node);
      }
      this.options.logger.info("node IPAM rebuilt from Node objects", { nodes: nodes.length, subnets: this.allocatedCount() });
      for (const node of nodes) {
        if (podCidrsOf(node).length === 0) await this.allocateAndWrite(node);
      }
      this.refreshGauges();
    });
  }

  /** Handles an added or updated Node. */
  upsert(node: V1Node): void {
    if (!this.live) return;
    this.latest.set(nameOf(node), node);
    void this.enqueue(() => this.reconcile(nameOf(node)));
  }

  /** Frees the CIDRs of a deleted Node. */
  delete(node: V1Node): void {
    if (!this.live) return;
    const name = nameOf(node);
    void this.enqueue(async () => {
      this.latest.delete(name);
      this.cancelRetry(name);
      this.reported.delete(name);
      const cidrs = this.options.allocator.cidrsOf(name);
      this.options.allocator.release(name);
      if (cidrs !== undefined) this.options.logger.info("released pod CIDRs of deleted node", { node: name, cidrs });
      this.refreshGauges();
      if (cidrs !== undefined) this.retryWaitingNodes();
    });
  }

  /** Resolves when every queued operation has finished. */
  idle(): Promise<void> {
    return this.queue;
  }

  stop(): void {
    this.stopped = true;
    for (const name of [...this.retries.keys()]) this.cancelRetry(name);
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work).catch((error: unknown) => {
      this.options.logger.error("node IPAM operation failed", { error: errorMessage(error) });
    });
    this.queue = next;
    return next;
  }

  private async reconcile(name: string): Promise<void> {
    const node = this.latest.get(name);
    if (node === undefined || this.stopped) return;
    if (podCidrsOf(node).length > 0) {
      this.cancelRetry(name);
      await this.claimExisting(node);
    } else if (!this.retries.has(name)) {
      await this.allocateAndWrite(node);
    }
    this.refreshGauges();
  }

  /** Records CIDRs found on a Node; rejects ones outside the cluster CIDRs or taken. */
  private async claimExisting(node: V1Node): Promise<void> {
    const name = nameOf(node);
    const cidrs = podCidrsOf(node);
    try {
      this.options.allocator.claim(name, cidrs);
      this.reported.delete(name);
    } catch (error) {
      if (!(error instanceof IpamError)) throw error;
      await this.report(node, { error, reason: IpamEventReason.rejected, key: cidrs.join(",") });
    }
  }

  /** Allocates CIDRs for a Node without any and patches them onto it. */
  private async allocateAndWrite(node: V1Node): Promise<void> {
    const name = nameOf(node);
    let cidrs: string[];
    try {
      cidrs = this.options.allocator.allocate(name);
    } catch (error) {
      if (!(error instanceof IpamError) || error.code !== IpamErrorCode.exhausted) throw error;
      await this.report(node, { error, reason: IpamEventReason.exhausted, key: "exhausted" });
      return;
    }
    try {
      await this.options.writer.setPodCidrs(name, cidrs);
      this.cancelRetry(name);
      this.reported.delete(name);
      this.options.logger.info("allocated pod CIDRs to node", { node: name, cidrs });
    } catch (error) {
      if (httpStatusOf(error) === 404) {
        this.options.allocator.release(name);
        this.options.logger.info("node deleted before its pod CIDRs were written", { node: name, cidrs });
        return;
      }
      this.options.metrics.ipamFailures.inc({ code: "IPAM_PATCH_FAILED" });
      this.scheduleRetry(name, error);
    }
  }

  /** Logs an IPAM error and records a Warning Event on the Node, once per distinct problem. */
  private async report(node: V1Node, options: { error: IpamError; reason: string; key: string }): Promise<void> {
    const name = nameOf(node);
    this.options.metrics.ipamFailures.inc({ code: options.error.code });
    if (this.reported.get(name) === options.key) return;
    this.reported.set(name, options.key);
    this.options.logger.error("node pod CIDR not assigned", { node: name, code: options.error.code, error: options.error.message });
    try {
      await this.options.writer.recordEvent(node, { reason: options.reason, message: options.error.message, type: "Warning" });
    } catch (eventError) {
      this.options.logger.warn("failed to record Event on node", { node: name, reason: options.reason, error: errorMessage(eventError) });
    }
  }

  private scheduleRetry(name: string, error: unknown): void {
    const previous = this.retries.get(name);
    const delayMs = previous === undefined ? this.options.retryInitialMs : Math.min(previous.delayMs * 2, this.options.retryMaxMs);
    if (previous !== undefined) clearTimeout(previous.timer);
    this.options.logger.warn("failed to write pod CIDRs to node, retrying", { node: name, error: errorMessage(error), delayMs });
    const timer = setTimeout(() => {
      const entry = this.retries.get(name);
      if (entry === undefined || this.stopped) return;
      void this.enqueue(async () => {
        const node = this.latest.get(name);
        if (node === undefined) return;
        if (podCidrsOf(node).length > 0) {
          this.cancelRetry(name);
          await this.claimExisting(node);
          return;
        }
        await this.allocateAndWrite(node);
      });
    }, delayMs);
    timer.unref();
    this.retries.set(name, { timer, delayMs });
  }

  private cancelRetry(name: string): void {
    const entry = this.retries.get(name);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.retries.delete(name);
  }

  /** Queues the nodes still without CIDRs, after a release made room (exhaustion is not permanent). */
  private retryWaitingNodes(): void {
    for (const [name, node] of this.latest) {
      if (podCidrsOf(node).length === 0 && this.options.allocator.cidrsOf(name) === undefined) {
        void this.enqueue(() => this.reconcile(name));
      }
    }
  }

  private allocatedCount(): number {
    return this.options.allocator.usage().reduce((sum, pool) => sum + pool.allocated, 0);
  }

  private refreshGauges(): void {
    for (const pool of this.options.allocator.usage()) {
      this.options.metrics.ipamAllocated.set({ cluster_cidr: pool.clusterCIDR }, pool.allocated);
      this.options.metrics.ipamCapacity.set({ cluster_cidr: pool.clusterCIDR }, pool.capacity);
    }
  }
}

/** spec.podCIDRs, or [spec.podCIDR] from servers that only set the singular field. */
export function podCidrsOf(node: V1Node): string[] {
  const list = node.spec?.podCIDRs ?? [];
  if (list.length > 0) return [...list];
  const single = node.spec?.podCIDR;
  return single === undefined || single === "" ? [] : [single];
}

function nameOf(node: V1Node): string {
  return node.metadata?.name ?? "";
}
