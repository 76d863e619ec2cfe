// Action decoding: frame each action by its length, then dispatch on the OFPAT type (and for
// experimenter actions on the vendor id and subtype) to one small decoder. Actions this codec
// does not model decode to UnknownAction, which re-encodes byte for byte.

import { BufferReader } from "../wire/reader.ts";
import { OpenFlowVersion, versionName } from "../version.ts";
import { EXPERIMENTER, NXAST, OFPAT, ONFACT, PORT } from "./constants.ts";
import { decodeCheckPktLarger } from "./check-pkt-larger.ts";
import { decodeController, decodeController2 } from "./controller.ts";
import { decodeCt, decodeNat, writesCtField } from "./ct.ts";
import { readFieldHeader32, readWireFieldHeader } from "./field-refs.ts";
import { expectZeros } from "./frame.ts";
import { decodeBundle, decodeMultipath } from "./hash-select.ts";
import { decodeLearn } from "./learn.ts";
import { decodeSample } from "./sample.ts";
import { formatPort, portFromOfp11Strict } from "./ports.ts";
import { decodeCopyField, decodeOfpSetField, decodeRegLoad, decodeRegLoad2, decodeRegMove } from "./set-field.ts";
import type { Action } from "./types.ts";

function decodeOutput(r: BufferReader): Action {
  const wirePort = r.u32("port");
  const maxLen = r.u16("max_len");
  // Open vSwitch ignores the pad here, and re-encodes it as zeros.
  r.skip(6, "output pad");
  const port = portFromOfp11Strict(wirePort);
  if (port === undefined) r.fail(`output port 0x${wirePort.toString(16)} is not a valid OpenFlow 1.1+ port`);
  // Open vSwitch accepts physical ports below 0xff00 and the reserved ports IN_PORT..LOCAL.
  if (port >= PORT.MAX && (port < PORT.IN_PORT || port > PORT.LOCAL)) r.fail(`output port ${formatPort(port)} is not a valid output port`);
  return { type: "output", port, maxLen };
}

function decodeOutputReg(r: BufferReader, subtype: number): Action {
  const ofsNbits = r.u16("ofs_nbits");
  const isReg2 = subtype === NXAST.OUTPUT_REG2;
  let field;
  let maxLen;
  if (isReg2) {
    maxLen = r.u16("max_len");
    field = readWireFieldHeader(r).field;
  } else {
    field = readFieldHeader32(r);
    maxLen = r.u16("max_len");
  }
  expectZeros(r, r.remaining, "output_reg padding");
  const source = { field, offset: ofsNbits >> 6, nBits: (ofsNbits & 0x3f) + 1 };
  if (source.offset + source.nBits > field.bits) r.fail(`output source exceeds the ${field.bits}-bit field ${field.name}`);
  return { type: "output_reg", source, maxLen, encoding: isReg2 ? "output_reg2" : "output_reg" };
}

function decodeDecTtlCntIds(r: BufferReader): Action {
  const count = r.u16("n_controllers");
  expectZeros(r, 4, "dec_ttl_cnt_ids zeros");
  if (r.remaining < count * 2) r.fail(`dec_ttl_cnt_ids lists ${count} controller ids but has room for ${Math.floor(r.remaining / 2)}`);
  const controllerIds: number[] = [];
  for (let i = 0; i < count; i++) controllerIds.push(r.u16("controller id"));
  return { type: "dec_ttl", controllerIds, encoding: "dec_ttl_cnt_ids" };
}

function decodeResubmit(r: BufferReader, subtype: number): Action {
  const port = r.u16("in_port");
  if (subtype === NXAST.RESUBMIT) return { type: "resubmit", port, table: 0xff, withConntrack: false, encoding: "resubmit" };
  const table = r.u8("table");
  expectZeros(r, 3, "resubmit pad");
  return { type: "resubmit", port, table, withConntrack: subtype === NXAST.RESUBMIT_TABLE_CT, encoding: "resubmit_table" };
}

function decodeConjunction(r: BufferReader): Action {
  const clause = r.u8("clause");
  const nClauses = r.u8("n_clauses");
  const id = r.u32("id");
  if (nClauses < 2 || nClauses > 64 || clause >= nClauses) r.fail(`conjunction clause ${clause} of ${nClauses} is invalid: 2 to 64 clauses, clause below their count`);
  return { type: "conjunction", id, clause, nClauses };
}

/**
 * Decodes the body of a Nicira action; returns undefined for subtypes this codec does not
 * model. NXAST_SET_QUEUE, DEC_TTL, GROUP and WRITE_METADATA are OpenFlow 1.0 forms that
 * Open vSwitch rejects in 1.3 and 1.5, so they stay unknown here.
 */
function decodeNicira(r: BufferReader, subtype: number, version: OpenFlowVersion): Action | undefined {
  const isOf15 = version === OpenFlowVersion.OF15;
  switch (subtype) {
    case NXAST.RESUBMIT:
    case NXAST.RESUBMIT_TABLE:
    case NXAST.RESUBMIT_TABLE_CT:
      return decodeResubmit(r, subtype);
    case NXAST.SET_TUNNEL:
      r.skip(2, "set_tunnel pad");
      return { type: "set_tunnel", tunnelId: BigInt(r.u32("tun_id")), wide: false };
    case NXAST.SET_TUNNEL64:
      r.skip(6, "set_tunnel64 pad");
      return { type: "set_tunnel", tunnelId: r.u64("tun_id"), wide: true };
    case NXAST.POP_QUEUE:
      return { type: "pop_queue" };
    case NXAST.REG_MOVE:
      if (isOf15) r.fail("NXAST_REG_MOVE is not allowed in OpenFlow 1.5, which uses OFPAT_COPY_FIELD");
      return decodeRegMove(r);
    case NXAST.REG_LOAD:
      if (isOf15) r.fail("NXAST_REG_LOAD is not allowed in OpenFlow 1.5, which uses OFPAT_SET_FIELD with a mask");
      return decodeRegLoad(r);
    case NXAST.REG_LOAD2:
      if (isOf15) r.fail("NXAST_REG_LOAD2 is not allowed in OpenFlow 1.5, which uses OFPAT_SET_FIELD with a mask");
      return decodeRegLoad2(r);
    case NXAST.NOTE:
      return { type: "note", data: Buffer.from(r.rest()) };
    case NXAST.OUTPUT_REG:
    case NXAST.OUTPUT_REG2:
      return decodeOutputReg(r, subtype);
    case NXAST.LEARN:
    case NXAST.LEARN2:
      return decodeLearn(r, subtype === NXAST.LEARN2);
    case NXAST.EXIT:
      return { type: "exit" };
    case NXAST.FIN_TIMEOUT: {
      const idleTimeout = r.u16("fin_idle_timeout");
      const hardTimeout = r.u16("fin_hard_timeout");
      return { type: "fin_timeout", idleTimeout, hardTimeout };
    }
    case NXAST.CONTROLLER:
      return decodeController(r);
    case NXAST.CONTROLLER2:
      return decodeController2(r);
    case NXAST.DEC_TTL_CNT_IDS:
      return decodeDecTtlCntIds(r);
    case NXAST.CONJUNCTION:
      return decodeConjunction(r);
    case NXAST.CT:
      return decodeCt(r, version, decodeCtActions);
    case NXAST.NAT:
      return decodeNat(r);
    case NXAST.OUTPUT_TRUNC: {
      const port = r.u16("port");
      const maxLen = r.u32("max_len");
      return { type: "output_trunc", port, maxLen };
    }
    case NXAST.CLONE:
      r.skip(6, "clone pad");
      return { type: "clone", actions: decodeActions(r.sub(r.remaining, "clone nested actions"), version) };
    case NXAST.CT_CLEAR:
      return { type: "ct_clear" };
    case NXAST.MULTIPATH:
      return decodeMultipath(r);
    case NXAST.BUNDLE:
    case NXAST.BUNDLE_LOAD:
      return decodeBundle(r, subtype === NXAST.BUNDLE_LOAD);
    case NXAST.SAMPLE:
    case NXAST.SAMPLE2:
    case NXAST.SAMPLE3:
      return decodeSample(r, subtype);
    case NXAST.CHECK_PKT_LARGER:
      return decodeCheckPktLarger(r);
    default:
      return undefined;
  }
}

function decodeExperimenter(r: BufferReader, version: OpenFlowVersion): Action | undefined {
  const vendor = r.u32("experimenter");
  const subtype = r.u16("subtype");
  if (vendor === EXPERIMENTER.NICIRA) return decodeNicira(r, subtype, version);
  if (vendor === EXPERIMENTER.ONF && subtype === ONFACT.COPY_FIELD) {
    if (version !== OpenFlowVersion.OF13) r.fail("the ONF copy_field extension exists only in OpenFlow 1.3");
    r.skip(2, "copy_field pad");
    return decodeCopyField(r, "onf_copy_field");
  }
  return undefined;
}

/** Decodes one action body (after type and length); undefined means "keep it as unknown". */
function decodeBody(r: BufferReader, type: number, version: OpenFlowVersion): Action | undefined {
  switch (type) {
    case OFPAT.OUTPUT:
      return decodeOutput(r);
    case OFPAT.PUSH_VLAN: {
      const ethertype = r.u16("ethertype");
      if (ethertype !== 0x8100 && ethertype !== 0x88a8) r.fail(`push_vlan ethertype 0x${ethertype.toString(16)} is not 0x8100 or 0x88a8`);
      return { type: "push_vlan", ethertype };
    }
    case OFPAT.POP_VLAN:
      return { type: "pop_vlan" };
    case OFPAT.SET_QUEUE:
      return { type: "set_queue", queueId: r.u32("queue_id") };
    case OFPAT.GROUP:
      return { type: "group", groupId: r.u32("group_id") };
    case OFPAT.SET_NW_TTL: {
      return { type: "set_nw_ttl", ttl: r.u8("ttl") };
    }
    case OFPAT.DEC_NW_TTL:
      return { type: "dec_ttl", controllerIds: [0] };
    case OFPAT.SET_FIELD:
      return decodeOfpSetField(r, version);
    case OFPAT.COPY_FIELD:
      if (version !== OpenFlowVersion.OF15) r.fail(`OFPAT_COPY_FIELD does not exist in ${versionName(version)}`);
      return decodeCopyField(r, "copy_field");
    case OFPAT.METER:
      if (version !== OpenFlowVersion.OF15) r.fail(`the meter action does not exist in ${versionName(version)}: use the meter instruction`);
      return { type: "meter", meterId: r.u32("meter_id") };
    case OFPAT.EXPERIMENTER:
      return decodeExperimenter(r, version);
    default:
      // Includes the OpenFlow 1.1 set actions (3-10) that OpenFlow 1.3 deprecates for set_field.
      return undefined;
  }
}

function decodeActionList(r: BufferReader, version: OpenFlowVersion): Action[] {
  const actions: Action[] = [];
  while (r.remaining > 0) {
    if (r.remaining < 8) r.fail(`${r.remaining} trailing bytes are too short for an action header`);
    const header = r.bytes(4, "action header");
    const type = header.readUInt16BE(0);
    const length = header.readUInt16BE(2);
    if (length < 8 || length % 8 !== 0) r.fail(`action type ${type} has length ${length}, which is not a positive multiple of 8`);
    if (length - 4 > r.remaining) r.fail(`action type ${type} length ${length} exceeds the ${r.remaining + 4} bytes left`);

    const whole = Buffer.concat([header, r.buffer.subarray(r.position, r.position + length - 4)]);
    const body = r.sub(length - 4, `action type ${type}`);
    const action = decodeBody(body, type, version);
    if (action === undefined) {
      actions.push({ type: "unknown", bytes: whole });
      continue;
    }
    // Open vSwitch checks padding only where the action's own decoder does, so the rest of
    // `body` (the padding of fixed-size actions) is not checked here.
    actions.push(action);
  }
  return actions;
}

/** Decodes the actions nested in ct(...); ct itself checks which of them are allowed. */
function decodeCtActions(r: BufferReader, version: OpenFlowVersion): Action[] {
  return decodeActionList(r, version);
}

/**
 * Decodes actions until the reader is exhausted. Callers pass a sub-reader covering exactly
 * the action list. Throws OpenFlowDecodeError (naming the offset) for a bad length, a
 * malformed modeled action, or nat and ct_mark/ct_label writes outside ct(...), which Open
 * vSwitch also rejects. Unmodeled actions become UnknownAction.
 */
export function decodeActions(r: BufferReader, version: OpenFlowVersion): Action[] {
  const actions = decodeActionList(r, version);
  for (const action of actions) {
    if (action.type === "nat") r.fail("nat is only allowed inside ct");
    if (writesCtField(action)) r.fail(`cannot set CT field ${action.field.name} outside of ct action`);
  }
  return actions;
}

/** Decodes a standalone action list held in `bytes` (e.g. from a test vector). */
export function decodeActionBytes(bytes: Buffer, version: OpenFlowVersion): Action[] {
  return decodeActions(new BufferReader(bytes, "actions"), version);
}
