// The OpenFlow tables of br-int, in pipeline order. Each table has one purpose; a packet
// walks them top to bottom with goto_table, skipping only where a table's purpose names the skip.
// docs/pipeline.md draws the same list as a diagram.

export interface PipelineTable {
  readonly id: number;
  /** Name written to Flow_Table.name, so `ovs-ofctl --names dump-flows` prints it. */
  readonly name: string;
  readonly purpose: string;
}

function table(id: number, name: string, purpose: string): PipelineTable {
  return { id, name, purpose };
}

export const Tables = {
  Classifier: table(0, "Classifier", "marks the packet's source kind (gateway, tunnel, pod) from in_port; drops unknown ports"),
  SpoofGuard: table(1, "SpoofGuard", "lets a pod port send only its own MAC and IP; sends ARP to ARPResponder"),
  ARPResponder: table(2, "ARPResponder", "checks ARP sender fields, answers ARP for the gateway IP, switches other ARP"),
  ConntrackZone: table(3, "ConntrackZone", "sends IP packets through conntrack in the pod zone"),
  ConntrackState: table(4, "ConntrackState", "drops packets conntrack marks invalid"),
  ServiceHook: table(5, "ServiceHook", "hook for Service load balancing; passes everything on for now"),
  EgressPolicy: table(6, "EgressPolicy", "egress NetworkPolicy: conjunctive rule flows set EgressRuleId or drop; established connections and unisolated pods pass"),
  L3Forwarding: table(7, "L3Forwarding", "routes: MAC rewrite toward local pods, tunnel destination toward remote pod CIDRs"),
  L3DecTTL: table(8, "L3DecTTL", "decrements the TTL of routed packets"),
  L2Forwarding: table(9, "L2Forwarding", "maps the destination MAC to the output port"),
  IngressPolicy: table(10, "IngressPolicy", "ingress NetworkPolicy: conjunctive rule flows set IngressRuleId or drop; established connections and unisolated pods pass"),
  ConntrackCommit: table(11, "ConntrackCommit", "commits new connections, recording their source kind in ct_mark and the allowing rule ids in ct_label"),
  Output: table(12, "Output", "outputs to the resolved port; drops packets with none"),
} as const;

export type TableName = keyof typeof Tables;

/** Tables in pipeline order. */
export const PIPELINE: readonly PipelineTable[] = Object.values(Tables).sort((a, b) => a.id - b.id);

/** Table names keyed by id, as Vswitch.nameFlowTables() takes them. */
export function tableNamesById(): Record<number, string> {
  return Object.fromEntries(PIPELINE.map((entry) => [entry.id, entry.name]));
}

/** Returns the table with `id`, or undefined. */
export function tableById(id: number): PipelineTable | undefined {
  return PIPELINE.find((entry) => entry.id === id);
}
