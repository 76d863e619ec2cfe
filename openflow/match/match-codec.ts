// ofp_match (type OFPMT_OXM) encoding and decoding for OpenFlow 1.3 and 1.5.
// Layout: type (2) = 1, length (2) counting the 4-byte header and the OXM fields but not the
// trailing padding, the OXM fields, then zero padding to a multiple of 8 bytes.
// Fields are written in the order OVS 3.1 writes them, so our bytes equal ovs-ofctl's.

import type { BufferReader } from "../wire/reader.ts";
import type { BufferWriter } from "../wire/writer.ts";
import { MatchError } from "./errors.ts";
import type { FieldInfo } from "./field-table.ts";
import { bigintToBuffer, bufferToBigint } from "./field-values.ts";
import { encodeFieldHeader, lookupField, oxmFormFor, readFieldHeader } from "./fields.ts";
import { MatchBuilder } from "./match.ts";
import type { Match, MatchEntry } from "./match.ts";
import { portToOfp11 } from "./ports.ts";
import { checkPrerequisites } from "./prerequisites.ts";

const OFPMT_OXM = 1;
const OPENFLOW15 = 0x06;

/** A field as it goes on the wire: the registry field, its value and an optional mask. */
export interface WireEntry {
  readonly field: FieldInfo;
  readonly value: Buffer;
  readonly mask?: Buffer;
}

/** Fields that do not describe packet headers; OVS's packet_type logic ignores them. */
const METADATA_FIELDS: ReadonlySet<string> = new Set([
  "dp_hash",
  "recirc_id",
  "conj_id",
  "in_port",
  "actset_output",
  "tun_id",
  "tun_flags",
  "tun_src",
  "tun_dst",
  "tun_ipv6_src",
  "tun_ipv6_dst",
  "tun_gbp_id",
  "tun_gbp_flags",
  "pkt_mark",
  "ct_state",
  "ct_zone",
  "ct_mark",
  "ct_label",
  "metadata",
  ...Array.from({ length: 16 }, (_, n) => `reg${n}`),
]);

function registryField(name: string): FieldInfo {
  const field = lookupField(name);
  if (!field) throw new Error(`internal: field ${name} is not registered`);
  return field;
}

/**
 * Translates the canonical VLAN TCI into OXM's VLAN_VID and VLAN_PCP the way OVS 3.1 does.
 * NOTE: OXM cannot express every TCI mask; a PCP match without a VID is dropped, as in OVS.
 */
function vlanEntries(entry: MatchEntry): WireEntry[] {
  const tci = entry.value.readUInt16BE(0);
  const tciMask = entry.mask ? entry.mask.readUInt16BE(0) : 0xffff;
  const vid = tci & 0x1fff;
  const vidMask = tciMask & 0x1fff;
  const entries: WireEntry[] = [];
  if (vidMask === 0x1fff) {
    entries.push({ field: registryField("vlan_vid"), value: bigintToBuffer(BigInt(vid), 2) });
  } else if (vidMask !== 0) {
    entries.push({ field: registryField("vlan_vid"), value: bigintToBuffer(BigInt(vid), 2), mask: bigintToBuffer(BigInt(vidMask), 2) });
  }
  if (vid !== 0 && ((tciMask >> 13) & 7) !== 0) {
    entries.push({ field: registryField("vlan_pcp"), value: Buffer.from([(tci >> 13) & 7]) });
  }
  return entries;
}

/** Merges reg(2n) and reg(2n+1) into the 64-bit packet register xreg n (OpenFlow 1.5). */
function packetRegisterEntries(match: Match): WireEntry[] {
  const entries: WireEntry[] = [];
  for (let n = 0; n < 8; n++) {
    let value = 0n;
    let mask = 0n;
    for (const [half, shift] of [[2 * n, 32n], [2 * n + 1, 0n]] as const) {
      const register = match.entries.find((entry) => entry.field.name === `reg${half}`);
      if (!register) continue;
      value |= bufferToBigint(register.value) << shift;
      mask |= (register.mask ? bufferToBigint(register.mask) : 0xffffffffn) << shift;
    }
    if (mask === 0n) continue;
    const field = registryField(`xreg${n}`);
    const isExact = mask === 0xffffffffffffffffn;
    entries.push(isExact ? { field, value: bigintToBuffer(value, 8) } : { field, value: bigintToBuffer(value, 8), mask: bigintToBuffer(mask, 8) });
  }
  return entries;
}

function translateEntry(entry: MatchEntry): WireEntry[] {
  switch (entry.field.name) {
    case "in_port":
      return [{ field: registryField("in_port_oxm"), value: bigintToBuffer(BigInt(portToOfp11(entry.value.readUInt16BE(0))), 4) }];
    case "nw_tos":
      return [{ field: registryField("ip_dscp"), value: Buffer.from([(entry.value[0] ?? 0) >> 2]) }];
    case "vlan_tci":
      return vlanEntries(entry);
    default:
      return [entry];
  }
}

/** Lists the OXM fields of a match in OVS's order, translated for `version`. */
export function wireEntries(match: Match, version: number): WireEntry[] {
  const entries: WireEntry[] = [];
  let registersDone = false;
  for (const entry of match.entries) {
    const isRegister = /^reg\d+$/.test(entry.field.name);
    if (isRegister && version >= OPENFLOW15) {
      if (!registersDone) entries.push(...packetRegisterEntries(match));
      registersDone = true;
      continue;
    }
    entries.push(...translateEntry(entry));
  }

  const hasPacketField = match.entries.some((entry) => !METADATA_FIELDS.has(entry.field.name));
  const writesPacketField = entries.some((entry) => !METADATA_FIELDS.has(entry.field.name));
  if (hasPacketField && !writesPacketField) {
    // OVS announces an Ethernet packet_type when every header field it had was dropped.
    entries.unshift({ field: registryField("packet_type"), value: Buffer.alloc(4) });
  }
  return entries;
}

/**
 * Writes an ofp_match of type OXM: header, fields in OVS's order, padding to 8 bytes.
 * Registers go as NXM_NX_REGn in OpenFlow 1.3 and as OXM_OF_PKT_REGn in 1.5.
 * Throws MatchError when a field has no OXM or NXM form.
 */
export function encodeMatch(w: BufferWriter, match: Match, version: number): void {
  const start = w.length;
  w.u16(OFPMT_OXM);
  const lengthMark = w.beginLength(start);
  for (const entry of wireEntries(match, version)) {
    encodeFieldHeader(w, entry.field, { hasMask: entry.mask !== undefined, version });
    w.bytes(entry.value);
    if (entry.mask) w.bytes(entry.mask);
  }
  w.endLength(lengthMark);
  w.padTo(8, start);
}

/** Returns the number of bytes encodeMatch writes, padding included. */
export function encodedMatchLength(match: Match, version: number): number {
  let length = 4;
  for (const entry of wireEntries(match, version)) {
    const experimenterLength = oxmFormFor(entry.field, version)?.experimenter === undefined ? 0 : 4;
    length += 4 + experimenterLength + entry.value.length * (entry.mask ? 2 : 1);
  }
  return Math.ceil(length / 8) * 8;
}

/** Reads one OXM field, checking its length, mask and value against the registry. */
function readWireEntry(r: BufferReader): WireEntry {
  const header = readFieldHeader(r);
  const headerText = header.header.toString(16).padStart(8, "0");
  const field = header.field;
  if (!field) {
    const experimenter = header.experimenter === undefined ? "" : ` (experimenter 0x${header.experimenter.toString(16)})`;
    r.fail(`unknown OXM field ${headerText}${experimenter}`);
  }
  if (header.valueLength !== field.bytes) {
    r.fail(`OXM field ${field.name} has a ${header.valueLength}-byte value, expected ${field.bytes}`);
  }
  if (header.hasMask && !field.maskable) r.fail(`OXM field ${field.name} is masked, but the field is not maskable`);

  const value = Buffer.from(r.bytes(field.bytes, `${field.name} value`));
  if (!header.hasMask) return { field, value };
  const mask = Buffer.from(r.bytes(field.bytes, `${field.name} mask`));
  if (value.some((octet, index) => (octet & ~(mask[index] ?? 0)) !== 0)) {
    r.fail(`OXM field ${field.name} has value bits outside its mask`);
  }
  return { field, value, mask };
}

/**
 * Reads bare OXM fields until the reader is exhausted, without canonicalizing them: each
 * entry names the registry field of its header (in_port_oxm, ip_dscp, xreg0...). For field
 * lists that are not matches, such as a group's selection-method fields.
 */
export function readOxmFields(r: BufferReader): WireEntry[] {
  const entries: WireEntry[] = [];
  while (r.remaining > 0) entries.push(readWireEntry(r));
  return entries;
}

/** Writes bare OXM fields as given, in order, with the header forms of `version`. */
export function writeOxmFields(w: BufferWriter, entries: readonly WireEntry[], version: number): void {
  for (const entry of entries) {
    encodeFieldHeader(w, entry.field, { hasMask: entry.mask !== undefined, version });
    w.bytes(entry.value);
    if (entry.mask) w.bytes(entry.mask);
  }
}

/** Bits a value may use, where OVS 3.1 rejects others with OFPBMC_BAD_VALUE. */
function validValueBits(field: FieldInfo): bigint {
  if (field.name === "vlan_vid") return 0x1fffn;
  if (field.name === "arp_op") return 0xffn;
  if (field.name === "ct_state") return 0xffn;
  return (1n << BigInt(field.bits)) - 1n;
}

function checkValue(r: BufferReader, entry: WireEntry, builder: MatchBuilder): void {
  const value = bufferToBigint(entry.value);
  if ((value & ~validValueBits(entry.field)) !== 0n) {
    r.fail(`OXM field ${entry.field.name} has an invalid value 0x${entry.value.toString("hex")}`);
  }
  // OpenFlow 1.1+ ports above the 16-bit range are only valid as reserved ports.
  const port = Number(value);
  if (entry.field.name === "in_port_oxm" && port >= 0xff00 && port < 0xffffff00) {
    r.fail(`OXM field in_port has an invalid port number 0x${entry.value.toString("hex")}`);
  }
  // A PCP needs a VLAN tag, so the VID read before it must have the "present" bit.
  if (entry.field.name === "vlan_pcp" && ((builder.get("vlan_tci")?.value ?? 0n) & 0x1000n) === 0n) {
    r.fail("OXM field vlan_pcp needs an earlier vlan_vid with the VLAN-present bit 0x1000");
  }
}

function addEntry(r: BufferReader, entry: WireEntry, seen: Set<string>, builder: MatchBuilder): void {
  if (seen.has(entry.field.name)) r.fail(`OXM field ${entry.field.name} appears twice`);
  seen.add(entry.field.name);
  checkValue(r, entry, builder);
  if (entry.field.name === "packet_type") {
    if (entry.value.readUInt32BE(0) !== 0) r.fail(`packet_type 0x${entry.value.toString("hex")} is not supported: only Ethernet (0) is`);
    return;
  }
  builder.setField(entry.field, entry.value, entry.mask);
}

export interface DecodeMatchOptions {
  /**
   * "check" (the default) rejects a field whose prerequisite is missing, as OVS does for
   * flow matches. "skip" accepts it, for field sets that are not flow matches (packet-in
   * metadata).
   */
  prerequisites?: "check" | "skip";
}

/**
 * Reads an ofp_match of type OXM, including its padding. Accepts registers both as NXM_NX_REGn
 * and as OXM_OF_PKT_REGn in either version. Throws OpenFlowDecodeError on a short, unknown,
 * duplicated or inconsistent field, or when a field's prerequisite is missing.
 */
export function decodeMatch(r: BufferReader, _version: number, options: DecodeMatchOptions = {}): Match {
  const start = r.position;
  const type = r.u16("ofp_match type");
  if (type !== OFPMT_OXM) r.fail(`ofp_match type ${type} is not supported: only OXM (1) is`);
  const length = r.u16("ofp_match length");
  if (length < 4) r.fail(`ofp_match length ${length} is shorter than its 4-byte header`);

  const fields = r.sub(length - 4, "ofp_match OXM fields");
  const builder = new MatchBuilder();
  const seen = new Set<string>();
  while (fields.remaining > 0) addEntry(fields, readWireEntry(fields), seen, builder);

  const padded = Math.ceil(length / 8) * 8;
  r.skip(padded - (r.position - start), "ofp_match padding");

  const match = builder.build();
  if (options.prerequisites === "skip") return match;
  try {
    checkPrerequisites(match);
  } catch (error) {
    if (error instanceof MatchError) r.fail(error.message);
    throw error;
  }
  return match;
}
