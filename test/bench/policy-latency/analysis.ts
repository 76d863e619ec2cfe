// Turns one prober record into the realization time per target: the send time of the first
// datagram that was dropped for good, minus t0, the moment just before the change (policy
// create or reference flow) was requested.
import type { TargetRecord } from "./record.ts";

/** The outcome for one target in one measurement. */
export type TargetLatency =
  | {
      valid: true;
      name: string;
      /** Send time of the first datagram with no later echo, minus t0, in milliseconds. */
      latencyMs: number;
      /** Gap between that datagram and the last echoed one before it: the resolution of this figure. */
      resolutionMs: number;
      /** Datagrams sent between steady echoing and t0 that were not echoed: losses unrelated to the change. */
      lostBeforeT0: number;
    }
  | { valid: false; name: string; problem: string };

/**
 * Finds the first datagram after which the target never echoed again (the first drop) and
 * returns its send time minus t0. Invalid when nothing was echoed, nothing was dropped, the
 * first drop was sent before t0, or a datagram sent after t0 was lost while later ones were
 * still echoed (the target flapped, or the datapath lost packets).
 */
export function targetLatency(record: TargetRecord, times: { t0: number; steadyAt: number }): TargetLatency {
  const { t0, steadyAt } = times;
  const { sentAt, echoed, name } = record;
  const lastEcho = echoed.lastIndexOf(true);
  if (lastEcho === -1) return { valid: false, name, problem: "no datagram was ever echoed" };
  const firstDrop = lastEcho + 1;
  const firstDropAt = sentAt[firstDrop];
  if (firstDropAt === undefined) return { valid: false, name, problem: `the last datagram (sent ${(sentAt[lastEcho] ?? 0) - t0} ms after t0) was still echoed: no drop seen` };
  if (firstDropAt < t0) {
    // A datagram still queued in the datapath at t0 can meet the new flows, so this is not
    // always a fault, but the figure would be negative and is not counted.
    return { valid: false, name, problem: `the target stopped echoing ${(t0 - firstDropAt).toFixed(1)} ms before t0 (a datagram in flight at t0, or a loss unrelated to the change)` };
  }

  const firstLossAfterT0 = firstIndexAtOrAfter(sentAt, t0, (index) => echoed[index] !== true);
  if (firstLossAfterT0 !== -1 && firstLossAfterT0 < firstDrop) {
    const echoesAfterLoss = echoed.slice(firstLossAfterT0 + 1, firstDrop).filter(Boolean).length;
    const lossAt = (sentAt[firstLossAfterT0] ?? 0) - t0;
    return { valid: false, name, problem: `a datagram sent ${lossAt.toFixed(1)} ms after t0 was lost, then ${echoesAfterLoss} later datagrams were echoed before the drop` };
  }

  let lostBeforeT0 = 0;
  for (let index = 0; index < firstDrop && (sentAt[index] ?? 0) < t0; index += 1) {
    if ((sentAt[index] ?? 0) >= steadyAt && echoed[index] !== true) lostBeforeT0 += 1;
  }
  return { valid: true, name, latencyMs: firstDropAt - t0, resolutionMs: firstDropAt - (sentAt[lastEcho] ?? firstDropAt), lostBeforeT0 };
}

function firstIndexAtOrAfter(sentAt: readonly number[], t0: number, predicate: (index: number) => boolean): number {
  for (let index = 0; index < sentAt.length; index += 1) {
    if ((sentAt[index] ?? 0) >= t0 && predicate(index)) return index;
  }
  return -1;
}

/** Returns the median of `values` (the mean of the middle two for an even count), or NaN for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle];
  if (upper === undefined) return Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? upper) + upper) / 2;
}
