// The FLOW_MOD bodies the agent sends for its structured flows. Every command here is strict
// (one flow, found by table, priority and match) except the round delete, which selects by
// cookie mask across all tables.
import { NO_BUFFER, OFPG, OFPP, OFPTT_ALL } from "../../openflow/messages/constants.ts";
import type { FlowModMessage, MessageBody } from "../../openflow/messages/types.ts";
import { MATCH_ALL } from "../../openflow/match/index.ts";
import { roundCookieMask } from "./cookie.ts";
import type { PipelineFlow } from "./flow.ts";

/** OFPFC_* values of the FLOW_MOD command field (OpenFlow 1.3 and 1.5). */
export const FlowCommand = {
  add: 0,
  modifyStrict: 2,
  deleteAny: 3,
  deleteStrict: 4,
} as const;
export type FlowCommand = (typeof FlowCommand)[keyof typeof FlowCommand];

/**
 * Returns the FLOW_MOD body that adds `flow`. A flow with the same table, priority and match
 * is replaced: it takes the new cookie and its duration restarts, but from OpenFlow 1.2 on
 * its counters stay, because the flags leave OFPFF_RESET_COUNTS off.
 */
export function addFlowMessage(flow: PipelineFlow): MessageBody<FlowModMessage> {
  return strictFlowMod(flow, FlowCommand.add);
}

/**
 * Returns the FLOW_MOD body that replaces the instructions of the flow with `flow`'s table,
 * priority and match. From OpenFlow 1.2 on, the switch keeps that flow's cookie, counters and
 * duration, and adds nothing when no such flow exists (OVS 3.1 ofproto/ofproto.c,
 * modify_may_add_flow), so `flow.cookie` is not applied.
 */
export function modifyFlowMessage(flow: PipelineFlow): MessageBody<FlowModMessage> {
  return strictFlowMod(flow, FlowCommand.modifyStrict);
}

/** Returns the FLOW_MOD body that deletes exactly the flow with `flow`'s table, priority and match. */
export function deleteFlowMessage(flow: PipelineFlow): MessageBody<FlowModMessage> {
  return strictFlowMod(flow, FlowCommand.deleteStrict);
}

/** Returns the FLOW_MOD body deleting every flow of `round` in all tables (cookie mask delete). */
export function deleteRoundMessage(round: number): MessageBody<FlowModMessage> {
  const { cookie, mask } = roundCookieMask(round);
  return {
    ...emptyFlowMod(FlowCommand.deleteAny),
    cookie,
    cookieMask: mask,
    tableId: OFPTT_ALL,
    match: MATCH_ALL,
  };
}

/** Builds a strict FLOW_MOD. Its cookie mask of 0 makes the switch select the flow by table, priority and match alone. */
function strictFlowMod(flow: PipelineFlow, command: FlowCommand): MessageBody<FlowModMessage> {
  return {
    ...emptyFlowMod(command),
    cookie: flow.cookie,
    tableId: flow.table.id,
    priority: flow.priority,
    match: flow.match,
    instructions: command === FlowCommand.deleteStrict ? [] : [...flow.instructions],
  };
}

function emptyFlowMod(command: FlowCommand): MessageBody<FlowModMessage> {
  return {
    kind: "flow_mod",
    cookie: 0n,
    cookieMask: 0n,
    tableId: 0,
    command,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 0,
    bufferId: NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    importance: 0,
    match: MATCH_ALL,
    instructions: [],
  };
}
