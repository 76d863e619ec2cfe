// OpenFlow 1.1+ instructions: apply_actions, write_actions, clear_actions, write_metadata,
// goto_table and, in OpenFlow 1.3 only, meter. ovs-ofctl writes them as one flat list
// (`meter:1,output:2,write_actions(...),goto_table:3`) in a fixed order; Open vSwitch emits
// them in that order and omits an apply_actions or write_actions with no actions.

import { BufferReader } from "../wire/reader.ts";
import { BufferWriter } from "../wire/writer.ts";
import { OpenFlowVersion, versionName } from "../version.ts";
import { OFPIT } from "./constants.ts";
import { decodeActions } from "./decode.ts";
import { encodeActions } from "./encode.ts";
import { ActionError } from "./errors.ts";
import { formatActions, type FormatActionsOptions } from "./format.ts";
import { parseItems, verifyActionList, type ParseActionsOptions } from "./parse.ts";
import { INSTRUCTION_ORDER, type Action, type Instruction } from "./types.ts";

// ---- encode ---------------------------------------------------------------------------

function writeActionsInstruction(w: BufferWriter, type: number, actions: readonly Action[], version: OpenFlowVersion): void {
  if (actions.length === 0) return;
  const start = w.length;
  w.u16(type);
  const length = w.beginLength(start);
  w.zeros(4);
  encodeActions(w, actions, version);
  w.endLength(length);
}

function encodeInstruction(w: BufferWriter, instruction: Instruction, version: OpenFlowVersion): void {
  switch (instruction.type) {
    case "meter":
      if (version === OpenFlowVersion.OF15) {
        throw new ActionError("UNSUPPORTED_IN_VERSION", `the meter instruction does not exist in ${versionName(version)}: put the meter action first in apply_actions`);
      }
      w.u16(OFPIT.METER).u16(8).u32(instruction.meterId);
      return;
    case "apply_actions":
      return writeActionsInstruction(w, OFPIT.APPLY_ACTIONS, instruction.actions, version);
    case "write_actions":
      return writeActionsInstruction(w, OFPIT.WRITE_ACTIONS, instruction.actions, version);
    case "clear_actions":
      w.u16(OFPIT.CLEAR_ACTIONS).u16(8).zeros(4);
      return;
    case "write_metadata":
      w.u16(OFPIT.WRITE_METADATA).u16(24).zeros(4).u64(instruction.metadata).u64(instruction.mask);
      return;
    case "goto_table":
      w.u16(OFPIT.GOTO_TABLE).u16(8).u8(instruction.table).zeros(3);
      return;
    case "unknown":
      w.bytes(instruction.bytes);
      return;
  }
}

/**
 * Appends instructions in the wire form Open vSwitch 3.1 uses for `version`, in the given
 * order. Throws ActionError UNSUPPORTED_IN_VERSION for the meter instruction in OpenFlow 1.5
 * or the meter action in OpenFlow 1.3.
 */
export function encodeInstructions(w: BufferWriter, instructions: readonly Instruction[], version: OpenFlowVersion): void {
  for (const instruction of instructions) encodeInstruction(w, instruction, version);
}

// ---- decode ---------------------------------------------------------------------------

function expectLength(r: BufferReader, name: string, length: number, expected: number): void {
  if (length !== expected) r.fail(`${name} instruction has length ${length}, but it must be ${expected}`);
}

/** An instruction's header and its whole bytes (kept for unknown instructions). */
interface InstructionFrame {
  type: number;
  length: number;
  whole: Buffer;
}

function decodeInstruction(r: BufferReader, frame: InstructionFrame, version: OpenFlowVersion): Instruction | undefined {
  const { type, length } = frame;
  switch (type) {
    case OFPIT.GOTO_TABLE:
      expectLength(r, "goto_table", length, 8);
      return { type: "goto_table", table: r.u8("table_id") };
    case OFPIT.WRITE_METADATA:
      expectLength(r, "write_metadata", length, 24);
      r.skip(4, "write_metadata pad");
      return { type: "write_metadata", metadata: r.u64("metadata"), mask: r.u64("metadata_mask") };
    case OFPIT.WRITE_ACTIONS:
    case OFPIT.APPLY_ACTIONS: {
      r.skip(4, "instruction pad");
      const actions = decodeActions(r.sub(r.remaining, type === OFPIT.APPLY_ACTIONS ? "apply_actions" : "write_actions"), version);
      // An empty apply_actions is the same as none; Open vSwitch drops it.
      if (type === OFPIT.APPLY_ACTIONS) return actions.length === 0 ? undefined : { type: "apply_actions", actions };
      return { type: "write_actions", actions };
    }
    case OFPIT.CLEAR_ACTIONS:
      expectLength(r, "clear_actions", length, 8);
      return { type: "clear_actions" };
    case OFPIT.METER:
      if (version === OpenFlowVersion.OF15) r.fail("the meter instruction does not exist in OpenFlow 1.5, which uses the meter action");
      expectLength(r, "meter", length, 8);
      return { type: "meter", meterId: r.u32("meter_id") };
    default:
      return { type: "unknown", bytes: frame.whole };
  }
}

function orderOf(instruction: Instruction): number {
  const index = INSTRUCTION_ORDER.indexOf(instruction.type);
  return index === -1 ? INSTRUCTION_ORDER.length : index;
}

/**
 * Decodes instructions until the reader is exhausted and returns them in Open vSwitch's
 * order (meter, apply, clear, write_actions, write_metadata, goto_table, then unknown ones).
 * Throws OpenFlowDecodeError for a bad length or a duplicated instruction.
 */
export function decodeInstructions(r: BufferReader, version: OpenFlowVersion): Instruction[] {
  const instructions: Instruction[] = [];
  const seen = new Set<number>();
  while (r.remaining > 0) {
    if (r.remaining < 4) r.fail(`${r.remaining} trailing bytes are too short for an instruction header`);
    const start = r.position;
    const type = r.u16("instruction type");
    const length = r.u16("instruction length");
    if (length < 8 || length % 8 !== 0) r.fail(`instruction type ${type} has length ${length}, which is not a positive multiple of 8`);
    if (length - 4 > r.remaining) r.fail(`instruction type ${type} length ${length} exceeds the ${r.remaining + 4} bytes left`);
    if (seen.has(type)) r.fail(`instruction type ${type} appears twice`);
    seen.add(type);

    const whole = Buffer.from(r.buffer.subarray(start, start + length));
    const instruction = decodeInstruction(r.sub(length - 4, `instruction type ${type}`), { type, length, whole }, version);
    if (instruction) instructions.push(instruction);
  }
  return instructions.sort((a, b) => orderOf(a) - orderOf(b));
}

/** Decodes a standalone instruction list held in `bytes`. */
export function decodeInstructionBytes(bytes: Buffer, version: OpenFlowVersion): Instruction[] {
  return decodeInstructions(new BufferReader(bytes, "instructions"), version);
}

/**
 * Returns instructions as a switch running Open vSwitch reports them back for `version`:
 * encoded, then decoded again. Two flows carry the same instructions when their canonical
 * forms print the same text. Throws like encodeInstructions.
 */
export function canonicalInstructions(instructions: readonly Instruction[], version: OpenFlowVersion): Instruction[] {
  const w = new BufferWriter();
  encodeInstructions(w, instructions, version);
  return decodeInstructionBytes(w.toBuffer(), version);
}

// ---- format ---------------------------------------------------------------------------

function formatInstruction(instruction: Instruction, options: FormatActionsOptions): string {
  switch (instruction.type) {
    case "meter":
      return `meter:${instruction.meterId}`;
    case "apply_actions":
      return formatActions(instruction.actions, options);
    case "write_actions":
      return `write_actions(${formatActions(instruction.actions, options)})`;
    case "clear_actions":
      return "clear_actions";
    case "write_metadata": {
      const mask = instruction.mask === 0xffffffffffffffffn ? "" : `/0x${instruction.mask.toString(16)}`;
      return `write_metadata:0x${instruction.metadata.toString(16)}${mask}`;
    }
    case "goto_table":
      return `goto_table:${instruction.table}`;
    case "unknown":
      return `unknown_instruction(${instruction.bytes.toString("hex")})`;
  }
}

/** Prints instructions as ovs-ofctl prints the "actions=" value; "drop" when nothing remains. */
export function formatInstructions(instructions: readonly Instruction[], options: FormatActionsOptions = {}): string {
  const parts = instructions
    .filter((instruction) => !(instruction.type === "apply_actions" && instruction.actions.length === 0))
    .map((instruction) => formatInstruction(instruction, options));
  return parts.length === 0 ? "drop" : parts.join(",");
}

// ---- parse ----------------------------------------------------------------------------

/** Throws unless an instruction of kind `next` may follow one of kind `previous` (-1 for none). */
function checkOrder(previous: number, next: number): void {
  if (next > previous) return;
  const nextName = INSTRUCTION_ORDER[next] ?? "unknown";
  const previousName = INSTRUCTION_ORDER[previous] ?? "unknown";
  const message =
    next === previous
      ? `duplicate ${nextName} instruction not allowed`
      : `invalid instruction ordering: ${nextName} must appear before ${previousName}`;
  throw new ActionError("BAD_INSTRUCTION_ORDER", `${message} (the order is ${INSTRUCTION_ORDER.join(", ")})`);
}

/**
 * Parses the "actions=" text of a flow: actions and the instruction keywords meter,
 * clear_actions, write_actions(...), write_metadata and goto_table. checkOrder rejects them
 * unless they come in that order (actions after meter, before the rest), each at most once.
 * The actions become one apply_actions. Throws ActionError. Pure and safe to call concurrently.
 */
export function parseInstructions(text: string, options: ParseActionsOptions): Instruction[] {
  const applyOrder = INSTRUCTION_ORDER.indexOf("apply_actions");
  const instructions: Instruction[] = [];
  let apply: Action[] | undefined;
  let previous = -1;

  for (const item of parseItems(text, options)) {
    if (item.kind === "action") {
      if (!apply) {
        checkOrder(previous, applyOrder);
        apply = [];
        instructions.push({ type: "apply_actions", actions: apply });
      } else if (previous !== applyOrder) {
        checkOrder(previous, applyOrder);
      }
      apply.push(item.action);
      previous = applyOrder;
    } else if (item.kind === "instruction") {
      const order = orderOf(item.instruction);
      checkOrder(previous, order);
      instructions.push(item.instruction);
      previous = order;
    }
  }

  for (const instruction of instructions) {
    if (instruction.type === "apply_actions" || instruction.type === "write_actions") verifyActionList(instruction.actions, { insideCt: false });
  }
  const conjunction = instructions.some((instruction) => instruction.type === "apply_actions" && instruction.actions.some((action) => action.type === "conjunction"));
  if (conjunction && instructions.length > 1) {
    throw new ActionError("BAD_INSTRUCTION_ORDER", `"conjunction" actions may be used along with "note" but not with instructions such as ${instructions.find((i) => i.type !== "apply_actions")?.type}`);
  }
  return instructions;
}
