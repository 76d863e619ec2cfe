// Public entry of the field registry: look fields up by name or header, read and write their
// OXM/NXM headers, and parse and print values and subfields (`NXM_NX_REG0[0..15]`).
// Every function here is pure and safe to call concurrently.

import type { BufferReader } from "../wire/reader.ts";
import type { BufferWriter } from "../wire/writer.ts";
import { MatchError, MatchErrorCode } from "./errors.ts";
import { FIELDS } from "./field-table.ts";
import type { FieldInfo, OxmForm } from "./field-table.ts";
import { headerClass, headerHasMask, headerLength, OxmClass, withMask } from "./headers.ts";

export type { FieldFormat, FieldInfo, OxmForm, Prerequisite } from "./field-table.ts";
export { FIELDS } from "./field-table.ts";
export { MatchError, MatchErrorCode } from "./errors.ts";
export {
  bigintToBuffer,
  bufferToBigint,
  formatFieldValue,
  formatHexBytes,
  parseFieldValue,
  parseUnsigned,
} from "./field-values.ts";
export type { FieldValue, FormatValueOptions, ParseValueOptions } from "./field-values.ts";
export type { PortNameMap } from "./ports.ts";
export { formatPort, parsePort, portFromOfp11, portToOfp11, RESERVED_PORTS } from "./ports.ts";
export { OxmClass, OxmExperimenter } from "./headers.ts";

function buildNameIndex(): Map<string, FieldInfo> {
  const index = new Map<string, FieldInfo>();
  for (const field of FIELDS) {
    index.set(field.name, field);
    for (const alias of field.aliases) index.set(alias, field);
  }
  // NXM/OXM names are added after the ovs-ofctl names, and never replace one.
  for (const field of FIELDS) {
    const wireNames = [field.nxmName, ...field.oxm.map((form) => form.name)];
    for (const wireName of wireNames) {
      if (wireName !== "" && !index.has(wireName)) index.set(wireName, field);
    }
  }
  return index;
}

/**
 * Index key of a header: its class and field (the top 23 bits), plus the experimenter id for
 * experimenter OXMs. Numbers for the common case keep lookups free of string building.
 */
function headerKey(header: number, experimenter: number | undefined): number | string {
  const classAndField = header >>> 9;
  return experimenter === undefined ? classAndField : `${classAndField}/${experimenter}`;
}

function buildHeaderIndex(): Map<number | string, FieldInfo> {
  const index = new Map<number | string, FieldInfo>();
  for (const field of FIELDS) {
    if (field.nxmHeader !== undefined) index.set(headerKey(field.nxmHeader, undefined), field);
    for (const form of field.oxm) index.set(headerKey(form.header, form.experimenter), field);
  }
  return index;
}

const FIELDS_BY_NAME: ReadonlyMap<string, FieldInfo> = buildNameIndex();
const FIELDS_BY_HEADER: ReadonlyMap<number | string, FieldInfo> = buildHeaderIndex();

/**
 * Finds a field by its ovs-ofctl name ("ip_src"), an alias ("nw_src", "tp_dst"), or an NXM or
 * OXM name ("NXM_NX_REG0", "OXM_OF_IN_PORT"). Names are case-sensitive, as in ovs-ofctl.
 */
export function lookupField(name: string): FieldInfo | undefined {
  return FIELDS_BY_NAME.get(name);
}

/** Returns every name that lookupField accepts, for suggestions in error messages. */
export function knownFieldNames(): string[] {
  return [...FIELDS_BY_NAME.keys()];
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Returns the known name closest to `name` by edit distance, or undefined when none is close. */
export function suggestFieldName(name: string, candidates: readonly string[] = knownFieldNames()): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { name: candidate, distance };
  }
  if (!best) return undefined;
  return best.distance <= Math.max(2, Math.floor(name.length / 3)) ? best.name : undefined;
}

/** Like lookupField, but throws MatchError UNKNOWN_FIELD naming the closest known field. */
export function requireField(name: string): FieldInfo {
  const field = lookupField(name);
  if (field) return field;
  const suggestion = suggestFieldName(name);
  const hint = suggestion ? `: did you mean "${suggestion}"?` : ": see docs/openflow-match.md for the field list";
  throw new MatchError(MatchErrorCode.UNKNOWN_FIELD, `unknown field "${name}"${hint}`);
}

/**
 * Finds the field of an NXM or OXM header by its class and field number. The has-mask bit
 * and the length are ignored, because the decoder checks the length against the field width.
 * `experimenter` is required for experimenter OXMs (class 0xffff).
 */
export function fieldByHeader(header: number, experimenter?: number): FieldInfo | undefined {
  const key = headerClass(header) === OxmClass.EXPERIMENTER ? experimenter : undefined;
  return FIELDS_BY_HEADER.get(headerKey(header, key));
}

/** The OXM or NXM form used to encode a field in a match or set_field of `version`. */
export interface WireForm {
  /** NXM or OXM name of the form ("OXM_OF_TCP_FLAGS"). */
  readonly name: string;
  /** Header without the has-mask bit. */
  readonly header: number;
  readonly experimenter?: number;
}

/**
 * Chooses the header OVS 3.1 writes for `field` in OXM context (matches, set_field) of the
 * given OpenFlow version: the newest OXM form the version supports, else the NXM header.
 * Returns undefined for text-only fields.
 */
export function oxmFormFor(field: FieldInfo, version: number): WireForm | undefined {
  let chosen: OxmForm | undefined;
  for (const form of field.oxm) {
    if (form.sinceVersion <= version) chosen = form;
  }
  if (chosen) {
    const { name, header, experimenter } = chosen;
    return experimenter === undefined ? { name, header } : { name, header, experimenter };
  }
  if (field.nxmHeader !== undefined) return { name: field.nxmName, header: field.nxmHeader };
  return undefined;
}

export interface EncodeHeaderOptions {
  hasMask: boolean;
  version: number;
  /**
   * "oxm" (the default) picks the form of oxmFormFor; "nxm" writes `field.header`, the form
   * used by Nicira actions such as load, move and learn.
   */
  encoding?: "oxm" | "nxm";
}

/**
 * Writes a field's header (and experimenter id, if any) with the has-mask bit and the length
 * for a value, or value plus mask. The caller writes the value and mask after it.
 * Throws MatchError UNSUPPORTED for a field without a wire form.
 */
export function encodeFieldHeader(w: BufferWriter, field: FieldInfo, options: EncodeHeaderOptions): void {
  const form: WireForm | undefined =
    options.encoding === "nxm"
      ? field.header === 0
        ? undefined
        : { name: field.nxmName, header: field.header, ...(field.experimenter === undefined ? {} : { experimenter: field.experimenter }) }
      : oxmFormFor(field, options.version);
  if (!form) {
    throw new MatchError(MatchErrorCode.UNSUPPORTED, `field ${field.name} has no OXM or NXM header: use ${field.name === "dl_vlan" || field.name === "dl_vlan_pcp" ? "vlan_tci" : "another field"}`);
  }
  w.u32(withMask(form.header, options.hasMask));
  if (form.experimenter !== undefined) w.u32(form.experimenter);
}

/** A header read from the wire. */
export interface FieldHeader {
  /** Header as read, with the has-mask bit cleared and the length of an unmasked value. */
  readonly header: number;
  readonly hasMask: boolean;
  readonly experimenter?: number;
  /** Length of the value that follows (the mask, if any, has the same length). */
  readonly valueLength: number;
  /** Undefined for headers this registry does not know. */
  readonly field?: FieldInfo;
}

/** Reads an OXM/NXM header and, for class 0xffff, the experimenter id after it. */
export function readFieldHeader(r: BufferReader): FieldHeader {
  const raw = r.u32("OXM header");
  const hasMask = headerHasMask(raw);
  const isExperimenter = headerClass(raw) === OxmClass.EXPERIMENTER;
  const experimenter = isExperimenter ? r.u32("OXM experimenter id") : undefined;
  const payload = headerLength(raw) - (isExperimenter ? 4 : 0);
  if (payload < 0 || (hasMask && payload % 2 !== 0)) {
    r.fail(`OXM header ${raw.toString(16).padStart(8, "0")} has an invalid length ${headerLength(raw)}`);
  }
  const valueLength = hasMask ? payload / 2 : payload;
  const header = withMask(raw, false);
  const field = fieldByHeader(header, experimenter);
  return {
    header,
    hasMask,
    valueLength,
    ...(experimenter === undefined ? {} : { experimenter }),
    ...(field ? { field } : {}),
  };
}

/** A bit range of a field: `nBits` bits starting at bit `offset` (bit 0 is the least significant). */
export interface Subfield {
  field: FieldInfo;
  offset: number;
  nBits: number;
}

function badSubfield(text: string, problem: string): MatchError {
  return new MatchError(MatchErrorCode.BAD_SUBFIELD, `invalid subfield "${text}": ${problem}`);
}

/**
 * Parses `NXM_NX_REG0[0..15]`, `reg0[0..15]`, `reg0[3]`, `reg0[]` or a bare `reg0` (the whole
 * field). Throws MatchError (UNKNOWN_FIELD, BAD_SUBFIELD) when the field is unknown, has no
 * wire form, or the range lies outside the field.
 */
export function parseSubfield(text: string): Subfield {
  const parsed = /^([A-Za-z0-9_]+)(?:\[(?:(\d+)(?:\.\.(\d+))?)?\])?$/.exec(text.trim());
  if (!parsed) throw badSubfield(text, "expected FIELD[], FIELD[BIT] or FIELD[START..END]");
  const field = requireField(parsed[1] ?? "");
  if (field.header === 0) throw badSubfield(text, `${field.name} has no NXM or OXM header`);

  const startText = parsed[2];
  const endText = parsed[3];
  if (startText === undefined) return { field, offset: 0, nBits: field.bits };

  const start = Number(startText);
  const end = endText === undefined ? start : Number(endText);
  if (end < start) throw badSubfield(text, `the end bit ${end} is before the start bit ${start}`);
  if (end >= field.bits) throw badSubfield(text, `bit ${end} is outside ${field.name}, which has ${field.bits} bits (0..${field.bits - 1})`);
  return { field, offset: start, nBits: end - start + 1 };
}

/** Prints a subfield as ovs-ofctl does: `NXM_NX_REG0[0..15]`, `NXM_OF_ETH_SRC[]`, `NXM_NX_REG1[3]`. */
export function formatSubfield(subfield: Subfield): string {
  const { field, offset, nBits } = subfield;
  const name = field.nxmName === "" ? field.name : field.nxmName;
  if (offset === 0 && nBits === field.bits) return `${name}[]`;
  if (nBits === 1) return `${name}[${offset}]`;
  return `${name}[${offset}..${offset + nBits - 1}]`;
}
