// The difference between the flows on the switch and the flows the policies need, as the
// FLOW_MODs of one bundle. New flows get add, and flows no longer needed get delete_strict.
// Flows whose actions changed get modify_strict, so their packet counters survive.
import { formatInstructions } from "../../openflow/actions/index.ts";
import { formatMatch } from "../../openflow/match/index.ts";
import { NO_BUFFER, OFPG, OFPP } from "../../openflow/messages/constants.ts";
import type { FlowModMessage, MessageBody } from "../../openflow/messages/types.ts";
import { flowKey, formatFlow, type PipelineFlow } from "../pipeline/flow.ts";

/** OFPFC_* commands of FLOW_MOD. */
const FlowCommand = {
  add: 0,
  modifyStrict: 2,
  deleteStrict: 4,
} as const;

export interface FlowDiff {
  readonly add: readonly PipelineFlow[];
  /** Flows whose table, priority and match are installed with other actions. */
  readonly modify: readonly PipelineFlow[];
  readonly remove: readonly PipelineFlow[];
}

/** Indexes flows by flowKey() (table, priority, match). A later flow with an equal key replaces an earlier one. */
export function indexFlows(flows: readonly PipelineFlow[]): Map<string, PipelineFlow> {
  return new Map(flows.map((flow) => [flowKey(flow), flow]));
}

/**
 * Compares installed and desired flows by key. A changed cookie counts as a change that needs
 * an add, because modify_strict keeps the installed cookie. Pure.
 */
export function diffFlows(installed: ReadonlyMap<string, PipelineFlow>, desired: ReadonlyMap<string, PipelineFlow>): FlowDiff {
  const add: PipelineFlow[] = [];
  const modify: PipelineFlow[] = [];
  const remove: PipelineFlow[] = [];
  for (const [key, flow] of desired) {
    const current = installed.get(key);
    if (current === undefined || current.cookie !== flow.cookie) add.push(flow);
    else if (instructionsText(current) !== instructionsText(flow)) modify.push(flow);
  }
  for (const [key, flow] of installed) {
    if (!desired.has(key)) remove.push(flow);
  }
  return { add, modify, remove };
}

export function isEmptyDiff(diff: FlowDiff): boolean {
  return diff.add.length === 0 && diff.modify.length === 0 && diff.remove.length === 0;
}

/** Returns the FLOW_MOD bodies of a diff: deletes, then modifies, then adds. Inside a bundle the order is not visible to packets. */
export function diffMessages(diff: FlowDiff): MessageBody<FlowModMessage>[] {
  return [
    ...diff.remove.map((flow) => flowMod(flow, FlowCommand.deleteStrict)),
    ...diff.modify.map((flow) => flowMod(flow, FlowCommand.modifyStrict)),
    ...diff.add.map((flow) => flowMod(flow, FlowCommand.add)),
  ];
}

/**
 * Returns the diff as lines of an `ovs-ofctl --bundle add-flows` file ("delete_strict ...",
 * "modify_strict ...", "add ..."), with numeric tables, for an operator replaying a change by hand.
 */
export function diffText(diff: FlowDiff): string[] {
  const line = (command: string, flow: PipelineFlow, withActions: boolean): string => {
    const cookie = flow.cookie === 0n || !withActions ? "" : `cookie=0x${flow.cookie.toString(16)},`;
    const match = formatMatch(flow.match, { priority: flow.priority });
    const head = `${command} ${cookie}table=${flow.table.id}${match === "" ? "" : `,${match}`}`;
    if (!withActions) return head;
    return `${head} actions=${formatInstructions(flow.instructions)}`;
  };
  return [
    ...diff.remove.map((flow) => line("delete_strict", flow, false)),
    ...diff.modify.map((flow) => line("modify_strict", flow, true)),
    ...diff.add.map((flow) => line("add", flow, true)),
  ];
}

function instructionsText(flow: PipelineFlow): string {
  return formatFlow({ ...flow, cookie: 0n });
}

function flowMod(flow: PipelineFlow, command: number): MessageBody<FlowModMessage> {
  return {
    kind: "flow_mod",
    cookie: flow.cookie,
    cookieMask: 0n,
    tableId: flow.table.id,
    command,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: flow.priority,
    bufferId: NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    importance: 0,
    match: flow.match,
    instructions: command === FlowCommand.deleteStrict ? [] : [...flow.instructions],
  };
}
