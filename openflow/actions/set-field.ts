// Field-writing actions: set_field, load (NXAST_REG_LOAD, REG_LOAD2) and move (NXAST_REG_MOVE,
// ONF copy_field, OFPAT_COPY_FIELD). Which wire form is used depends on the version exactly as
// in Open vSwitch 3.1:
//   - OpenFlow 1.5 has no reg_load or reg_move: every set is OFPAT_SET_FIELD (masked when
//     partial) and every move is OFPAT_COPY_FIELD.
//   - OpenFlow 1.3 set_field carries no mask, so a partial set (or one that arrived as load)
//     becomes one NXAST_REG_LOAD per run of mask bits. A move is NXAST_REG_MOVE unless it
//     arrived as ONF copy_field.

import type { BufferReader } from "../wire/reader.ts";
import type { BufferWriter } from "../wire/writer.ts";
import { OpenFlowVersion } from "../version.ts";
import { bigIntToBuffer, extractBits, formatHexInteger, isAllOnes, maskRuns, placeBits, rangeMask } from "./bits.ts";
import { EXPERIMENTER, NXAST, OFPAT, ONFACT } from "./constants.ts";
import { ActionError } from "./errors.ts";
import {
  formatFieldValueText,
  formatSubfieldText,
  hasNxmHeader,
  parseFieldValueText,
  parseSubfieldText,
  readFieldHeader32,
  readWireFieldHeader,
  resolveWritableField,
  writeNxmHeader,
  writeWireFieldHeader,
} from "./field-refs.ts";
import { beginAction, beginNiciraAction, expectZeros, finishAction } from "./frame.ts";
import type { MoveAction, SetFieldAction, Subfield } from "./types.ts";
import type { PortNameMap } from "../match/fields.ts";

// ---- encode ---------------------------------------------------------------------------

function isPartial(action: SetFieldAction): boolean {
  return action.mask !== undefined && !isAllOnes(action.mask);
}

function writeOfpSetField(w: BufferWriter, action: SetFieldAction, version: OpenFlowVersion): void {
  const masked = isPartial(action);
  const frame = beginAction(w, OFPAT.SET_FIELD);
  writeWireFieldHeader(w, action.field, { hasMask: masked, version });
  w.bytes(action.value);
  if (masked && action.mask) w.bytes(action.mask);
  finishAction(w, frame);
}

function writeRegLoad(w: BufferWriter, destination: Subfield, value: bigint): void {
  const frame = beginNiciraAction(w, NXAST.REG_LOAD);
  w.u16((destination.offset << 6) | (destination.nBits - 1));
  writeNxmHeader(w, destination.field);
  w.u64(value);
  finishAction(w, frame);
}

function writeRegLoad2(w: BufferWriter, action: SetFieldAction): void {
  const masked = isPartial(action);
  const frame = beginNiciraAction(w, NXAST.REG_LOAD2);
  writeNxmHeader(w, action.field, { hasMask: masked });
  w.bytes(action.value);
  if (masked && action.mask) w.bytes(action.mask);
  finishAction(w, frame);
}

/** Writes the NXAST form of a set: REG_LOAD per run of mask bits, or REG_LOAD2 when needed. */
function writeNiciraLoad(w: BufferWriter, action: SetFieldAction): void {
  if (action.encoding === "reg_load2" || !hasNxmHeader(action.field)) {
    writeRegLoad2(w, action);
    return;
  }
  const mask = action.mask ?? Buffer.alloc(action.field.bytes, 0xff);
  for (const run of maskRuns(mask, action.field.bits)) {
    const value = extractBits(action.value, run.offset, run.nBits);
    writeRegLoad(w, { field: action.field, offset: run.offset, nBits: run.nBits }, value);
  }
}

export function encodeSetField(w: BufferWriter, action: SetFieldAction, version: OpenFlowVersion): void {
  if (version === OpenFlowVersion.OF15) {
    writeOfpSetField(w, action, version);
  } else if (action.encoding === "reg_load" || action.encoding === "reg_load2" || isPartial(action)) {
    writeNiciraLoad(w, action);
  } else {
    writeOfpSetField(w, action, version);
  }
}

export function encodeMove(w: BufferWriter, action: MoveAction, version: OpenFlowVersion): void {
  const { source, destination } = action;
  if (version === OpenFlowVersion.OF15) {
    const frame = beginAction(w, OFPAT.COPY_FIELD);
    w.u16(destination.nBits).u16(source.offset).u16(destination.offset).zeros(2);
    writeWireFieldHeader(w, source.field, { hasMask: false, version });
    writeWireFieldHeader(w, destination.field, { hasMask: false, version });
    finishAction(w, frame);
  } else if (action.encoding === "onf_copy_field") {
    const frame = beginAction(w, OFPAT.EXPERIMENTER);
    w.u32(EXPERIMENTER.ONF).u16(ONFACT.COPY_FIELD).zeros(2);
    w.u16(destination.nBits).u16(source.offset).u16(destination.offset).zeros(2);
    writeWireFieldHeader(w, source.field, { hasMask: false, version });
    writeWireFieldHeader(w, destination.field, { hasMask: false, version });
    finishAction(w, frame);
  } else {
    const frame = beginNiciraAction(w, NXAST.REG_MOVE);
    w.u16(destination.nBits).u16(source.offset).u16(destination.offset);
    writeNxmHeader(w, source.field);
    writeNxmHeader(w, destination.field);
    finishAction(w, frame);
  }
}

// ---- decode ---------------------------------------------------------------------------

function checkRange(r: BufferReader, subfield: Subfield, role: string): void {
  if (subfield.nBits < 1 || subfield.offset + subfield.nBits > subfield.field.bits) {
    r.fail(`${role} ${subfield.field.name}[${subfield.offset}..${subfield.offset + subfield.nBits - 1}] exceeds its ${subfield.field.bits}-bit field`);
  }
}

function checkWritable(r: BufferReader, action: SetFieldAction): void {
  if (action.field.writable === false) r.fail(`destination field ${action.field.name} is not writable`);
}

/** Decodes OFPAT_SET_FIELD; a mask is accepted only in OpenFlow 1.5. */
export function decodeOfpSetField(r: BufferReader, version: OpenFlowVersion): SetFieldAction {
  const { field, hasMask } = readWireFieldHeader(r);
  if (hasMask && version !== OpenFlowVersion.OF15) r.fail(`set_field of ${field.name} carries a mask, which OpenFlow 1.3 does not allow`);
  const value = Buffer.from(r.bytes(field.bytes, `${field.name} value`));
  const mask = hasMask ? Buffer.from(r.bytes(field.bytes, `${field.name} mask`)) : undefined;
  expectZeros(r, r.remaining, "set_field padding");
  const action: SetFieldAction = mask && !isAllOnes(mask) ? { type: "set_field", field, value, mask } : { type: "set_field", field, value };
  checkWritable(r, action);
  return action;
}

export function decodeRegLoad(r: BufferReader): SetFieldAction {
  const ofsNbits = r.u16("ofs_nbits");
  const field = readFieldHeader32(r);
  const destination: Subfield = { field, offset: ofsNbits >> 6, nBits: (ofsNbits & 0x3f) + 1 };
  checkRange(r, destination, "load destination");
  const value = r.u64("value");
  if (destination.nBits < 64 && value >> BigInt(destination.nBits) !== 0n) {
    r.fail(`load value ${formatHexInteger(value)} does not fit in ${destination.nBits} bits`);
  }
  const action: SetFieldAction = {
    type: "set_field",
    field,
    value: placeBits(value, field.bytes, destination.offset),
    mask: rangeMask(field.bytes, destination.offset, destination.nBits),
    encoding: "reg_load",
  };
  checkWritable(r, action);
  return action;
}

export function decodeRegLoad2(r: BufferReader): SetFieldAction {
  const { field, hasMask } = readWireFieldHeader(r);
  const value = Buffer.from(r.bytes(field.bytes, `${field.name} value`));
  const mask = hasMask ? Buffer.from(r.bytes(field.bytes, `${field.name} mask`)) : undefined;
  expectZeros(r, r.remaining, "reg_load2 padding");
  const action: SetFieldAction = mask ? { type: "set_field", field, value, mask, encoding: "reg_load2" } : { type: "set_field", field, value, encoding: "reg_load2" };
  checkWritable(r, action);
  return action;
}

function decodeMoveBody(r: BufferReader, counts: { nBits: number; srcOffset: number; dstOffset: number }): MoveAction {
  const source = readWireFieldHeader(r).field;
  const destination = readWireFieldHeader(r).field;
  expectZeros(r, r.remaining, "move padding");
  const action: MoveAction = {
    type: "move",
    source: { field: source, offset: counts.srcOffset, nBits: counts.nBits },
    destination: { field: destination, offset: counts.dstOffset, nBits: counts.nBits },
  };
  checkRange(r, action.source, "move source");
  checkRange(r, action.destination, "move destination");
  return action;
}

export function decodeRegMove(r: BufferReader): MoveAction {
  const nBits = r.u16("n_bits");
  const srcOffset = r.u16("src_ofs");
  const dstOffset = r.u16("dst_ofs");
  return { ...decodeMoveBody(r, { nBits, srcOffset, dstOffset }), encoding: "reg_move" };
}

/** Decodes the copy_field body shared by OFPAT_COPY_FIELD and the ONF 1.3 extension. */
export function decodeCopyField(r: BufferReader, encoding: "copy_field" | "onf_copy_field"): MoveAction {
  const nBits = r.u16("n_bits");
  const srcOffset = r.u16("src_offset");
  const dstOffset = r.u16("dst_offset");
  r.skip(2, "copy_field pad");
  return { ...decodeMoveBody(r, { nBits, srcOffset, dstOffset }), encoding };
}

// ---- format ---------------------------------------------------------------------------

export function formatSetField(action: SetFieldAction, portNames?: PortNameMap): string {
  if (action.encoding === "reg_load") {
    const mask = action.mask ?? Buffer.alloc(action.field.bytes, 0xff);
    return maskRuns(mask, action.field.bits)
      .map((run) => {
        const value = extractBits(action.value, run.offset, run.nBits);
        const destination = formatSubfieldText({ field: action.field, offset: run.offset, nBits: run.nBits });
        return `load:${formatHexInteger(value)}->${destination}`;
      })
      .join(",");
  }
  const mask = action.mask && !isAllOnes(action.mask) ? action.mask : undefined;
  return `set_field:${formatFieldValueText(action.field, action.value, mask, portNames)}->${action.field.name}`;
}

export function formatMove(action: MoveAction): string {
  return `move:${formatSubfieldText(action.source)}->${formatSubfieldText(action.destination)}`;
}

// ---- parse ----------------------------------------------------------------------------

function splitArrow(text: string, action: string, expected: string): [string, string] {
  const arrow = text.indexOf("->");
  if (arrow === -1) throw new ActionError("BAD_ARGUMENT", `invalid ${action} argument "${text}": missing "->", expected ${expected}`);
  const destination = text.slice(arrow + 2);
  if (destination === "") throw new ActionError("BAD_ARGUMENT", `invalid ${action} argument "${text}": missing field name after "->", expected ${expected}`);
  return [text.slice(0, arrow), destination];
}

/** Parses `VALUE[/MASK]->FIELD`, e.g. `10.0.0.1->nw_dst` or `0x1/0xff->reg0`. */
export function parseSetField(text: string, portNames?: PortNameMap): SetFieldAction {
  const [valueText, fieldName] = splitArrow(text, "set_field", "VALUE[/MASK]->FIELD such as set_field:10.0.0.1->nw_dst");
  const field = resolveWritableField(fieldName, "set_field");
  const { value, mask } = parseFieldValueText(field, valueText, "set_field", portNames);
  return mask && !isAllOnes(mask) ? { type: "set_field", field, value, mask } : { type: "set_field", field, value };
}

function parseInteger(text: string): bigint | undefined {
  if (/^0x[0-9a-f]+$/i.test(text) || /^[0-9]+$/.test(text)) return BigInt(text);
  return undefined;
}

/** Parses `VALUE->DST[ofs..end]`, e.g. `0x1->NXM_NX_REG0[0..7]`. */
export function parseLoad(text: string): SetFieldAction {
  const expected = "VALUE->FIELD[START..END] such as load:0x1->NXM_NX_REG0[0..7]";
  const [valueText, destinationText] = splitArrow(text, "load", expected);
  const destination = parseSubfieldText(destinationText, "load");
  const value = parseInteger(valueText);
  if (value === undefined) throw new ActionError("BAD_ARGUMENT", `invalid load argument "${text}": cannot parse integer value "${valueText}", expected ${expected}`);
  if (value >> BigInt(destination.nBits) !== 0n) {
    throw new ActionError("BAD_ARGUMENT", `invalid load argument "${text}": value ${formatHexInteger(value)} does not fit into ${destination.nBits} bits`);
  }
  resolveWritableField(destination.field.name, "load");
  const size = destination.field.bytes;
  return {
    type: "set_field",
    field: destination.field,
    value: bigIntToBuffer(value << BigInt(destination.offset), size),
    mask: rangeMask(size, destination.offset, destination.nBits),
    encoding: "reg_load",
  };
}

/** Parses `SRC[..]->DST[..]`, e.g. `NXM_OF_IN_PORT[]->NXM_OF_VLAN_TCI[]`. */
export function parseMove(text: string): MoveAction {
  const expected = "SRC[START..END]->DST[START..END] such as move:NXM_NX_REG0[0..15]->NXM_NX_REG1[16..31]";
  const [sourceText, destinationText] = splitArrow(text, "move", expected);
  const source = parseSubfieldText(sourceText, "move");
  const destination = parseSubfieldText(destinationText, "move");
  if (source.nBits !== destination.nBits) {
    throw new ActionError("BAD_ARGUMENT", `invalid move argument "${text}": source is ${source.nBits} bits but destination is ${destination.nBits} bits`);
  }
  resolveWritableField(destination.field.name, "move");
  return { type: "move", source, destination };
}
