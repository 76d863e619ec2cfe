// Builds FLOW_MOD messages from ovs-ofctl flow text ("table=0,priority=100,ip actions=drop"),
// with the defaults ovs-ofctl uses for fields the text leaves out.
import { parseFlow } from "../flow-text/index.ts";
import type { FlowCommand } from "../flow-text/index.ts";
import type { OpenFlowVersion } from "../version.ts";
import { NO_BUFFER, OFPG, OFPP, OFPTT_ALL } from "./constants.ts";
import type { FlowModMessage, MessageBody } from "./types.ts";

/** OFPFC_* number of each flow command. */
const COMMAND_NUMBERS: Readonly<Record<FlowCommand, number>> = {
  add: 0,
  modify: 1,
  modify_strict: 2,
  delete: 3,
  delete_strict: 4,
};

const FLAG_BITS: Readonly<Record<string, number>> = {
  send_flow_rem: 0x1,
  check_overlap: 0x2,
  reset_counts: 0x4,
  no_packet_counts: 0x8,
  no_byte_counts: 0x10,
};

/** Default flow priority (OFP_DEFAULT_PRIORITY). */
export const DEFAULT_PRIORITY = 0x8000;

/**
 * Parses one flow and returns its FLOW_MOD body (no version or xid). Deletes without a
 * table apply to all tables, as in ovs-ofctl. Throws FlowTextError or ActionError, whose
 * messages name the bad key or value.
 */
export function flowModFromText(
  text: string,
  options: { version: OpenFlowVersion; command?: FlowCommand },
): MessageBody<FlowModMessage> {
  const command = options.command ?? "add";
  const flow = parseFlow(text, { version: options.version, command });
  const isDelete = command === "delete" || command === "delete_strict";
  let flags = 0;
  for (const flag of flow.flags) flags |= FLAG_BITS[flag] ?? 0;
  return {
    kind: "flow_mod",
    cookie: flow.cookie ?? 0n,
    cookieMask: flow.cookieMask ?? 0n,
    tableId: flow.tableId ?? (isDelete ? OFPTT_ALL : 0),
    command: COMMAND_NUMBERS[command],
    idleTimeout: flow.idleTimeout ?? 0,
    hardTimeout: flow.hardTimeout ?? 0,
    priority: flow.priority ?? DEFAULT_PRIORITY,
    bufferId: NO_BUFFER,
    outPort: flow.outPort ?? OFPP.ANY,
    outGroup: flow.outGroup ?? OFPG.ANY,
    flags,
    importance: flow.importance ?? 0,
    match: flow.match,
    instructions: flow.instructions,
  };
}
