// Field references in actions: names and subfields in text, NXM/OXM headers on the wire.
// The field registry belongs to openflow/match; this file adapts it to the two header
// choices actions need:
//   - Nicira actions (load, move, output:reg, ct zone, learn) name a field by its NXM
//     header when it has one, otherwise by its first OXM header (`FieldInfo.header`).
//   - set_field and copy_field name a field by the newest header the version defines: an
//     OXM form whose `sinceVersion` is not later than the version, else the NXM header.

import type { BufferReader } from "../wire/reader.ts";
import type { BufferWriter } from "../wire/writer.ts";
import type { OpenFlowVersion } from "../version.ts";
import { headerClass, headerHasMask, headerLength, OxmClass, withMask } from "../match/headers.ts";
import {
  encodeFieldHeader,
  fieldByHeader,
  formatFieldValue,
  formatSubfield,
  lookupField,
  parseFieldValue,
  parseSubfield,
  type FieldInfo,
  type PortNameMap,
} from "../match/fields.ts";
import { ActionError } from "./errors.ts";
import type { Subfield } from "./types.ts";

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Looks up a field by any name ovs-ofctl accepts; throws BAD_ARGUMENT naming the action. */
export function resolveField(name: string, action: string): FieldInfo {
  const field = lookupField(name);
  if (!field || field.header === 0) {
    throw new ActionError("BAD_ARGUMENT", `invalid ${action} argument: ${name} is not a valid OXM or NXM field name`);
  }
  return field;
}

/** Like resolveField, and also rejects read-only fields such as eth_type or ct_state. */
export function resolveWritableField(name: string, action: string): FieldInfo {
  const field = resolveField(name, action);
  if (!field.writable) throw new ActionError("BAD_ARGUMENT", `invalid ${action} argument: ${field.name} is read-only`);
  return field;
}

/** Parses `reg0[0..15]`, `NXM_NX_REG0[]` or `reg0[3]`; throws BAD_ARGUMENT naming the action. */
export function parseSubfieldText(text: string, action: string): Subfield {
  try {
    const { field, offset, nBits } = parseSubfield(text);
    return { field, offset, nBits };
  } catch (error) {
    throw new ActionError("BAD_ARGUMENT", `invalid ${action} argument "${text}": ${messageOf(error)}`, { cause: error });
  }
}

export function formatSubfieldText(subfield: Subfield): string {
  return formatSubfield(subfield);
}

/** Parses a field value (with optional /mask) in ovs-ofctl syntax; throws BAD_ARGUMENT. */
export function parseFieldValueText(field: FieldInfo, text: string, action: string, portNames?: PortNameMap): { value: Buffer; mask?: Buffer } {
  try {
    return parseFieldValue(field, text, portNames ? { portNames } : {});
  } catch (error) {
    throw new ActionError("BAD_ARGUMENT", `invalid ${action} value "${text}" for ${field.name}: ${messageOf(error)}`, { cause: error });
  }
}

export function formatFieldValueText(field: FieldInfo, value: Buffer, mask?: Buffer, portNames?: PortNameMap): string {
  return formatFieldValue(field, value, mask, portNames ? { portNames } : {});
}

export function hasNxmHeader(field: FieldInfo): boolean {
  return field.experimenter === undefined;
}

/** Writes the header Nicira actions use for `field`, with the experimenter id when it has one. */
export function writeNxmHeader(w: BufferWriter, field: FieldInfo, options: { hasMask?: boolean } = {}): void {
  encodeFieldHeader(w, field, { hasMask: options.hasMask ?? false, version: 0, encoding: "nxm" });
}

/** Writes the header set_field and copy_field use for `field` in `version`. */
export function writeWireFieldHeader(w: BufferWriter, field: FieldInfo, options: { hasMask: boolean; version: OpenFlowVersion }): void {
  encodeFieldHeader(w, field, { hasMask: options.hasMask, version: options.version });
}

function lookupHeader(r: BufferReader, header: number, experimenter: number | undefined): FieldInfo {
  const unmasked = headerHasMask(header) ? withMask(header, false) : header;
  const field = fieldByHeader(unmasked, experimenter);
  if (!field) {
    const id = experimenter === undefined ? "" : ` experimenter 0x${experimenter.toString(16).padStart(8, "0")}`;
    r.fail(`unknown field header 0x${header.toString(16).padStart(8, "0")}${id}`);
  }
  return field;
}

/** Fails unless the header's length is the field width (twice it when masked). */
function checkHeaderLength(r: BufferReader, header: number, field: FieldInfo, isExperimenter: boolean): void {
  const payload = headerLength(header) - (isExperimenter ? 4 : 0);
  const expected = field.bytes * (headerHasMask(header) ? 2 : 1);
  if (payload !== expected) {
    r.fail(`field header 0x${header.toString(16).padStart(8, "0")} gives length ${payload} for ${field.name}, which needs ${expected}`);
  }
}

/** Reads a 4- or 8-byte (experimenter) OXM/NXM header, resolves the field and checks its length. */
export function readWireFieldHeader(r: BufferReader): { field: FieldInfo; hasMask: boolean } {
  const header = r.u32("field header");
  const isExperimenter = headerClass(header) === OxmClass.EXPERIMENTER;
  const experimenter = isExperimenter ? r.u32("experimenter id") : undefined;
  const field = lookupHeader(r, header, experimenter);
  checkHeaderLength(r, header, field, isExperimenter);
  return { field, hasMask: headerHasMask(header) };
}

/** Resolves a 32-bit NXM header already read (ct zone_src, multipath dst); fails on `r` if unknown. */
export function resolveFieldHeader32(r: BufferReader, header: number): FieldInfo {
  const field = lookupHeader(r, header, undefined);
  checkHeaderLength(r, header, field, false);
  return field;
}

/** Reads the fixed 32-bit NXM header of NXAST_REG_LOAD, OUTPUT_REG and learn specs. */
export function readFieldHeader32(r: BufferReader): FieldInfo {
  return resolveFieldHeader32(r, r.u32("field header"));
}
