// What the prober (prober.ts) prints when it stops: every datagram it sent, per target,
// with its send time and whether its echo came back within the echo window.

/** A UDP echo server the prober sends to. */
export interface ProbeTarget {
  /** Label of the target in reports, such as the node it runs on. */
  name: string;
  ip: string;
  port: number;
}

/** Why the prober stopped. */
export type StopReason = "silent" | "timeout" | "ports-exhausted" | "signal" | "stdin-closed";

/** The datagrams sent to one target, in send order. */
export interface TargetRecord extends ProbeTarget {
  /** Send time of each datagram, `performance.timeOrigin + performance.now()` in milliseconds. */
  sentAt: number[];
  /** Whether the datagram with the same index was echoed. */
  echoed: boolean[];
}

/** The prober's final output line. */
export interface ProbeRecord {
  type: "record";
  reason: StopReason;
  firstPort: number;
  /** Highest source port bound, so the next prober of the run starts above it. */
  lastPort: number;
  /** Ticks lost because the port could not be bound. */
  bindErrors: number;
  /** When the `watch` command arrived; 0 when it never did. */
  watchStartedAt: number;
  targets: TargetRecord[];
}
