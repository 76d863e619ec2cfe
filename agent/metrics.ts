// Prometheus metrics of the agent, all in one registry owned by one daemon instance (no
// module-level registry, so tests can run several agents in one process).
import { Counter, Gauge, Histogram } from "prom-client";
import type { InformerMetrics } from "../common/informers/informer-metrics.ts";
import { DaemonMetrics } from "../common/metrics/daemon-metrics.ts";

export class AgentMetrics extends DaemonMetrics {

  /** Flows the agent keeps installed, per OpenFlow table name; refreshed at each scrape. */
  readonly flows = new Gauge({
    name: "switchyard_agent_flows",
    help: "Flows the agent keeps installed on the integration bridge, by table.",
    labelNames: ["table"] as const,
    registers: [this.registry],
  });

  /** Duration of one bundle of flow changes, by owner kind (pipeline, local, pod, node, replay, round). */
  readonly flowSyncDuration = new Histogram({
    name: "switchyard_agent_flow_sync_duration_seconds",
    help: "Time to apply one atomic bundle of flow changes, in seconds, by owner kind.",
    labelNames: ["owner"] as const,
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });

  /** CNI requests handled by the agent's CNI server, by command and result (success or an error code). */
  readonly cniRequests = new Counter({
    name: "switchyard_agent_cni_requests_total",
    help: "CNI requests handled, by command (ADD, DEL, CHECK) and result.",
    labelNames: ["command", "result"] as const,
    registers: [this.registry],
  });

  readonly cniLatency = new Histogram({
    name: "switchyard_agent_cni_request_duration_seconds",
    help: "Time to handle one CNI request, in seconds, by command and result.",
    labelNames: ["command", "result"] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** 1 while the connection is up, by peer (openflow, ovsdb). */
  readonly ovsConnected = new Gauge({
    name: "switchyard_agent_ovs_connected",
    help: "1 while the agent's connection to Open vSwitch is up, else 0, by protocol (openflow, ovsdb).",
    labelNames: ["protocol"] as const,
    registers: [this.registry],
  });

  readonly ovsReconnects = new Counter({
    name: "switchyard_agent_ovs_reconnects_total",
    help: "Reconnections to Open vSwitch after a drop, by protocol (openflow, ovsdb).",
    labelNames: ["protocol"] as const,
    registers: [this.registry],
  });

  /** Peer routes by path (tunnel, underlay). */
  readonly peerRoutes = new Gauge({
    name: "switchyard_agent_peer_routes",
    help: "Routes toward peer pod CIDRs, by path (tunnel or underlay).",
    labelNames: ["via"] as const,
    registers: [this.registry],
  });

  readonly informerRestarts = new Counter({
    name: "switchyard_agent_informer_restarts_total",
    help: "Node and Pod informer restarts after a list or watch error, by kind.",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  /** Refreshed at each scrape. */
  readonly informerObjects = new Gauge({
    name: "switchyard_agent_informer_objects",
    help: "Objects in the agent's informer caches, by kind. Node counts every Node, Pod only the Pods bound to this node.",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  readonly informerHandlerDuration = new Histogram({
    name: "switchyard_agent_informer_handler_duration_seconds",
    help: "Time the agent's handlers take for one informer event, in seconds, by kind.",
    labelNames: ["kind"] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });

  /** The informers' view of the three metrics above. */
  readonly informers: InformerMetrics = {
    restarts: this.informerRestarts,
    cachedObjects: this.informerObjects,
    handlerDuration: this.informerHandlerDuration,
    onScrape: (refresh) => this.onScrape(refresh),
  };

  constructor(options: { processMetrics?: boolean } = {}) {
    super({ prefix: "switchyard_agent_", processMetrics: options.processMetrics });
  }
}

/** Returns the owner kind of a FlowSync owner key ("pod:5" gives "pod", "(replay)" gives "replay"). */
export function ownerKind(owner: string): string {
  const trimmed = owner.replace(/^\(/, "").replace(/\)$/, "");
  return trimmed.split(/[: ]/)[0] ?? trimmed;
}
