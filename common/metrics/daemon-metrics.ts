// The registry part shared by the agent's and the controller's metrics classes. Each daemon
// instance owns one prom-client registry, so tests can run several daemons in one process.
// The base adds the process metrics under the daemon's prefix and refreshes gauges per scrape.
import { Registry, collectDefaultMetrics } from "prom-client";

export interface DaemonMetricsOptions {
  /** Name prefix of the process metrics, e.g. "switchyard_agent_". */
  readonly prefix: string;
  /** Whether to collect prom-client's process metrics (CPU, memory, event loop). Default true, and tests turn it off. */
  readonly processMetrics?: boolean;
}

/** Base class of a daemon's metrics: subclasses declare their metrics with `registers: [this.registry]`. */
export class DaemonMetrics {
  readonly registry = new Registry();
  readonly #refreshers: (() => void)[] = [];

  constructor(options: DaemonMetricsOptions) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: options.prefix });
  }

  /** Registers a function that sets gauges too costly to keep current on every change. It runs before each scrape. */
  onScrape(refresh: () => void): void {
    this.#refreshers.push(refresh);
  }

  /** Returns the exposition text of every metric, after refreshing the scrape-time gauges. */
  async render(): Promise<string> {
    for (const refresh of this.#refreshers) refresh();
    return this.registry.metrics();
  }
}
