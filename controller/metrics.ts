// Prometheus metrics of the controller, all in one registry owned by one daemon instance
// (no module-level registry, so tests can run several controllers in one process).
import { Counter, Gauge, Histogram } from "prom-client";
import type { InformerMetrics } from "../common/informers/informer-metrics.ts";
import { DaemonMetrics } from "../common/metrics/daemon-metrics.ts";

export class ControllerMetrics extends DaemonMetrics {

  /** Time spent applying one informer event (kind: Pod, Namespace, Node, NetworkPolicy). */
  readonly syncDuration = new Histogram({
    name: "switchyard_controller_sync_duration_seconds",
    help: "Time to apply one informer event to the policy computation and IPAM, in seconds.",
    labelNames: ["kind"] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });

  readonly objects = new Gauge({
    name: "switchyard_controller_objects",
    help: "Kubernetes objects in the informer caches, by kind.",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  readonly informerRestarts = new Counter({
    name: "switchyard_controller_informer_restarts_total",
    help: "Informer restarts after a list or watch error, by kind.",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  readonly connectedAgents = new Gauge({
    name: "switchyard_controller_connected_agents",
    help: "Agent watch streams currently open.",
    registers: [this.registry],
  });

  readonly pendingUpdates = new Gauge({
    name: "switchyard_controller_pending_updates",
    help: "Slice events not yet reported as realized, summed over nodes with a connected agent.",
    registers: [this.registry],
  });

  readonly eventsSent = new Counter({
    name: "switchyard_controller_slice_events_sent_total",
    help: "Slice events written to agent watch streams.",
    registers: [this.registry],
  });

  readonly watchStarts = new Counter({
    name: "switchyard_controller_watch_starts_total",
    help: "Agent watch streams opened, by mode (resume or snapshot) and resync reason.",
    labelNames: ["mode", "reason"] as const,
    registers: [this.registry],
  });

  readonly ipamAllocated = new Gauge({
    name: "switchyard_controller_ipam_allocated_subnets",
    help: "Node pod CIDRs allocated, by cluster CIDR.",
    labelNames: ["cluster_cidr"] as const,
    registers: [this.registry],
  });

  readonly ipamCapacity = new Gauge({
    name: "switchyard_controller_ipam_capacity_subnets",
    help: "Node pod CIDRs a cluster CIDR can hold.",
    labelNames: ["cluster_cidr"] as const,
    registers: [this.registry],
  });

  readonly ipamFailures = new Counter({
    name: "switchyard_controller_ipam_failures_total",
    help: "Pod CIDR allocations or claims that failed, by error code.",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });

  readonly realization = new Gauge({
    name: "switchyard_controller_policy_realization",
    help: "Policies per state (realized or failed) in the agents' latest status reports, summed over nodes.",
    labelNames: ["state"] as const,
    registers: [this.registry],
  });

  /** The informers' view of the metrics above: restarts, cached objects and handler time. */
  readonly informers: InformerMetrics = {
    restarts: this.informerRestarts,
    cachedObjects: this.objects,
    handlerDuration: this.syncDuration,
    onScrape: (refresh) => this.onScrape(refresh),
  };

  constructor(options: { processMetrics?: boolean } = {}) {
    super({ prefix: "switchyard_controller_", processMetrics: options.processMetrics });
  }
}
