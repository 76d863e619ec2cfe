// The difference between the flows on the switch and the flows wanted there, as the
// FLOW_MODs of one bundle. FlowSync (every pipeline owner) and the policy enforcer both use
// it, so a flow changes the same way whichever part of the agent owns it:
//   - a flow that is new, or whose cookie changed, gets add;
//   - a flow whose instructions changed under the same cookie gets modify_strict;
//   - a flow no longer wanted gets delete_strict.
// On OpenFlow 1.3 and 1.5, OVS 3.1 keeps the packet and byte counters of a replaced flow for
// both add and modify_strict (neither sets OFPFF_RESET_COUNTS). add also sets the cookie and
// restarts the flow's duration; modify_strict keeps the installed cookie and duration, and
// creates nothing when the flow is missing. So a cookie change, such as a new restart round,
// must go through add, and modify_strict is used only where the cookie stays.
import { isDeepStrictEqual } from "node:util";
import { formatInstructions } from "../../openflow/actions/index.ts";
import { formatMatch } from "../../openflow/match/index.ts";
import type { FlowModMessage, MessageBody } from "../../openflow/messages/types.ts";
import { flowKey, type PipelineFlow } from "./flow.ts";
import { addFlowMessage, deleteFlowMessage, modifyFlowMessage } from "./flow-mod.ts";

export interface FlowDiff {
  /** Flows to add: not installed, or installed with another cookie. */
  readonly add: readonly PipelineFlow[];
  /** Flows installed with the same table, priority, match and cookie but other instructions. */
  readonly modify: readonly PipelineFlow[];
  /** Installed flows whose key is no longer wanted. */
  readonly remove: readonly PipelineFlow[];
}

export const EMPTY_DIFF: FlowDiff = { add: [], modify: [], remove: [] };

/** Indexes flows by flowKey() (table, priority, match). A later flow with an equal key replaces an earlier one. */
export function indexFlows(flows: readonly PipelineFlow[]): Map<string, PipelineFlow> {
  return new Map(flows.map((flow) => [flowKey(flow), flow]));
}

/**
 * Compares installed and desired flows, both indexed by flowKey(). Instructions are compared
 * structurally, so two lists differ whenever any action field or byte differs. Pure.
 */
export function diffFlows(installed: ReadonlyMap<string, PipelineFlow>, desired: ReadonlyMap<string, PipelineFlow>): FlowDiff {
  const add: PipelineFlow[] = [];
  const modify: PipelineFlow[] = [];
  const remove: PipelineFlow[] = [];
  for (const [key, flow] of desired) {
    const current = installed.get(key);
    if (current === undefined || current.cookie !== flow.cookie) add.push(flow);
    else if (!isDeepStrictEqual(current.instructions, flow.instructions)) modify.push(flow);
  }
  for (const [key, flow] of installed) {
    if (!desired.has(key)) remove.push(flow);
  }
  return { add, modify, remove };
}

/** Concatenates diffs, keeping each kind in the order given, for one bundle over several owners. */
export function concatDiffs(diffs: Iterable<FlowDiff>): FlowDiff {
  const add: PipelineFlow[] = [];
  const modify: PipelineFlow[] = [];
  const remove: PipelineFlow[] = [];
  for (const diff of diffs) {
    add.push(...diff.add);
    modify.push(...diff.modify);
    remove.push(...diff.remove);
  }
  return { add, modify, remove };
}

export function isEmptyDiff(diff: FlowDiff): boolean {
  return diff.add.length === 0 && diff.modify.length === 0 && diff.remove.length === 0;
}

/**
 * Returns the FLOW_MOD bodies of a diff: deletes, then modifies, then adds. In an ordered
 * bundle this lets one owner take over a flow that another owner gives up in the same
 * bundle, and packets see none of the steps.
 */
export function diffMessages(diff: FlowDiff): MessageBody<FlowModMessage>[] {
  return [...diff.remove.map(deleteFlowMessage), ...diff.modify.map(modifyFlowMessage), ...diff.add.map(addFlowMessage)];
}

/**
 * Returns the diff as lines of an `ovs-ofctl --bundle add-flows` file ("delete_strict ...",
 * "modify_strict ...", "add ..."), with numeric tables, in diffMessages() order, for an
 * operator replaying a change by hand.
 */
export function diffText(diff: FlowDiff): string[] {
  return [
    ...diff.remove.map((flow) => flowModLine("delete_strict", flow, { withActions: false })),
    ...diff.modify.map((flow) => flowModLine("modify_strict", flow, { withActions: true })),
    ...diff.add.map((flow) => flowModLine("add", flow, { withActions: true })),
  ];
}

function flowModLine(command: string, flow: PipelineFlow, options: { withActions: boolean }): string {
  const cookie = flow.cookie === 0n || !options.withActions ? "" : `cookie=0x${flow.cookie.toString(16)},`;
  const match = formatMatch(flow.match, { priority: flow.priority });
  const head = `${command} ${cookie}table=${flow.table.id}${match === "" ? "" : `,${match}`}`;
  if (!options.withActions) return head;
  return `${head} actions=${formatInstructions(flow.instructions)}`;
}
