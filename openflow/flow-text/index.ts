// Public entry of whole-flow text: parseFlow for `ovs-ofctl add-flow` style lines and
// formatFlowBody for the priority-and-match part of printed flows.

export { FLOW_FLAG_NAMES, parseFlow } from "./parse-flow.ts";
export type { FlowCommand, FlowFlag, ParsedFlow, ParseFlowOptions } from "./parse-flow.ts";
export { formatFlowBody } from "./format-flow.ts";
export type { FlowBodyOptions } from "./format-flow.ts";
export { FlowTextError, FlowTextErrorCode } from "./errors.ts";
