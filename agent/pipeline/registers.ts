// Every register, ct_mark and ct_label bit range the pipeline uses, with its meaning. A new
// use of a register bit is added here first, so an overlap shows in review and in the unit
// test that checks every pair of ranges.
//
// Ranges are inclusive bit numbers, bit 0 the least significant, as in ovs-ofctl's
// NXM_NX_REG0[4..7] notation.

/** Where a bit range lives: one of the 32-bit registers reg0..reg15, ct_mark (32 bits) or ct_label (128 bits). */
export type RegisterSpace = `reg${number}` | "ct_mark" | "ct_label";

export interface BitRange {
  /** Short name used in code and in docs/pipeline.md. */
  readonly name: string;
  readonly space: RegisterSpace;
  /** Lowest bit of the range. */
  readonly start: number;
  /** Highest bit of the range (inclusive). */
  readonly end: number;
  /** What the bits mean and which tables write and read them. */
  readonly meaning: string;
}

/** Width in bits of each register space. */
export function spaceWidth(space: RegisterSpace): number {
  if (space === "ct_label") return 128;
  return 32;
}

/** Values of PacketSource: the kind of port a packet entered the bridge through. */
export const PacketSource = {
  gateway: 1,
  tunnel: 2,
  pod: 3,
} as const;
export type PacketSource = (typeof PacketSource)[keyof typeof PacketSource];

/** Source of the packet (PacketSource values), written by Classifier. */
export const PACKET_SOURCE: BitRange = {
  name: "PacketSource",
  space: "reg0",
  start: 0,
  end: 3,
  meaning: "kind of port the packet came in on: 1 gateway, 2 tunnel, 3 pod; set in Classifier",
};

/** Set when L2Forwarding found the output port and stored it in TARGET_OFPORT. */
export const OUTPUT_RESOLVED: BitRange = {
  name: "OutputResolved",
  space: "reg0",
  start: 8,
  end: 8,
  meaning: "1 when TargetOfport holds the output port; set in L2Forwarding, read in Output",
};

/** Reserved for the Service hook: set when a Service chose an endpoint (filled by later work). */
export const SERVICE_RESOLVED: BitRange = {
  name: "ServiceResolved",
  space: "reg0",
  start: 9,
  end: 9,
  meaning: "reserved: 1 once the Service tables chose an endpoint",
};

/** Reserved for policy: the disposition a policy rule chose (allow 0, drop 1, reject 2). */
export const POLICY_DISPOSITION: BitRange = {
  name: "PolicyDisposition",
  space: "reg0",
  start: 10,
  end: 11,
  meaning: "reserved: action of the matched policy rule, 0 allow, 1 drop, 2 reject",
};

/** OpenFlow port the packet leaves through, read by output:NXM_NX_REG1[]. */
export const TARGET_OFPORT: BitRange = {
  name: "TargetOfport",
  space: "reg1",
  start: 0,
  end: 31,
  meaning: "output port number; written in L2Forwarding, read in Output",
};

/** Conjunction id of the egress rule that allowed the packet; 0 when no egress rule matched. */
export const EGRESS_RULE_ID: BitRange = {
  name: "EgressRuleId",
  space: "reg3",
  start: 0,
  end: 31,
  meaning: "conjunction id of the egress policy rule that allowed the packet, 0 if none; written in EgressPolicy, read in ConntrackCommit",
};

/** Conjunction id of the ingress rule that allowed the packet; 0 when no ingress rule matched. */
export const INGRESS_RULE_ID: BitRange = {
  name: "IngressRuleId",
  space: "reg4",
  start: 0,
  end: 31,
  meaning: "conjunction id of the ingress policy rule that allowed the packet, 0 if none; written in IngressPolicy, read in ConntrackCommit",
};

/** Source kind of the connection, copied from PACKET_SOURCE when the connection is committed. */
export const CT_SOURCE: BitRange = {
  name: "ConnectionSource",
  space: "ct_mark",
  start: 0,
  end: 3,
  meaning: "PacketSource of the packet that opened the connection; written by ct(commit) in ConntrackCommit",
};

/** Reserved for the Service hook: the connection was load balanced to an endpoint. */
export const CT_SERVICE: BitRange = {
  name: "ConnectionServiced",
  space: "ct_mark",
  start: 4,
  end: 4,
  meaning: "reserved: 1 when the connection went through Service load balancing",
};

/** Egress rule id that allowed the connection, copied from EGRESS_RULE_ID at commit, for audit and dump-conntrack. */
export const CT_LABEL_EGRESS_RULE: BitRange = {
  name: "ConnectionEgressRule",
  space: "ct_label",
  start: 0,
  end: 31,
  meaning: "EgressRuleId of the packet that opened the connection, 0 if none; written by ct(commit) in ConntrackCommit",
};

/** Ingress rule id that allowed the connection, copied from INGRESS_RULE_ID at commit. */
export const CT_LABEL_INGRESS_RULE: BitRange = {
  name: "ConnectionIngressRule",
  space: "ct_label",
  start: 32,
  end: 63,
  meaning: "IngressRuleId of the packet that opened the connection, 0 if none; written by ct(commit) in ConntrackCommit",
};

/** Every allocated range, in the order docs/pipeline.md lists them. */
export const BIT_RANGES: readonly BitRange[] = [
  PACKET_SOURCE,
  OUTPUT_RESOLVED,
  SERVICE_RESOLVED,
  POLICY_DISPOSITION,
  TARGET_OFPORT,
  EGRESS_RULE_ID,
  INGRESS_RULE_ID,
  CT_SOURCE,
  CT_SERVICE,
  CT_LABEL_EGRESS_RULE,
  CT_LABEL_INGRESS_RULE,
];

/** Conntrack zone of all pod traffic on the bridge. */
export const CT_ZONE = 65520;

/** Returns the ovs-ofctl subfield name of a range, e.g. "NXM_NX_REG0[0..3]" or "NXM_NX_CT_MARK[0..3]". */
export function subfieldText(range: BitRange): string {
  const base = `NXM_NX_${range.space.toUpperCase()}`;
  if (range.start === 0 && range.end === spaceWidth(range.space) - 1) return `${base}[]`;
  if (range.start === range.end) return `${base}[${range.start}]`;
  return `${base}[${range.start}..${range.end}]`;
}

/** Returns the value/mask pair matching `value` in `range`, as bigints positioned in the whole field. */
export function rangeValueMask(range: BitRange, value: number | bigint): { value: bigint; mask: bigint } {
  const width = BigInt(range.end - range.start + 1);
  const limit = 1n << width;
  const numeric = BigInt(value);
  if (numeric < 0n || numeric >= limit) {
    throw new RangeError(`value ${numeric} does not fit in ${range.name} (${width} bits)`);
  }
  const shift = BigInt(range.start);
  return { value: numeric << shift, mask: (limit - 1n) << shift };
}
