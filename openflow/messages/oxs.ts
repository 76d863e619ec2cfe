// OpenFlow 1.5 flow statistics (ofp_stats): a reserved 16-bit word, a 16-bit length, then
// OXS fields in class 0x8002, padded to 8 bytes. An OXS header is class (16), field (7),
// reserved (1), length (8), like an OXM header without a mask.
import type { BufferWriter } from "../wire/writer.ts";
import type { BufferReader } from "../wire/reader.ts";

const OFPXSC_OPENFLOW_BASIC = 0x8002;

/** OXS field numbers. */
export const OXS = {
  DURATION: 0,
  IDLE_TIME: 1,
  FLOW_COUNT: 3,
  PACKET_COUNT: 4,
  BYTE_COUNT: 5,
} as const;

/** Statistics an ofp_stats block may carry; absent fields were not sent. */
export interface OxsStats {
  durationSec?: number;
  durationNsec?: number;
  idleSec?: number;
  idleNsec?: number;
  flowCount?: number;
  packetCount?: bigint;
  byteCount?: bigint;
}

function oxsHeader(field: number, length: number): number {
  return ((OFPXSC_OPENFLOW_BASIC << 16) | (field << 9) | length) >>> 0;
}

/** Writes an ofp_stats block with the fields present in `stats`, in field-number order. */
export function encodeOxsStats(w: BufferWriter, stats: OxsStats): void {
  const start = w.length;
  w.u16(0);
  const mark = w.beginLength(start);
  if (stats.durationSec !== undefined) {
    w.u32(oxsHeader(OXS.DURATION, 8)).u32(stats.durationSec).u32(stats.durationNsec ?? 0);
  }
  if (stats.idleSec !== undefined) w.u32(oxsHeader(OXS.IDLE_TIME, 8)).u32(stats.idleSec).u32(stats.idleNsec ?? 0);
  if (stats.flowCount !== undefined) w.u32(oxsHeader(OXS.FLOW_COUNT, 4)).u32(stats.flowCount);
  if (stats.packetCount !== undefined) w.u32(oxsHeader(OXS.PACKET_COUNT, 8)).u64(stats.packetCount);
  if (stats.byteCount !== undefined) w.u32(oxsHeader(OXS.BYTE_COUNT, 8)).u64(stats.byteCount);
  w.endLength(mark);
  w.padTo(8, start);
}

/** Reads an ofp_stats block including its padding; unknown OXS fields are skipped. */
export function decodeOxsStats(r: BufferReader): OxsStats {
  const start = r.position;
  r.skip(2, "ofp_stats reserved");
  const length = r.u16("ofp_stats length");
  if (length < 4) r.fail(`ofp_stats length ${length} is below its 4-byte header`);
  const fields = r.sub(length - 4, "OXS fields");
  r.alignTo(8, start);
  const stats: OxsStats = {};
  while (fields.remaining > 0) {
    const header = fields.u32("OXS header");
    const field = (header >>> 9) & 0x7f;
    const value = fields.sub(header & 0xff, `OXS field ${field}`);
    if (header >>> 16 !== OFPXSC_OPENFLOW_BASIC) continue;
    switch (field) {
      case OXS.DURATION:
        stats.durationSec = value.u32("duration sec");
        stats.durationNsec = value.u32("duration nsec");
        break;
      case OXS.IDLE_TIME:
        stats.idleSec = value.u32("idle_time sec");
        stats.idleNsec = value.u32("idle_time nsec");
        break;
      case OXS.FLOW_COUNT:
        stats.flowCount = value.u32("flow_count");
        break;
      case OXS.PACKET_COUNT:
        stats.packetCount = value.u64("packet_count");
        break;
      case OXS.BYTE_COUNT:
        stats.byteCount = value.u64("byte_count");
        break;
      default:
        break;
    }
  }
  return stats;
}
