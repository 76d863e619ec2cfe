// The learn action (NXAST_LEARN, or NXAST_LEARN2 when a limit or result_dst is set). The
// fixed header is followed by flow_mod_spec entries. Each entry has a 16-bit header (n_bits,
// source kind, destination kind) and a source: a field header and offset, or an immediate
// padded to a multiple of 16 bits. Match and load entries then name the destination field
// and offset. Zero padding to 8 bytes follows, and a zero spec header ends the list early.

import type { BufferReader } from "../wire/reader.ts";
import type { BufferWriter } from "../wire/writer.ts";
import { bigIntToBuffer, formatHexBytes } from "./bits.ts";
import { LEARN_DEFAULT, LEARN_FLAG, LEARN_SPEC, NXAST } from "./constants.ts";
import { ActionError, badArgument } from "./errors.ts";
import {
  formatFieldValueText,
  formatSubfieldText,
  parseFieldValueText,
  parseSubfieldText,
  readFieldHeader32,
  readWireFieldHeader,
  writeNxmHeader,
} from "./field-refs.ts";
import { beginNiciraAction, expectZeros, finishAction } from "./frame.ts";
import { splitKeyValues } from "./key-value.ts";
import type { LearnAction, LearnSpec, Subfield } from "./types.ts";
import type { PortNameMap } from "../match/fields.ts";

function immediateBytes(nBits: number): number {
  return Math.ceil(nBits / 8);
}

function specBits(spec: LearnSpec): number {
  return spec.kind === "output" ? spec.source.nBits : spec.destination.nBits;
}

// ---- encode ---------------------------------------------------------------------------

function writeSubfieldRef(w: BufferWriter, subfield: Subfield): void {
  w.u32(subfield.field.header);
  w.u16(subfield.offset);
}

const LEARN_DESTINATION_KIND: Record<LearnSpec["kind"], number> = {
  match: LEARN_SPEC.DST_MATCH,
  load: LEARN_SPEC.DST_LOAD,
  output: LEARN_SPEC.DST_OUTPUT,
};

function writeSpec(w: BufferWriter, spec: LearnSpec): void {
  const nBits = specBits(spec);
  const hasImmediate = "immediate" in spec;
  const source = hasImmediate ? LEARN_SPEC.SRC_IMMEDIATE : LEARN_SPEC.SRC_FIELD;
  const destination = LEARN_DESTINATION_KIND[spec.kind];
  w.u16(nBits | source | destination);

  if ("immediate" in spec) {
    const width = 2 * Math.ceil(nBits / 16);
    w.zeros(width - spec.immediate.length).bytes(spec.immediate);
  } else {
    writeSubfieldRef(w, spec.source);
  }
  if (spec.kind !== "output") writeSubfieldRef(w, spec.destination);
}

export function encodeLearn(w: BufferWriter, action: LearnAction): void {
  const isLearn2 = action.encoding === "learn2" || action.limit !== 0 || action.resultDestination !== undefined;
  const flags = action.flags | (action.resultDestination ? LEARN_FLAG.WRITE_RESULT : 0);
  const frame = beginNiciraAction(w, isLearn2 ? NXAST.LEARN2 : NXAST.LEARN);
  w.u16(action.idleTimeout).u16(action.hardTimeout).u16(action.priority).u64(action.cookie);
  w.u16(flags).u8(action.table).u8(0).u16(action.finIdleTimeout).u16(action.finHardTimeout);
  if (isLearn2) {
    w.u32(action.limit).u16(action.resultDestination?.offset ?? 0).u16(0);
    if (action.resultDestination) writeNxmHeader(w, action.resultDestination.field);
  }
  for (const spec of action.specs) writeSpec(w, spec);
  finishAction(w, frame);
}

// ---- decode ---------------------------------------------------------------------------

/**
 * Reads a spec's field header and offset. Like Open vSwitch's decoder, this does not check
 * the range against the field width: the switch does that when it checks the flow.
 */
function readSubfieldRef(r: BufferReader, nBits: number): Subfield {
  const field = readFieldHeader32(r);
  const offset = r.u16("subfield offset");
  return { field, offset, nBits };
}

function readSpec(r: BufferReader, header: number): LearnSpec {
  const nBits = header & LEARN_SPEC.N_BITS_MASK;
  const sourceKind = header & LEARN_SPEC.SRC_MASK;
  const destinationKind = header & LEARN_SPEC.DST_MASK;
  if (destinationKind === LEARN_SPEC.DST_MASK) r.fail(`learn spec header 0x${header.toString(16)} has an unknown destination type`);
  if (destinationKind === LEARN_SPEC.DST_OUTPUT && sourceKind !== LEARN_SPEC.SRC_FIELD) r.fail("learn output spec must take its port from a field");

  let source: Subfield | undefined;
  let immediate: Buffer | undefined;
  if (sourceKind === LEARN_SPEC.SRC_FIELD) {
    source = readSubfieldRef(r, nBits);
  } else {
    const padded = r.bytes(2 * Math.ceil(nBits / 16), "learn immediate");
    immediate = Buffer.from(padded.subarray(padded.length - immediateBytes(nBits)));
  }

  if (destinationKind === LEARN_SPEC.DST_OUTPUT) return { kind: "output", source: source as Subfield };
  const destination = readSubfieldRef(r, nBits);
  if (destinationKind === LEARN_SPEC.DST_MATCH) {
    return immediate ? { kind: "match", destination, immediate } : { kind: "match", destination, source: source as Subfield };
  }
  return immediate ? { kind: "load", destination, immediate } : { kind: "load", destination, source: source as Subfield };
}

export function decodeLearn(r: BufferReader, isLearn2: boolean): LearnAction {
  const idleTimeout = r.u16("idle_timeout");
  const hardTimeout = r.u16("hard_timeout");
  const priority = r.u16("priority");
  const cookie = r.u64("cookie");
  const flags = r.u16("flags");
  const table = r.u8("table_id");
  expectZeros(r, 1, "learn pad");
  const finIdleTimeout = r.u16("fin_idle_timeout");
  const finHardTimeout = r.u16("fin_hard_timeout");
  if (table === 0xff) r.fail("learn table 255 is not a valid table");

  const allowed = LEARN_FLAG.SEND_FLOW_REM | LEARN_FLAG.DELETE_LEARNED | (isLearn2 ? LEARN_FLAG.WRITE_RESULT : 0);
  if (flags & ~allowed) r.fail(`learn flags 0x${flags.toString(16)} include unknown bits`);

  const action: LearnAction = {
    type: "learn",
    table,
    priority,
    idleTimeout,
    hardTimeout,
    finIdleTimeout,
    finHardTimeout,
    cookie,
    flags: flags & ~LEARN_FLAG.WRITE_RESULT,
    limit: 0,
    specs: [],
    encoding: isLearn2 ? "learn2" : "learn",
  };
  if (isLearn2) {
    action.limit = r.u32("limit");
    const resultOffset = r.u16("result_dst_ofs");
    expectZeros(r, 2, "learn2 pad");
    if (flags & LEARN_FLAG.WRITE_RESULT) {
      action.resultDestination = { field: readWireFieldHeader(r).field, offset: resultOffset, nBits: 1 };
    } else if (resultOffset !== 0) {
      r.fail("learn2 result_dst_ofs is set without the write_result flag");
    }
  }

  while (r.remaining >= 2) {
    const header = r.u16("learn spec header");
    if (header === 0) break;
    action.specs.push(readSpec(r, header));
  }
  expectZeros(r, r.remaining, "learn padding");
  return action;
}

// ---- format ---------------------------------------------------------------------------

function sameSubfield(a: Subfield, b: Subfield): boolean {
  return a.field.name === b.field.name && a.offset === b.offset;
}

function formatSpec(spec: LearnSpec, portNames: PortNameMap | undefined): string {
  if (spec.kind === "output") return `output:${formatSubfieldText(spec.source)}`;
  if (spec.kind === "load") {
    const source = "immediate" in spec ? formatHexBytes(spec.immediate) : formatSubfieldText(spec.source);
    return `load:${source}->${formatSubfieldText(spec.destination)}`;
  }
  const { destination } = spec;
  if ("immediate" in spec) {
    if (destination.offset === 0 && destination.nBits === destination.field.bits) {
      const value = Buffer.alloc(destination.field.bytes);
      spec.immediate.copy(value, value.length - spec.immediate.length);
      return `${destination.field.name}=${formatFieldValueText(destination.field, value, undefined, portNames)}`;
    }
    return `${formatSubfieldText(destination)}=${formatHexBytes(spec.immediate)}`;
  }
  const text = formatSubfieldText(destination);
  return sameSubfield(spec.source, destination) ? text : `${text}=${formatSubfieldText(spec.source)}`;
}

export function formatLearn(action: LearnAction, portNames?: PortNameMap): string {
  const parts = [`table=${action.table}`];
  if (action.idleTimeout !== 0) parts.push(`idle_timeout=${action.idleTimeout}`);
  if (action.hardTimeout !== 0) parts.push(`hard_timeout=${action.hardTimeout}`);
  if (action.finIdleTimeout !== 0) parts.push(`fin_idle_timeout=${action.finIdleTimeout}`);
  if (action.finHardTimeout !== 0) parts.push(`fin_hard_timeout=${action.finHardTimeout}`);
  if (action.priority !== LEARN_DEFAULT.PRIORITY) parts.push(`priority=${action.priority}`);
  if (action.flags & LEARN_FLAG.SEND_FLOW_REM) parts.push("send_flow_rem");
  if (action.flags & LEARN_FLAG.DELETE_LEARNED) parts.push("delete_learned");
  if (action.cookie !== 0n) parts.push(`cookie=0x${action.cookie.toString(16)}`);
  if (action.limit !== 0) parts.push(`limit=${action.limit}`);
  if (action.resultDestination) parts.push(`result_dst=${formatSubfieldText(action.resultDestination)}`);
  for (const spec of action.specs) parts.push(formatSpec(spec, portNames));
  return `learn(${parts.join(",")})`;
}

// ---- parse ----------------------------------------------------------------------------

/** Parses a decimal or 0x-hex integer of any width into `size` bytes; undefined if malformed or too wide. */
function parseWideInteger(text: string, size: number): Buffer | undefined {
  if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) return undefined;
  const value = BigInt(text);
  if (value >> BigInt(size * 8) !== 0n) return undefined;
  return bigIntToBuffer(value, size);
}

function parseNumber(text: string, key: string, max: number): number {
  if (!/^[0-9]+$/.test(text) || Number(text) > max) badArgument("learn", `${key}=${text}`, `an integer from 0 to ${max}`);
  return Number(text);
}

/** Returns the subfield `text` names, or undefined when it is not a subfield (e.g. an immediate). */
function tryParseSubfield(text: string): Subfield | undefined {
  try {
    return parseSubfieldText(text, "learn");
  } catch {
    return undefined;
  }
}

function parseMatchSpec(name: string, value: string, context: { whole: string; portNames: PortNameMap | undefined }): LearnSpec {
  const { whole } = context;
  const destination = parseSubfieldText(name, "learn");
  if (value === "") return { kind: "match", destination, source: destination };

  const source = tryParseSubfield(value);
  if (source) {
    if (source.nBits !== destination.nBits) {
      throw new ActionError("BAD_ARGUMENT", `invalid learn argument "${whole}": bit widths of ${name} (${destination.nBits}) and ${value} (${source.nBits}) differ`);
    }
    return { kind: "match", destination, source };
  }

  const size = immediateBytes(destination.nBits);
  if (destination.offset === 0 && destination.nBits === destination.field.bits) {
    const { value: full } = parseFieldValueText(destination.field, value, "learn", context.portNames);
    return { kind: "match", destination, immediate: Buffer.from(full.subarray(full.length - size)) };
  }
  const immediate = parseWideInteger(value, destination.field.bytes);
  if (!immediate || BigInt(`0x${immediate.toString("hex")}`) >> BigInt(destination.nBits) !== 0n) {
    throw new ActionError("BAD_ARGUMENT", `invalid learn argument "${whole}": ${value} is not an integer that fits into ${destination.nBits} bits`);
  }
  return { kind: "match", destination, immediate: Buffer.from(immediate.subarray(immediate.length - size)) };
}

function parseLoadSpec(value: string): LearnSpec {
  const arrow = value.indexOf("->");
  if (arrow <= 0) throw new ActionError("BAD_ARGUMENT", `invalid learn argument "load:${value}": expected load:VALUE->FIELD[..] or load:FIELD[..]->FIELD[..]`);
  const sourceText = value.slice(0, arrow);
  const destination = parseSubfieldText(value.slice(arrow + 2), "learn load");

  if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(sourceText)) {
    const number = BigInt(sourceText);
    if (number >> BigInt(destination.nBits) !== 0n) {
      throw new ActionError("BAD_ARGUMENT", `invalid learn argument "load:${value}": value does not fit into ${destination.nBits} bits`);
    }
    return { kind: "load", destination, immediate: bigIntToBuffer(number, immediateBytes(destination.nBits)) };
  }
  const source = parseSubfieldText(sourceText, "learn load");
  if (source.nBits !== destination.nBits) {
    throw new ActionError("BAD_ARGUMENT", `invalid learn argument "load:${value}": source is ${source.nBits} bits but destination is ${destination.nBits} bits`);
  }
  return { kind: "load", destination, source };
}

/** Parses the text inside learn(...); `portNames` resolves port names in immediates such as in_port=vm1. */
export function parseLearn(text: string, portNames?: PortNameMap): LearnAction {
  const action: LearnAction = {
    type: "learn",
    table: LEARN_DEFAULT.TABLE,
    priority: LEARN_DEFAULT.PRIORITY,
    idleTimeout: 0,
    hardTimeout: 0,
    finIdleTimeout: 0,
    finHardTimeout: 0,
    cookie: 0n,
    flags: 0,
    limit: 0,
    specs: [],
  };

  for (const { key, value, delimiter } of splitKeyValues(text)) {
    switch (key) {
      case "table":
        action.table = parseNumber(value, key, 254);
        break;
      case "priority":
        action.priority = parseNumber(value, key, 0xffff);
        break;
      case "idle_timeout":
        action.idleTimeout = parseNumber(value, key, 0xffff);
        break;
      case "hard_timeout":
        action.hardTimeout = parseNumber(value, key, 0xffff);
        break;
      case "fin_idle_timeout":
        action.finIdleTimeout = parseNumber(value, key, 0xffff);
        break;
      case "fin_hard_timeout":
        action.finHardTimeout = parseNumber(value, key, 0xffff);
        break;
      case "limit":
        action.limit = parseNumber(value, key, 0xffffffff);
        break;
      case "cookie": {
        const cookie = parseWideInteger(value, 8);
        if (!cookie) badArgument("learn", `cookie=${value}`, "a 64-bit integer such as 0x123");
        action.cookie = cookie.readBigUInt64BE();
        break;
      }
      case "send_flow_rem":
        action.flags |= LEARN_FLAG.SEND_FLOW_REM;
        break;
      case "delete_learned":
        action.flags |= LEARN_FLAG.DELETE_LEARNED;
        break;
      case "result_dst": {
        const destination = parseSubfieldText(value, "learn result_dst");
        if (!destination.field.writable) throw new ActionError("BAD_ARGUMENT", `invalid learn argument: ${value} is read-only`);
        if (destination.nBits !== 1) throw new ActionError("BAD_ARGUMENT", `invalid learn argument "result_dst=${value}": result_dst must be a single bit such as NXM_NX_REG0[8]`);
        action.resultDestination = destination;
        break;
      }
      case "load":
        action.specs.push(parseLoadSpec(value));
        break;
      case "output":
        action.specs.push({ kind: "output", source: parseSubfieldText(value, "learn output") });
        break;
      default: {
        const whole = delimiter === "" ? key : `${key}${delimiter}${value}`;
        action.specs.push(parseMatchSpec(key, value, { whole, portNames }));
      }
    }
  }
  return action;
}
