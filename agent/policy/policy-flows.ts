// Builds the OpenFlow flows of the policy tables from conjunction and isolation plans.
//
// Per direction (EgressPolicy table 6, IngressPolicy table 10), from the highest priority:
//
//   210  established and related connections pass without evaluation
//   201  rules that restrict only the applied-to pods (every peer, every port): one plain
//        allow flow per pod, because OVS needs at least 2 clauses for a conjunction
//   200  conjunctive rules: one flow per clause element carrying conjunction(id,k/n),
//        shared between rules when the match is equal, and one conj_id=id flow that allows
//   100  isolation: one drop flow per isolated pod, with its own cookie for the counters
//     0  table-miss of the pipeline: pods selected by no policy pass
//
// Applied-to pods are matched by address: the source address for egress (SpoofGuard has
// checked it), the destination address for ingress.
import type { Cidr } from "../../common/net/cidr.ts";
import { prefixMask } from "../../common/net/cidr.ts";
import type { Direction } from "../../controller/networkpolicy/types.ts";
import type { Action, Instruction } from "../../openflow/actions/index.ts";
import type { ConjunctionAction } from "../../openflow/actions/types.ts";
import { PACKET_IN_REASON } from "../../openflow/actions/constants.ts";
import { lookupField, type FieldInfo } from "../../openflow/match/fields.ts";
import { formatMatch, MatchBuilder } from "../../openflow/match/index.ts";
import { CookieCategory, encodeCookie } from "../pipeline/cookie.ts";
import { CtState, type PipelineFlow } from "../pipeline/flow.ts";
import {
  EGRESS_RULE_ID,
  INGRESS_RULE_ID,
  type BitRange,
} from "../pipeline/registers.ts";
import { Tables, type PipelineTable } from "../pipeline/tables.ts";
import type { ConjunctionPlan, IsolationPlan, PortMatch } from "./rule-plan.ts";

/** Priorities inside the policy tables. */
export const PolicyPriority = {
  established: 210,
  /** Rules with a single clause (the applied-to pods). */
  singleClause: 201,
  conjunction: 200,
  isolation: 100,
} as const;

/** The policy table of one direction, the table allowed packets go on to, and the rule-id register. */
export interface DirectionTables {
  readonly table: PipelineTable;
  readonly next: PipelineTable;
  readonly ruleId: BitRange;
}

export const DIRECTIONS: Readonly<Record<Direction, DirectionTables>> = {
  Egress: { table: Tables.EgressPolicy, next: Tables.L3Forwarding, ruleId: EGRESS_RULE_ID },
  Ingress: { table: Tables.IngressPolicy, next: Tables.ConntrackCommit, ruleId: INGRESS_RULE_ID },
};

/** Input of buildPolicyFlows(). */
export interface PolicyFlowInput {
  /** Restart round of this agent run, the top 16 bits of every cookie. */
  readonly round: number;
  /** Plans to install with their conjunction ids. A plan with an empty clause must not be passed. */
  readonly conjunctions: readonly { readonly plan: ConjunctionPlan; readonly id: number }[];
  /** Isolated pods with the ids that name their drop flows. */
  readonly isolation: readonly { readonly plan: IsolationPlan; readonly id: number }[];
  /** Audit logging; absent: no flow sends packets to the controller for the log. */
  readonly audit?: AuditFlowOptions;
  /** Reject instead of drop; absent: every isolation flow drops silently. */
  readonly reject?: RejectFlowOptions;
}

/**
 * The reject settings: drop flows of pods that a rejecting policy isolates send the packet to
 * the controller, which replies to it (reject.ts). The meter limits the rate of those packets,
 * and it replaces the audit meter on a drop flow that is both audited and rejecting.
 */
export interface RejectFlowOptions {
  readonly meterId: number;
  readonly rejected: (policyId: string) => boolean;
}

/**
 * Bits of the last userdata byte of a policy packet-in. The userdata is 5 bytes: the flow's id
 * as 4 big-endian bytes, then these flags.
 */
export const PacketInFlag = {
  audit: 0x01,
  reject: 0x02,
} as const;

/**
 * The audit settings: the flows that send a copy of the packet to the controller, and the
 * meter limiting their rate. A rule's allow flow sends one when its policy is audited. A drop
 * flow sends one when any policy isolating the pod in that direction is audited.
 */
export interface AuditFlowOptions {
  readonly meterId: number;
  readonly audited: (policyId: string) => boolean;
}

/** Bytes of each packet's headers copied to the controller; enough for Ethernet, IPv4 with options and the ports. */
export const AUDIT_MAX_LEN = 128;

/**
 * Returns every rule and isolation flow, with equal matches merged into one flow: a clause
 * flow shared by several conjunctions carries all their conjunction() actions, sorted by id.
 * Does not include baseFlows(). Pure.
 */
export function buildPolicyFlows(input: PolicyFlowInput): PipelineFlow[] {
  const merged = new FlowMerger();
  const sorted = [...input.conjunctions].sort((a, b) => a.id - b.id);
  for (const { plan, id } of sorted) {
    const audit = input.audit !== undefined && input.audit.audited(plan.policyId) ? { meterId: input.audit.meterId, flags: PacketInFlag.audit } : undefined;
    addConjunctionFlows({ merged, plan, id, round: input.round, packetIn: audit });
  }
  const flows = merged.flows();
  for (const { plan, id } of input.isolation) {
    flows.push(isolationFlow({ plan, id, round: input.round, packetIn: isolationPacketIn(input, plan) }));
  }
  return flows;
}

/**
 * Returns the flows the policy tables need whatever the policies are: the bypass for
 * established and related connections in both tables. The pipeline's own commit flow in
 * ConntrackCommit records the allowing rules' ids in ct_label.
 */
export function baseFlows(round: number): PipelineFlow[] {
  const cookie = policyCookie(round, 0);
  const flows: PipelineFlow[] = [];
  for (const direction of ["Egress", "Ingress"] as const) {
    const { table, next } = DIRECTIONS[direction];
    for (const state of [{ set: CtState.est | CtState.trk, mask: CtState.new | CtState.est | CtState.trk }, { set: CtState.rel | CtState.trk, mask: CtState.rel | CtState.trk }]) {
      const match = new MatchBuilder();
      match.setCanonical("eth_type", 0x0800n);
      match.setCanonical("ct_state", BigInt(state.set), BigInt(state.mask));
      flows.push({ table, priority: PolicyPriority.established, cookie, match: match.build(), instructions: [{ type: "goto_table", table: next.id }] });
    }
  }
  return flows;
}

/** Cookie of a policy flow: category policy, owner the conjunction or drop id (0 for shared flows). */
export function policyCookie(round: number, owner: number): bigint {
  return encodeCookie({ round, category: CookieCategory.policy, owner });
}

/** One element of a clause: a key naming its match, and the function that sets the match. */
interface ClauseElement {
  /** Equal keys mean equal matches in one table, so the key finds a shared flow without building its match. */
  readonly key: string;
  readonly apply: (match: MatchBuilder) => void;
}

/** Returns the clauses of a plan in conjunction order (applied-to, peers, ports), leaving out unrestricted ones. */
function clausesOf(plan: ConjunctionPlan): ClauseElement[][] {
  const appliedToField = plan.direction === "Egress" ? "ip_src" : "ip_dst";
  const peerField = plan.direction === "Egress" ? "ip_dst" : "ip_src";
  const prefixElement = (name: "ip_src" | "ip_dst", prefix: Cidr): ClauseElement => ({
    // A /0 prefix matches any address, so its flow is plain `ip` whichever field it names.
    key: prefix.prefixLength === 0 ? "ip" : `${name}=${prefix.network}/${prefix.prefixLength}`,
    apply: (match) => setPrefix(match, name, prefix),
  });
  const clauses = [plan.appliedTo.map((prefix) => prefixElement(appliedToField, prefix))];
  if (plan.peers !== null) clauses.push(plan.peers.map((prefix) => prefixElement(peerField, prefix)));
  if (plan.ports !== null) {
    clauses.push(plan.ports.map((port) => ({ key: `${port.protocol}=${port.port?.value ?? "*"}/${port.port?.mask ?? 0}`, apply: (match: MatchBuilder) => setPort(match, port) })));
  }
  return clauses;
}

/** The meter and PacketInFlag bits of a flow's controller action. */
interface PacketInSettings {
  readonly meterId: number;
  readonly flags: number;
}

/** Returns the packet-in settings of a drop flow, or undefined when it drops silently without audit. */
function isolationPacketIn(input: PolicyFlowInput, plan: IsolationPlan): PacketInSettings | undefined {
  const audited = input.audit !== undefined && plan.policyIds.some(input.audit.audited);
  const rejected = input.reject !== undefined && plan.policyIds.some(input.reject.rejected);
  const flags = (audited ? PacketInFlag.audit : 0) | (rejected ? PacketInFlag.reject : 0);
  if (rejected && input.reject !== undefined) return { meterId: input.reject.meterId, flags };
  if (audited && input.audit !== undefined) return { meterId: input.audit.meterId, flags };
  return undefined;
}

function addConjunctionFlows(options: { merged: FlowMerger; plan: ConjunctionPlan; id: number; round: number; packetIn: PacketInSettings | undefined }): void {
  const { merged, plan, id, round } = options;
  const { table, next, ruleId } = DIRECTIONS[plan.direction];
  const clauses = clausesOf(plan);
  const allow = allowInstructions({ ruleId, id, next, packetIn: options.packetIn });

  if (clauses.length === 1) {
    // One clause cannot form a conjunction, so each applied-to pod gets a plain allow flow.
    // When two such rules cover one pod, the lower id (added first) keeps the flow.
    for (const element of clauses[0] ?? []) {
      merged.addPlain({ table, priority: PolicyPriority.singleClause, cookie: policyCookie(round, id), match: buildMatch(element.apply), instructions: allow });
    }
    return;
  }

  clauses.forEach((elements, clause) => {
    for (const element of elements) {
      const action: ConjunctionAction = { type: "conjunction", id, clause, nClauses: clauses.length };
      merged.addConjunction({ table, element, action, cookie: policyCookie(round, 0) });
    }
  });
  const match = new MatchBuilder();
  match.setCanonical("conj_id", BigInt(id));
  merged.addPlain({ table, priority: PolicyPriority.conjunction, cookie: policyCookie(round, id), match: match.build(), instructions: allow });
}

function allowInstructions(options: { ruleId: BitRange; id: number; next: PipelineTable; packetIn: PacketInSettings | undefined }): Instruction[] {
  const register = field(options.ruleId.space);
  const value = Buffer.alloc(register.bytes);
  value.writeUInt32BE(options.id);
  const actions: Action[] = [{ type: "set_field", field: register, value }];
  if (options.packetIn !== undefined) actions.push(packetInAction(options.id, options.packetIn));
  return [
    { type: "apply_actions", actions },
    { type: "goto_table", table: options.next.id },
  ];
}

function isolationFlow(options: { plan: IsolationPlan; id: number; round: number; packetIn: PacketInSettings | undefined }): PipelineFlow {
  const { plan } = options;
  const match = new MatchBuilder();
  setPrefix(match, plan.direction === "Egress" ? "ip_src" : "ip_dst", plan.address);
  const instructions: Instruction[] = options.packetIn === undefined ? [] : [{ type: "apply_actions", actions: [packetInAction(options.id, options.packetIn)] }];
  return { table: DIRECTIONS[plan.direction].table, priority: PolicyPriority.isolation, cookie: policyCookie(options.round, options.id), match: match.build(), instructions };
}

/** Returns the controller action of the audit log and reject: userdata is the id and the PacketInFlag bits, rate limited by the meter. */
function packetInAction(id: number, settings: PacketInSettings): Action {
  const userdata = Buffer.alloc(5);
  userdata.writeUInt32BE(id);
  userdata[4] = settings.flags;
  return { type: "controller", maxLen: AUDIT_MAX_LEN, controllerId: 0, reason: PACKET_IN_REASON.action, userdata, pause: false, meterId: settings.meterId };
}

function buildMatch(apply: (match: MatchBuilder) => void): MatchBuilder {
  const match = new MatchBuilder();
  apply(match);
  return match;
}

function setPrefix(match: MatchBuilder, name: "ip_src" | "ip_dst", prefix: Cidr): void {
  match.setCanonical("eth_type", 0x0800n);
  const mask = prefix.prefixLength === 32 ? undefined : prefixMask("IPv4", prefix.prefixLength);
  match.setCanonical(name, prefix.network, mask);
}

const PROTOCOL_NUMBERS = { TCP: 6n, UDP: 17n, SCTP: 132n } as const;
const DESTINATION_PORT_FIELDS = { TCP: "tcp_dst", UDP: "udp_dst", SCTP: "sctp_dst" } as const;

function setPort(match: MatchBuilder, port: PortMatch): void {
  match.setCanonical("eth_type", 0x0800n);
  match.setCanonical("nw_proto", PROTOCOL_NUMBERS[port.protocol]);
  if (port.port === undefined) return;
  const mask = port.port.mask === 0xffff ? undefined : BigInt(port.port.mask);
  match.setCanonical(DESTINATION_PORT_FIELDS[port.protocol], BigInt(port.port.value), mask);
}

function field(name: string): FieldInfo {
  const info = lookupField(name);
  if (info === undefined) throw new Error(`internal: field ${name} is not registered in the openflow package`);
  return info;
}

/** Collects flows by table, priority and match, merging conjunction actions of equal matches. */
class FlowMerger {
  readonly #flows = new Map<string, { flow: PipelineFlow; conjunctions: ConjunctionAction[] }>();

  addConjunction(options: { table: PipelineTable; element: ClauseElement; action: ConjunctionAction; cookie: bigint }): void {
    // Clause keys are prefixed so they never equal the formatted-match keys of addPlain().
    const key = `${options.table.id}/clause/${options.element.key}`;
    const existing = this.#flows.get(key);
    if (existing !== undefined) {
      existing.conjunctions.push(options.action);
      return;
    }
    const match = buildMatch(options.element.apply).build();
    const flow: PipelineFlow = { table: options.table, priority: PolicyPriority.conjunction, cookie: options.cookie, match, instructions: [] };
    this.#flows.set(key, { flow, conjunctions: [options.action] });
  }

  /** Adds a flow without conjunction actions; an equal match already present wins. */
  addPlain(flow: Omit<PipelineFlow, "match"> & { match: MatchBuilder | PipelineFlow["match"] }): void {
    const match = flow.match instanceof MatchBuilder ? flow.match.build() : flow.match;
    const key = `${flow.table.id}/${formatMatch(match, { priority: flow.priority })}`;
    if (!this.#flows.has(key)) this.#flows.set(key, { flow: { ...flow, match }, conjunctions: [] });
  }

  flows(): PipelineFlow[] {
    return [...this.#flows.values()].map(({ flow, conjunctions }) => {
      if (conjunctions.length === 0) return flow;
      const actions = [...conjunctions].sort((a, b) => a.id - b.id || a.clause - b.clause);
      return { ...flow, instructions: [{ type: "apply_actions", actions }] };
    });
  }
}
