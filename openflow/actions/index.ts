// Public entry of the OpenFlow action codec: encode, decode, parse and print OpenFlow 1.3 and
// 1.5 actions and instructions (standard, Nicira and ONF extensions) as Open vSwitch 3.1 and
// ovs-ofctl do. Every function is pure and safe to call concurrently.

export type {
  Action,
  CtAction,
  Instruction,
  LearnAction,
  LearnSpec,
  NatAction,
  SetFieldAction,
  Subfield,
} from "./types.ts";
export { INSTRUCTION_ORDER } from "./types.ts";
export { ActionError, type ActionErrorCode } from "./errors.ts";
export { encodeAction, encodeActions } from "./encode.ts";
export { decodeActionBytes, decodeActions } from "./decode.ts";
export { formatAction, formatActions, type FormatActionsOptions } from "./format.ts";
export { parseActions, type ParseActionsOptions } from "./parse.ts";
export {
  canonicalInstructions,
  decodeInstructionBytes,
  decodeInstructions,
  encodeInstructions,
  formatInstructions,
  parseInstructions,
} from "./instructions.ts";
export { OFPAT, NXAST, OFPIT, PORT, EXPERIMENTER } from "./constants.ts";
