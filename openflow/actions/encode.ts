// Action encoding: one small writer per action kind, chosen by a switch on the action type.
// Every action is padded to a multiple of 8 bytes and its length is filled by the writer.

import type { BufferWriter } from "../wire/writer.ts";
import { lookupField } from "../match/fields.ts";
import { OpenFlowVersion, versionName } from "../version.ts";
import { bigIntToBuffer } from "./bits.ts";
import { NXAST, OFPAT } from "./constants.ts";
import { encodeCheckPktLarger } from "./check-pkt-larger.ts";
import { encodeController } from "./controller.ts";
import { encodeCt, encodeNat } from "./ct.ts";
import { ActionError } from "./errors.ts";
import { beginAction, beginNiciraAction, finishAction } from "./frame.ts";
import { encodeBundle, encodeMultipath } from "./hash-select.ts";
import { encodeLearn } from "./learn.ts";
import { encodeSample } from "./sample.ts";
import { portToOfp11 } from "./ports.ts";
import { encodeMove, encodeSetField } from "./set-field.ts";
import type { Action, DecTtlAction, OutputRegAction, ResubmitAction } from "./types.ts";

function writeEmpty(w: BufferWriter, type: number): void {
  const frame = beginAction(w, type);
  finishAction(w, frame);
}

function writeU32Action(w: BufferWriter, type: number, value: number): void {
  const frame = beginAction(w, type);
  w.u32(value);
  finishAction(w, frame);
}

function writeEmptyNicira(w: BufferWriter, subtype: number): void {
  const frame = beginNiciraAction(w, subtype);
  finishAction(w, frame);
}

function encodeOutputReg(w: BufferWriter, action: OutputRegAction): void {
  const ofsNbits = (action.source.offset << 6) | (action.source.nBits - 1);
  if (action.encoding === "output_reg2" || action.source.field.experimenter !== undefined) {
    const frame = beginNiciraAction(w, NXAST.OUTPUT_REG2);
    w.u16(ofsNbits).u16(action.maxLen);
    w.u32(action.source.field.header);
    if (action.source.field.experimenter !== undefined) w.u32(action.source.field.experimenter);
    finishAction(w, frame);
    return;
  }
  const frame = beginNiciraAction(w, NXAST.OUTPUT_REG);
  w.u16(ofsNbits).u32(action.source.field.header).u16(action.maxLen).zeros(6);
  finishAction(w, frame);
}

function encodeDecTtl(w: BufferWriter, action: DecTtlAction): void {
  const ids = action.controllerIds;
  const plain = action.encoding !== "dec_ttl_cnt_ids" && ids.length === 1 && ids[0] === 0;
  if (plain) {
    writeEmpty(w, OFPAT.DEC_NW_TTL);
    return;
  }
  const frame = beginNiciraAction(w, NXAST.DEC_TTL_CNT_IDS);
  w.u16(ids.length).zeros(4);
  for (const id of ids) w.u16(id);
  finishAction(w, frame);
}

function encodeResubmit(w: BufferWriter, action: ResubmitAction): void {
  if (action.table === 0xff && action.encoding === "resubmit" && !action.withConntrack) {
    const frame = beginNiciraAction(w, NXAST.RESUBMIT);
    w.u16(action.port);
    finishAction(w, frame);
    return;
  }
  const frame = beginNiciraAction(w, action.withConntrack ? NXAST.RESUBMIT_TABLE_CT : NXAST.RESUBMIT_TABLE);
  w.u16(action.port).u8(action.table);
  finishAction(w, frame);
}

function encodeSetTunnel(w: BufferWriter, tunnelId: bigint, version: OpenFlowVersion): void {
  const field = lookupField("tun_id");
  if (!field) throw new ActionError("UNSUPPORTED_IN_VERSION", "set_tunnel needs the tun_id field, which the field registry lacks");
  encodeSetField(w, { type: "set_field", field, value: bigIntToBuffer(tunnelId, 8) }, version);
}

function rejectInVersion(action: string, version: OpenFlowVersion, fix: string): never {
  throw new ActionError("UNSUPPORTED_IN_VERSION", `${action} cannot be encoded in ${versionName(version)}: ${fix}`);
}

/** Appends one action in the wire form Open vSwitch 3.1 uses for `version`. */
export function encodeAction(w: BufferWriter, action: Action, version: OpenFlowVersion): void {
  switch (action.type) {
    case "output": {
      const frame = beginAction(w, OFPAT.OUTPUT);
      w.u32(portToOfp11(action.port)).u16(action.maxLen).zeros(6);
      finishAction(w, frame);
      return;
    }
    case "output_reg":
      return encodeOutputReg(w, action);
    case "output_trunc": {
      const frame = beginNiciraAction(w, NXAST.OUTPUT_TRUNC);
      w.u16(action.port).u32(action.maxLen);
      finishAction(w, frame);
      return;
    }
    case "controller":
      return encodeController(w, action);
    case "group":
      return writeU32Action(w, OFPAT.GROUP, action.groupId);
    case "meter":
      if (version !== OpenFlowVersion.OF15) rejectInVersion("the meter action", version, "use the meter instruction (meter:N before the other actions)");
      return writeU32Action(w, OFPAT.METER, action.meterId);
    case "set_field":
      return encodeSetField(w, action, version);
    case "move":
      return encodeMove(w, action, version);
    case "push_vlan": {
      const frame = beginAction(w, OFPAT.PUSH_VLAN);
      w.u16(action.ethertype);
      finishAction(w, frame);
      return;
    }
    case "pop_vlan":
      return writeEmpty(w, OFPAT.POP_VLAN);
    case "set_queue":
      return writeU32Action(w, OFPAT.SET_QUEUE, action.queueId);
    case "pop_queue":
      return writeEmptyNicira(w, NXAST.POP_QUEUE);
    case "dec_ttl":
      return encodeDecTtl(w, action);
    case "set_nw_ttl": {
      const frame = beginAction(w, OFPAT.SET_NW_TTL);
      w.u8(action.ttl);
      finishAction(w, frame);
      return;
    }
    case "resubmit":
      return encodeResubmit(w, action);
    case "set_tunnel":
      return encodeSetTunnel(w, action.tunnelId, version);
    case "ct":
      return encodeCt(w, action, version, encodeActions);
    case "nat":
      return encodeNat(w, action);
    case "ct_clear":
      return writeEmptyNicira(w, NXAST.CT_CLEAR);
    case "conjunction": {
      const frame = beginNiciraAction(w, NXAST.CONJUNCTION);
      w.u8(action.clause).u8(action.nClauses).u32(action.id);
      finishAction(w, frame);
      return;
    }
    case "learn":
      return encodeLearn(w, action);
    case "note": {
      const frame = beginNiciraAction(w, NXAST.NOTE);
      w.bytes(action.data);
      finishAction(w, frame);
      return;
    }
    case "exit":
      return writeEmptyNicira(w, NXAST.EXIT);
    case "fin_timeout": {
      const frame = beginNiciraAction(w, NXAST.FIN_TIMEOUT);
      w.u16(action.idleTimeout).u16(action.hardTimeout);
      finishAction(w, frame);
      return;
    }
    case "clone": {
      const frame = beginNiciraAction(w, NXAST.CLONE);
      w.zeros(6);
      encodeActions(w, action.actions, version);
      finishAction(w, frame);
      return;
    }
    case "multipath":
      return encodeMultipath(w, action);
    case "bundle":
      return encodeBundle(w, action);
    case "sample":
      return encodeSample(w, action);
    case "check_pkt_larger":
      return encodeCheckPktLarger(w, action);
    case "unknown":
      w.bytes(action.bytes);
      return;
  }
}

/**
 * Appends `actions` in the wire form Open vSwitch 3.1 uses for `version`. Throws ActionError
 * UNSUPPORTED_IN_VERSION (e.g. the meter action in OpenFlow 1.3) after possibly writing the
 * actions before the bad one; callers discard the writer on error.
 */
export function encodeActions(w: BufferWriter, actions: readonly Action[], version: OpenFlowVersion): void {
  for (const action of actions) encodeAction(w, action, version);
}
