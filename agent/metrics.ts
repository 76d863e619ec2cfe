// Prometheus metrics of the agent, all in one registry owned by one daemon instance (no
// module-level registry, so tests can run several agents in one process).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class AgentMetrics {
  readonly registry = new Registry();

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

  private readonly refreshers: (() => void)[] = [];

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: "switchyard_agent_" });
  }

  /** Registers a function that sets gauges before each scrape. */
  onScrape(refresh: () => void): void {
    this.refreshers.push(refresh);
  }

  /** Returns the exposition text of every metric, after refreshing the scrape-time gauges. */
  async render(): Promise<string> {
    for (const refresh of this.refreshers) refresh();
    return this.registry.metrics();
  }
}

/** Returns the owner kind of a FlowSync owner key ("pod:5" gives "pod", "(replay)" gives "replay"). */
export function ownerKind(owner: string): string {
  const trimmed = owner.replace(/^\(/, "").replace(/\)$/, "");
  return trimmed.split(/[: ]/)[0] ?? trimmed;
}
