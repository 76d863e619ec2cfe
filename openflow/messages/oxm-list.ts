// Bare OXM field lists: the same fields as an ofp_match, without its 4-byte type/length
// header and trailing padding. NXT_PACKET_IN2 metadata and the Open vSwitch group selection
// method use this form. The codec reuses the match encoder by adding or removing that
// header, so one field table serves both forms.
import { decodeMatch, encodeMatch } from "../match/index.ts";
import type { Match } from "../match/index.ts";
import type { OpenFlowVersion } from "../version.ts";
import { BufferReader } from "../wire/reader.ts";
import { BufferWriter } from "../wire/writer.ts";

/** ofp_match.type for an OXM match. */
const OFPMT_OXM = 1;

/** Writes the fields of `match` with no ofp_match header and no padding. */
export function encodeOxmList(w: BufferWriter, match: Match, version: OpenFlowVersion): void {
  const scratch = new BufferWriter(64);
  encodeMatch(scratch, match, version);
  const encoded = scratch.toBuffer();
  const matchLength = encoded.readUInt16BE(2);
  w.bytes(encoded.subarray(4, matchLength));
}

/**
 * Decodes bare OXM fields, `fields` being exactly the field bytes. Prerequisites are not
 * checked because these lists describe packets, not flow matches.
 */
export function decodeOxmList(fields: Buffer, version: OpenFlowVersion, context: string): Match {
  const length = 4 + fields.length;
  const padded = Math.ceil(length / 8) * 8;
  const wrapped = Buffer.alloc(padded);
  wrapped.writeUInt16BE(OFPMT_OXM, 0);
  wrapped.writeUInt16BE(length, 2);
  fields.copy(wrapped, 4);
  return decodeMatch(new BufferReader(wrapped, context), version, { prerequisites: "skip" });
}
