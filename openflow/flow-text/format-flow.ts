// Text of a flow's priority and match as ovs-ofctl prints it in dump-flows and ofp-print
// ("priority=100,tcp,in_port=1,tp_dst=80"). Message printers add the other keys around it.

import { formatMatch } from "../match/match-format.ts";
import type { Match } from "../match/match.ts";
import type { PortNameMap } from "../match/ports.ts";

export interface FlowBodyOptions {
  /** Omitted from the text when undefined or the default 32768, as ovs-ofctl does. */
  priority?: number;
  portNames?: PortNameMap;
}

/** Formats "priority=N,match" for a flow stats line or a flow_mod; "" for a default-priority match-all. */
export function formatFlowBody(match: Match, options: FlowBodyOptions = {}): string {
  return formatMatch(match, options);
}
