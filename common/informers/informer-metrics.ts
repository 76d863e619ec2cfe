// The metrics a ResilientInformer records. Each daemon maps them to its own metric names
// (switchyard_agent_... or switchyard_controller_...), so the figures appear in that
// daemon's /metrics.
import type { Counter, Gauge, Histogram } from "prom-client";

export interface InformerMetrics {
  /** Restarts after a list or watch error, labelled with the informer's kind. */
  readonly restarts: Pick<Counter<"kind">, "inc">;
  /** Objects in the informer's cache, by kind, set before each scrape. */
  readonly cachedObjects: Pick<Gauge<"kind">, "set">;
  /** Time the handlers take for one event, in seconds, by kind. */
  readonly handlerDuration: Pick<Histogram<"kind">, "startTimer">;
  /** Registers a function that runs before each scrape. */
  onScrape(refresh: () => void): void;
}
