// ofp_header: version (1 byte), type (1), length (2, the whole message), xid (4).
import type { BufferWriter, LengthMark } from "../wire/writer.ts";
import { BufferReader } from "../wire/reader.ts";

export const HEADER_LENGTH = 8;

/** The decoded ofp_header of a message. */
export interface OfpHeader {
  version: number;
  type: number;
  length: number;
  xid: number;
}

/**
 * Writes an ofp_header whose length is filled in by the returned mark: call
 * `w.endLength(mark)` after the body.
 */
export function beginHeader(w: BufferWriter, fields: { version: number; type: number; xid: number }): LengthMark {
  const start = w.length;
  w.u8(fields.version).u8(fields.type);
  const mark = w.beginLength(start);
  w.u32(fields.xid);
  return mark;
}

/** Reads the ofp_header at the start of `buffer` without checking that the whole message is present. */
export function peekHeader(buffer: Buffer, offset = 0): OfpHeader {
  const r = new BufferReader(buffer.subarray(offset, offset + HEADER_LENGTH), "ofp_header", offset);
  return { version: r.u8("version"), type: r.u8("type"), length: r.u16("length"), xid: r.u32("xid") };
}
