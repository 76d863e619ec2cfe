// Translates a node's NetworkPolicy slice into conjunction plans: for each rule, the three
// clause lists (applied-to pods, peers, ports) that the flow builder turns into flows.
// Translation is pure: the same slice always gives the same plans in the same order.
//
// A rule with named ports can need several plans, because a named port resolves to a number
// per pod. An ingress rule splits its applied-to pods, an egress rule its peer addresses, by
// the port numbers their names resolve to, and each part is a plan of its own.
//
// NOTE: the pipeline forwards IPv4 only, so IPv6 pod addresses and CIDRs are left out here.
import { isIPv4 } from "node:net";
import type { Cidr } from "../../common/net/cidr.ts";
import { parseAddress } from "../../common/net/cidr.ts";
import type {
  AddressMember,
  AppliedToMember,
  Direction,
  InternalPolicy,
  NamedPort,
  NodeSlice,
  PolicyRule,
  Protocol,
  RulePort,
} from "../../controller/networkpolicy/types.ts";
import { ipBlockPrefixes } from "./ip-block.ts";
import { portRangeMasks, type PortMask } from "./port-range.ts";

/** One entry of a port clause: a protocol and, unless every port matches, a masked port. */
export interface PortMatch {
  readonly protocol: Protocol;
  /** Absent: every port of the protocol. */
  readonly port?: PortMask;
}

/**
 * One conjunction to install. `peers` or `ports` null means the rule does not restrict that
 * dimension, so the conjunction has fewer clauses.
 */
export interface ConjunctionPlan {
  /** Stable identity across slices: the rule id, plus the resolved named ports when there are any. */
  readonly key: string;
  readonly ruleId: string;
  readonly policyId: string;
  readonly direction: Direction;
  /** IPv4 addresses of the applied-to pods on this node, as /32 prefixes. */
  readonly appliedTo: readonly Cidr[];
  readonly peers: readonly Cidr[] | null;
  readonly ports: readonly PortMatch[] | null;
}

/** A pod that policies isolate in one direction: what no rule allows is dropped. */
export interface IsolationPlan {
  /** Stable identity across slices: direction and pod address. */
  readonly key: string;
  readonly direction: Direction;
  /** The pod's IPv4 address. */
  readonly address: Cidr;
  /** "namespace/name" of the pod, for counters and logs. */
  readonly pod: string;
  /** The policies that isolate the pod in this direction, sorted. */
  readonly policyIds: readonly string[];
}

export interface SlicePlan {
  readonly conjunctions: readonly ConjunctionPlan[];
  readonly isolation: readonly IsolationPlan[];
}

/** Computes the plans of every policy in the slice. Pure and deterministic. */
export function planSlice(slice: NodeSlice): SlicePlan {
  const context = new SliceIndex(slice);
  const conjunctions: ConjunctionPlan[] = [];
  for (const policy of slice.policies) {
    const members = context.appliedToMembers(policy);
    for (const rule of policy.rules) {
      if (!policy.policyTypes.includes(rule.direction)) continue;
      conjunctions.push(...planRule({ policy, rule, members, context }));
    }
  }
  return { conjunctions, isolation: planIsolation(slice, context) };
}

/** Returns one isolation plan per pod address and direction that some policy isolates, sorted by key. */
function planIsolation(slice: NodeSlice, context: SliceIndex): IsolationPlan[] {
  const isolation = new Map<string, IsolationPlan & { policyIds: string[] }>();
  for (const policy of slice.policies) {
    const members = context.appliedToMembers(policy);
    for (const direction of policy.policyTypes) {
      for (const member of members) {
        for (const address of ipv4Addresses(member.ips)) {
          const key = `${direction}/${address.text}`;
          const existing = isolation.get(key);
          if (existing === undefined) {
            isolation.set(key, { key, direction, address: address.cidr, pod: `${member.namespace}/${member.name}`, policyIds: [policy.id] });
          } else if (!existing.policyIds.includes(policy.id)) {
            existing.policyIds.push(policy.id);
          }
        }
      }
    }
  }
  const sorted = [...isolation.values()].sort((a, b) => compareText(a.key, b.key));
  return sorted.map((entry) => ({ ...entry, policyIds: [...entry.policyIds].sort(compareText) }));
}

/** Lookups into one slice. */
class SliceIndex {
  readonly #appliedTo: Map<string, readonly AppliedToMember[]>;
  readonly #addresses: Map<string, readonly AddressMember[]>;

  constructor(slice: NodeSlice) {
    this.#appliedTo = new Map(slice.appliedToGroups.map((group) => [group.id, group.members]));
    this.#addresses = new Map(slice.addressGroups.map((group) => [group.id, group.members]));
  }

  appliedToMembers(policy: InternalPolicy): readonly AppliedToMember[] {
    return this.#appliedTo.get(policy.appliedToGroup) ?? [];
  }

  /** Returns the members of the rule's address groups. A group missing from the slice counts as empty. */
  addressMembers(groups: readonly string[]): AddressMember[] {
    return groups.flatMap((id) => this.#addresses.get(id) ?? []);
  }
}

interface RuleInput {
  readonly policy: InternalPolicy;
  readonly rule: PolicyRule;
  readonly members: readonly AppliedToMember[];
  readonly context: SliceIndex;
}

/** Returns the plans of one rule: one, or one per group of pods whose named ports resolve alike. */
function planRule(input: RuleInput): ConjunctionPlan[] {
  const { rule } = input;
  const numeric = rule.ports?.filter((entry) => entry.portName === undefined) ?? [];
  const named = rule.ports?.filter((entry) => entry.portName !== undefined) ?? [];
  const numericMatches = uniquePorts(numeric.flatMap(portMatches));

  if (rule.direction === "Ingress") return planIngress(input, { numericMatches, named });
  return planEgress(input, { numericMatches, named });
}

interface RulePorts {
  readonly numericMatches: PortMatch[];
  readonly named: readonly RulePort[];
}

function planIngress(input: RuleInput, ports: RulePorts): ConjunctionPlan[] {
  const { rule, members } = input;
  const peers = rule.peers === null ? null : peerPrefixes(input.context.addressMembers(rule.peers.addressGroups), rule.peers.ipBlocks);
  if (ports.named.length === 0) {
    const appliedTo = memberPrefixes(members);
    return [makePlan(input, { key: rule.id, appliedTo, peers, ports: rule.ports === null ? null : ports.numericMatches })];
  }

  // Named ports of an ingress rule resolve against each applied-to pod's own container ports.
  const groups = groupBy(members, (member) => resolveNamed(ports.named, member.namedPorts));
  return [...groups].map(([resolved, group]) =>
    makePlan(input, {
      key: resolved.length === 0 ? rule.id : `${rule.id}#${resolvedKey(resolved)}`,
      appliedTo: memberPrefixes(group),
      peers,
      ports: uniquePorts([...ports.numericMatches, ...resolved]),
    }),
  );
}

function planEgress(input: RuleInput, ports: RulePorts): ConjunctionPlan[] {
  const { rule, members } = input;
  const appliedTo = memberPrefixes(members);
  const portList = rule.ports === null ? null : ports.numericMatches;
  if (rule.peers === null) {
    // NOTE: with no peer list the destinations are unknown, so named ports of an egress rule
    // to every peer cannot be resolved and only the rule's numeric ports are enforced.
    return [makePlan(input, { key: rule.id, appliedTo, peers: null, ports: portList })];
  }
  const addressMembers = input.context.addressMembers(rule.peers.addressGroups);
  if (ports.named.length === 0) {
    return [makePlan(input, { key: rule.id, appliedTo, peers: peerPrefixes(addressMembers, rule.peers.ipBlocks), ports: portList })];
  }

  // Named ports of an egress rule resolve against each destination pod's container ports.
  // ipBlock addresses have no pod behind them, so they only get the numeric ports.
  const groups = groupBy(addressMembers, (member) => resolveNamed(ports.named, member.namedPorts));
  if (!groups.has(NO_RESOLVED)) groups.set(NO_RESOLVED, []);
  return [...groups].map(([resolved, group]) =>
    makePlan(input, {
      key: resolved.length === 0 ? rule.id : `${rule.id}#${resolvedKey(resolved)}`,
      appliedTo,
      peers: peerPrefixes(group, resolved.length === 0 ? (rule.peers?.ipBlocks ?? []) : []),
      ports: uniquePorts([...ports.numericMatches, ...resolved]),
    }),
  );
}

function makePlan(input: RuleInput, parts: { key: string; appliedTo: Cidr[]; peers: Cidr[] | null; ports: PortMatch[] | null }): ConjunctionPlan {
  return { ruleId: input.rule.id, policyId: input.policy.id, direction: input.rule.direction, ...parts };
}

/** The shared empty resolution, so groupBy() puts every pod without named ports in one group. */
const NO_RESOLVED: PortMatch[] = [];

/** Resolves named rule ports against one pod's container ports; a name the pod lacks resolves to nothing. */
function resolveNamed(named: readonly RulePort[], podPorts: readonly NamedPort[]): PortMatch[] {
  const resolved = named.flatMap((entry) => {
    const found = podPorts.find((port) => port.name === entry.portName && port.protocol === entry.protocol);
    return found === undefined ? [] : [{ protocol: entry.protocol, port: { value: found.port, mask: 0xffff } }];
  });
  return resolved.length === 0 ? NO_RESOLVED : uniquePorts(resolved);
}

/** Groups items by an array of port matches, comparing the arrays by content. */
function groupBy<T>(items: readonly T[], keyOf: (item: T) => PortMatch[]): Map<PortMatch[], T[]> {
  const byText = new Map<string, { key: PortMatch[]; items: T[] }>();
  for (const item of items) {
    const key = keyOf(item);
    const text = resolvedKey(key);
    const entry = byText.get(text) ?? { key, items: [] };
    entry.items.push(item);
    byText.set(text, entry);
  }
  const sorted = [...byText.entries()].sort(([a], [b]) => compareText(a, b));
  return new Map(sorted.map(([, entry]) => [entry.key, entry.items]));
}

function resolvedKey(ports: readonly PortMatch[]): string {
  return ports.map(portKey).join(",");
}

function portKey(match: PortMatch): string {
  return match.port === undefined ? match.protocol : `${match.protocol}:${match.port.value}/${match.port.mask}`;
}

/** Returns the matches of one numeric port entry: the whole protocol, one port, or a masked range. */
function portMatches(entry: RulePort): PortMatch[] {
  if (entry.port === undefined) return [{ protocol: entry.protocol }];
  const masks = portRangeMasks(entry.port, entry.endPort ?? entry.port);
  return masks.map((port) => (port.mask === 0 ? { protocol: entry.protocol } : { protocol: entry.protocol, port }));
}

/** Removes duplicates and sorts by protocol, then port value, then mask. */
function uniquePorts(matches: readonly PortMatch[]): PortMatch[] {
  const byKey = new Map(matches.map((match) => [portKey(match), match]));
  return [...byKey.values()].sort(
    (a, b) => compareText(a.protocol, b.protocol) || (a.port?.value ?? -1) - (b.port?.value ?? -1) || (a.port?.mask ?? -1) - (b.port?.mask ?? -1),
  );
}

function memberPrefixes(members: readonly AppliedToMember[]): Cidr[] {
  return uniquePrefixes(members.flatMap((member) => ipv4Addresses(member.ips).map((address) => address.cidr)));
}

function peerPrefixes(members: readonly AddressMember[], blocks: readonly { cidr: string; except: string[] }[]): Cidr[] {
  const hosts = members.flatMap((member) => ipv4Addresses([member.ip]).map((address) => address.cidr));
  const ranges = blocks.flatMap((block) => ipBlockPrefixes(block)).filter((prefix) => prefix.family === "IPv4");
  return uniquePrefixes([...hosts, ...ranges]);
}

function ipv4Addresses(ips: readonly string[]): { text: string; cidr: Cidr }[] {
  return ips.filter((ip) => isIPv4(ip)).map((ip) => ({ text: ip, cidr: { family: "IPv4", network: parseAddress(ip), prefixLength: 32 } }));
}

/** Removes duplicates and sorts by address, then by prefix length. */
function uniquePrefixes(prefixes: readonly Cidr[]): Cidr[] {
  const byKey = new Map(prefixes.map((prefix) => [`${prefix.network}/${prefix.prefixLength}`, prefix]));
  return [...byKey.values()].sort((a, b) => {
    if (a.network === b.network) return a.prefixLength - b.prefixLength;
    return a.network < b.network ? -1 : 1;
  });
}

function compareText(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
