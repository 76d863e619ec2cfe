// Text of SET_ASYNC and GET_ASYNC_REPLY as ovs-ofctl prints them: for each role, every
// asynchronous message type with the reasons enabled, or "(off)".
import type { AsyncConfigMessage } from "../messages/types.ts";
import { FLOW_REMOVED_REASONS, PACKET_IN_REASONS } from "./names.ts";

const PORT_STATUS_REASONS = ["add", "delete", "modify"] as const;

function reasons(mask: number, names: readonly string[]): string {
  const enabled = names.filter((_, bit) => (mask & (1 << bit)) !== 0);
  return enabled.length === 0 ? "(off)" : enabled.join(" ");
}

/** Formats the masks of both roles; OpenFlow 1.3 has no role-status, table-status or requestforward masks. */
export function formatAsyncConfig(m: AsyncConfigMessage): string {
  const roles = [" primary:", " secondary:"];
  return roles
    .map((title, role) => {
      const rows: [string, string][] = [
        ["PACKET_IN", reasons(m.packetInMask[role] ?? 0, PACKET_IN_REASONS)],
        ["PORT_STATUS", reasons(m.portStatusMask[role] ?? 0, PORT_STATUS_REASONS)],
        ["FLOW_REMOVED", reasons(m.flowRemovedMask[role] ?? 0, FLOW_REMOVED_REASONS)],
        ["ROLE_STATUS", "(off)"],
        ["TABLE_STATUS", "(off)"],
        ["REQUESTFORWARD", "(off)"],
      ];
      return `\n${title}` + rows.map(([name, value]) => `\n${name.padStart(16)}: ${value}`).join("");
    })
    .join("\n");
}
