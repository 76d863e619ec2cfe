// Action headers: the 4-byte standard header and the 10-byte experimenter header, with the
// length reserved up front and filled in (after padding to 8 bytes) by finishAction.

import type { BufferReader } from "../wire/reader.ts";
import type { BufferWriter, LengthMark } from "../wire/writer.ts";
import { EXPERIMENTER, OFPAT } from "./constants.ts";

/** An action being written: where it starts and where its length field is. */
export interface ActionFrame {
  start: number;
  length: LengthMark;
}

/** Writes a standard action header (type, length to be filled). */
export function beginAction(w: BufferWriter, type: number): ActionFrame {
  const start = w.length;
  w.u16(type);
  const length = w.beginLength(start);
  return { start, length };
}

/** Writes a Nicira extension action header (0xffff, length, NX vendor id, subtype). */
export function beginNiciraAction(w: BufferWriter, subtype: number): ActionFrame {
  const frame = beginAction(w, OFPAT.EXPERIMENTER);
  w.u32(EXPERIMENTER.NICIRA);
  w.u16(subtype);
  return frame;
}

/** Pads the action to a multiple of 8 bytes and writes its length. */
export function finishAction(w: BufferWriter, frame: ActionFrame): void {
  w.padTo(8, frame.start);
  w.endLength(frame.length);
}

/** Reads `count` bytes and throws unless all are zero (reserved and padding fields). */
export function expectZeros(r: BufferReader, count: number, fieldName: string): void {
  const bytes = r.bytes(count, fieldName);
  if (bytes.some((byte) => byte !== 0)) r.fail(`${fieldName} must be zero but is ${bytes.toString("hex")}`);
}
