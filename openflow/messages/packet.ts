// PACKET_IN and PACKET_OUT. A packet-in carries the pipeline fields as an ofp_match, then
// two bytes of padding, then the packet. An OpenFlow 1.3 packet-out has a fixed in_port
// field. An OpenFlow 1.5 packet-out carries in_port and any other pipeline fields in an
// ofp_match before the actions.
import { decodeActions, encodeActions } from "../actions/index.ts";
import { decodeMatch, encodeMatch } from "../match/index.ts";
import { OpenFlowVersion } from "../version.ts";
import type { BufferWriter } from "../wire/writer.ts";
import type { BufferReader } from "../wire/reader.ts";
import { OpenFlowInvalidMessageError } from "./errors.ts";
import { decodeOxmList, encodeOxmList } from "./oxm-list.ts";
import type { MessageHeaderFields, PacketInMessage, PacketOutMessage } from "./types.ts";

/** OXM header of OXM_OF_IN_PORT (class 0x8000, field 0, 4 bytes). */
const OXM_IN_PORT = 0x80000004;

/** OpenFlow basic fields allowed in a packet-out besides in_port: metadata (2) and tunnel_id (38). */
const BASIC_PIPELINE_FIELDS = new Set([2, 38]);

/**
 * Returns whether an OXM may appear in a packet-out match. Open vSwitch accepts only
 * pipeline fields: in_port, metadata, tunnel id, and its Nicira and packet-register fields
 * (registers, tunnel metadata). Packet header fields are rejected.
 */
function isPipelineField(header: number): boolean {
  const oxmClass = header >>> 16;
  const field = (header >>> 9) & 0x7f;
  if (oxmClass === 0x8000) return BASIC_PIPELINE_FIELDS.has(field);
  return oxmClass === 0x0001 || oxmClass === 0x8001 || oxmClass === 0xffff;
}
const OFPMT_OXM = 1;

function toVersion(version: number): OpenFlowVersion {
  return version >= OpenFlowVersion.OF15 ? OpenFlowVersion.OF15 : OpenFlowVersion.OF13;
}

export function encodePacketIn(w: BufferWriter, m: PacketInMessage): void {
  w.u32(m.bufferId).u16(m.totalLen).u8(m.reason).u8(m.tableId).u64(m.cookie);
  encodeMatch(w, m.match, toVersion(m.version));
  w.zeros(2).bytes(m.data);
}

export function decodePacketIn(r: BufferReader, header: MessageHeaderFields): PacketInMessage {
  const bufferId = r.u32("buffer_id");
  const totalLen = r.u16("total_len");
  const reason = r.u8("reason");
  const tableId = r.u8("table_id");
  const cookie = r.u64("cookie");
  const match = decodeMatch(r, toVersion(header.version));
  r.skip(2);
  const data = Buffer.from(r.rest());
  return { kind: "packet_in", ...header, bufferId, totalLen, reason, tableId, cookie, match, data };
}

/** Writes the OpenFlow 1.5 packet-out match: in_port first, then the other pipeline fields. */
function writePacketOutMatch(w: BufferWriter, m: PacketOutMessage): void {
  const start = w.length;
  w.u16(OFPMT_OXM);
  const mark = w.beginLength(start);
  w.u32(OXM_IN_PORT).u32(m.inPort);
  if (m.match !== undefined) encodeOxmList(w, m.match, OpenFlowVersion.OF15);
  w.endLength(mark);
  w.padTo(8, start);
}

/**
 * Reads the OpenFlow 1.5 packet-out match, separating in_port from the other fields. The
 * OXM list is walked by header lengths; an experimenter OXM's length includes its id.
 */
function readPacketOutMatch(r: BufferReader): { inPort: number; match?: PacketOutMessage["match"] } {
  const start = r.position;
  const type = r.u16("match type");
  const length = r.u16("match length");
  if (type !== OFPMT_OXM || length < 4) r.fail(`packet-out match has type ${type} and length ${length}; expected an OXM match`);
  const fields = r.sub(length - 4, "packet-out match fields");
  r.alignTo(8, start);
  let inPort: number | undefined;
  const others: Buffer[] = [];
  while (fields.remaining > 0) {
    const fieldStart = fields.position;
    const header = fields.u32("OXM header");
    // A zero header with only zeros after it is padding counted in the match length.
    if (header === 0 && fields.rest().every((byte) => byte === 0)) break;
    const body = fields.bytes(header & 0xff, "OXM value");
    if (header === OXM_IN_PORT) inPort = body.readUInt32BE(0);
    else if (!isPipelineField(header)) {
      throw new OpenFlowInvalidMessageError(
        "OFPBRC_PIPELINE_FIELDS_ONLY",
        `packet-out match field with OXM header 0x${header.toString(16).padStart(8, "0")} is not a pipeline field`,
      );
    } else others.push(fields.buffer.subarray(fieldStart, fields.position));
  }
  if (inPort === undefined) throw new OpenFlowInvalidMessageError("OFPBRC_BAD_PORT", "packet-out match has no in_port");
  const result: { inPort: number; match?: PacketOutMessage["match"] } = { inPort };
  if (others.length > 0) result.match = decodeOxmList(Buffer.concat(others), OpenFlowVersion.OF15, "packet-out match");
  return result;
}

export function encodePacketOut(w: BufferWriter, m: PacketOutMessage): void {
  const version = toVersion(m.version);
  w.u32(m.bufferId);
  if (version === OpenFlowVersion.OF15) {
    const actionsLengthOffset = w.length;
    w.u16(0).zeros(2);
    writePacketOutMatch(w, m);
    const actionsStart = w.length;
    encodeActions(w, m.actions, version);
    w.patchU16(actionsLengthOffset, w.length - actionsStart);
  } else {
    w.u32(m.inPort);
    const actionsLengthOffset = w.length;
    w.u16(0).zeros(6);
    const actionsStart = w.length;
    encodeActions(w, m.actions, version);
    w.patchU16(actionsLengthOffset, w.length - actionsStart);
  }
  w.bytes(m.data);
}

export function decodePacketOut(r: BufferReader, header: MessageHeaderFields): PacketOutMessage {
  const version = toVersion(header.version);
  const bufferId = r.u32("buffer_id");
  if (version === OpenFlowVersion.OF15) {
    const actionsLength = r.u16("actions_len");
    r.skip(2);
    const { inPort, match } = readPacketOutMatch(r);
    const actions = decodeActions(r.sub(actionsLength, "packet-out actions"), version);
    const message: PacketOutMessage = { kind: "packet_out", ...header, bufferId, inPort, actions, data: Buffer.from(r.rest()) };
    if (match !== undefined) message.match = match;
    return message;
  }
  const inPort = r.u32("in_port");
  const actionsLength = r.u16("actions_len");
  r.skip(6);
  const actions = decodeActions(r.sub(actionsLength, "packet-out actions"), version);
  return { kind: "packet_out", ...header, bufferId, inPort, actions, data: Buffer.from(r.rest()) };
}
