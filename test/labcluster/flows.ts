// Reading ovs-ofctl dump-flows text: the flows whose packet counters grew between two
// dumps, which is how the demo shows the flows that dropped a blocked connection.

/** One flow of a dump with its packet counter. */
export interface FlowCounter {
  /** The flow without its changing fields (duration, counters, ages), to match it across dumps. */
  key: string;
  /** Table name or number as printed. */
  table: string;
  packets: number;
  /** The line as printed, trimmed. */
  line: string;
}

const changingFields = /\b(duration|n_packets|n_bytes|idle_age|hard_age)=[^,\s]*,?\s*/g;

/** Parses the flow lines of `ovs-ofctl dump-flows` output; header lines are skipped. */
export function parseFlowCounters(text: string): FlowCounter[] {
  const flows: FlowCounter[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const packets = /\bn_packets=(\d+)/.exec(line);
    if (packets?.[1] === undefined) continue;
    const table = /\btable=([^,\s]+)/.exec(line)?.[1] ?? "0";
    flows.push({ key: line.replace(changingFields, "").trim(), table, packets: Number(packets[1]), line });
  }
  return flows;
}

/** A flow whose counter grew between two dumps. */
export interface GrownFlow {
  line: string;
  table: string;
  /** Packets counted between the two dumps. */
  delta: number;
}

/** Returns the flows of `after` whose packet counter is higher than in `before` (new flows count from 0). */
export function grownFlows(before: readonly FlowCounter[], after: readonly FlowCounter[]): GrownFlow[] {
  const previous = new Map(before.map((flow) => [flow.key, flow.packets]));
  return after
    .map((flow) => ({ line: flow.line, table: flow.table, delta: flow.packets - (previous.get(flow.key) ?? 0) }))
    .filter((flow) => flow.delta > 0);
}

/** Returns whether a flow's actions drop the packet (an explicit drop, or no actions at all). */
export function isDropFlow(line: string): boolean {
  const actions = /\bactions=(.*)$/.exec(line)?.[1]?.trim() ?? "";
  return actions === "drop" || actions === "";
}
