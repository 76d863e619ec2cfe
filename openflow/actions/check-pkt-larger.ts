// check_pkt_larger(LEN)->DST[bit] (NXAST_CHECK_PKT_LARGER, 24 bytes): sets one bit to whether
// the packet is longer than LEN bytes. The destination header (4 or 8 bytes) sits in the
// zero-padded tail after the 16-bit length and bit offset.

import type { BufferReader } from "../wire/reader.ts";
import type { BufferWriter } from "../wire/writer.ts";
import { NXAST } from "./constants.ts";
import { ActionError, badArgument } from "./errors.ts";
import { formatSubfieldText, parseSubfieldText, readWireFieldHeader, writeNxmHeader } from "./field-refs.ts";
import { beginNiciraAction, expectZeros, finishAction } from "./frame.ts";
import type { CheckPktLargerAction } from "./types.ts";

/** The fixed size Open vSwitch gives the action, whatever the header length. */
const ACTION_LENGTH = 24;

export function encodeCheckPktLarger(w: BufferWriter, action: CheckPktLargerAction): void {
  const frame = beginNiciraAction(w, NXAST.CHECK_PKT_LARGER);
  w.u16(action.packetLength).u16(action.destination.offset);
  writeNxmHeader(w, action.destination.field);
  w.zeros(ACTION_LENGTH - (w.length - frame.start));
  finishAction(w, frame);
}

export function decodeCheckPktLarger(r: BufferReader): CheckPktLargerAction {
  const packetLength = r.u16("pkt_len");
  const offset = r.u16("offset");
  const { field } = readWireFieldHeader(r);
  expectZeros(r, r.remaining, "check_pkt_larger padding");
  if (offset >= field.bits) r.fail(`check_pkt_larger destination bit ${offset} is outside the ${field.bits}-bit field ${field.name}`);
  if (!field.writable) r.fail(`check_pkt_larger destination ${field.name} is not writable`);
  return { type: "check_pkt_larger", packetLength, destination: { field, offset, nBits: 1 } };
}

export function formatCheckPktLarger(action: CheckPktLargerAction): string {
  return `check_pkt_larger(${action.packetLength})->${formatSubfieldText(action.destination)}`;
}

/** Parses the text after `check_pkt_larger(`: `LEN)->DST[bit]`. */
export function parseCheckPktLarger(text: string): CheckPktLargerAction {
  const expected = "check_pkt_larger(LEN)->FIELD[BIT], e.g. check_pkt_larger(1500)->reg0[0]";
  const arrow = text.indexOf("->");
  if (arrow === -1 || arrow + 2 === text.length) badArgument("check_pkt_larger", text, expected);
  const lengthText = text.slice(0, arrow).replace(/\)$/, "");
  if (!/^[0-9]+$/.test(lengthText) || Number(lengthText) > 0xffff) badArgument("check_pkt_larger", lengthText, `a 16-bit packet length (${expected})`);
  const destination = parseSubfieldText(text.slice(arrow + 2), "check_pkt_larger");
  if (destination.nBits !== 1) throw new ActionError("BAD_ARGUMENT", `invalid check_pkt_larger argument "${text}": only a 1-bit destination field is allowed, e.g. reg0[0]`);
  return { type: "check_pkt_larger", packetLength: Number(lengthText), destination };
}
