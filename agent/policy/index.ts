// Public entry of NetworkPolicy enforcement on the node: translation of the slice into
// conjunctive flows of the EgressPolicy and IngressPolicy tables, and their installation.
export { PolicyEnforcer } from "./enforcer.ts";
export type { ApplyResult, BundleSender, EnforcerLogger, IdOwner, IsolationCounter, PolicyCounters, PolicyEnforcerOptions, RuleCounter } from "./enforcer.ts";
export { followPolicyClient } from "./follow-client.ts";
export type { FollowOptions, SliceSource } from "./follow-client.ts";
export { AUDIT_MAX_LEN, baseFlows, buildPolicyFlows, DIRECTIONS, policyCookie, PolicyPriority } from "./policy-flows.ts";
export type { PolicyFlowInput } from "./policy-flows.ts";
export { planSlice } from "./rule-plan.ts";
export type { ConjunctionPlan, IsolationPlan, PortMatch, SlicePlan } from "./rule-plan.ts";
export { diffFlows, diffMessages, diffText, indexFlows } from "../pipeline/flow-diff.ts";
export type { FlowDiff } from "../pipeline/flow-diff.ts";
export { portRangeMasks } from "./port-range.ts";
export type { PortMask } from "./port-range.ts";
export { ipBlockPrefixes, parsePolicyCidr } from "./ip-block.ts";
export { IdPool, MAX_ID } from "./id-pool.ts";
export { PolicyError, PolicyErrorCode } from "./errors.ts";
export { AuditLog, auditMeterMessage, followPacketIns, summarizePacket } from "./audit.ts";
export type { AuditLogger, AuditLogOptions, AuditRecord, PacketInSource, PacketSummary } from "./audit.ts";
export type { AuditFlowOptions, RejectFlowOptions } from "./policy-flows.ts";
export { PacketInFlag } from "./policy-flows.ts";
export { buildRejectReply, RejectResponder } from "./reject.ts";
export type { PacketOutSender } from "./reject.ts";
