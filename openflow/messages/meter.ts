// METER_MOD and the meter multipart bodies (meter stats, meter config, meter features),
// whose layouts are the same in OpenFlow 1.3 and 1.5.
import type { BufferWriter } from "../wire/writer.ts";
import type { BufferReader } from "../wire/reader.ts";
import { OpenFlowInvalidMessageError } from "./errors.ts";
import type { MessageHeaderFields, MeterBand, MeterConfig, MeterFeatures, MeterModMessage, MeterStats } from "./types.ts";

/** Meter band types (OFPMBT_*). */
export const OFPMBT = { DROP: 1, DSCP_REMARK: 2 } as const;

/** Meter flags (OFPMF_*). */
export const OFPMF = { KBPS: 1, PKTPS: 2, BURST: 4, STATS: 8 } as const;

/** Meter commands (OFPMC_*), with the word ovs-ofctl prints. */
export const METER_COMMAND_NAMES = ["ADD", "MOD", "DEL"] as const;

const BAND_LENGTH = 16;

function writeBand(w: BufferWriter, band: MeterBand): void {
  w.u16(band.type).u16(BAND_LENGTH).u32(band.rate).u32(band.burstSize);
  if (band.type === OFPMBT.DSCP_REMARK) w.u8(band.precLevel ?? 0).zeros(3);
  else w.zeros(4);
}

/** Reads bands until the end of `r`. Unknown band types are rejected as a switch does. */
function readBands(r: BufferReader): MeterBand[] {
  const bands: MeterBand[] = [];
  while (r.remaining > 0) {
    const type = r.u16("band type");
    const length = r.u16("band length");
    if (length < BAND_LENGTH) r.fail(`meter band length ${length} is below ${BAND_LENGTH}`);
    const band = r.sub(length - 4, "ofp_meter_band");
    const rate = band.u32("rate");
    const burstSize = band.u32("burst_size");
    if (type === OFPMBT.DROP) {
      bands.push({ type, rate, burstSize });
    } else if (type === OFPMBT.DSCP_REMARK) {
      bands.push({ type, rate, burstSize, precLevel: band.u8("prec_level") });
    } else {
      throw new OpenFlowInvalidMessageError("OFPMMFC_BAD_BAND", `meter band type ${type} is not drop (1) or dscp_remark (2)`);
    }
  }
  return bands;
}

export function encodeMeterMod(w: BufferWriter, m: MeterModMessage): void {
  w.u16(m.command).u16(m.flags).u32(m.meterId);
  for (const band of m.bands) writeBand(w, band);
}

/** Decodes a meter_mod, rejecting what Open vSwitch rejects: unknown commands, kbps with pktps. */
export function decodeMeterMod(r: BufferReader, header: MessageHeaderFields): MeterModMessage {
  const command = r.u16("command");
  const flags = r.u16("flags");
  const meterId = r.u32("meter_id");
  if (command > 2) {
    throw new OpenFlowInvalidMessageError("OFPMMFC_BAD_COMMAND", `meter command ${command} is not add, modify or delete`);
  }
  const rateFlags = flags & (OFPMF.KBPS | OFPMF.PKTPS);
  if (rateFlags === (OFPMF.KBPS | OFPMF.PKTPS)) {
    throw new OpenFlowInvalidMessageError("OFPMMFC_BAD_FLAGS", `meter flags 0x${flags.toString(16)} set both kbps and pktps`);
  }
  return { kind: "meter_mod", ...header, command, flags, meterId, bands: readBands(r) };
}

export function encodeMeterConfigEntry(w: BufferWriter, meter: MeterConfig): void {
  const start = w.length;
  const mark = w.beginLength(start);
  w.u16(meter.flags).u32(meter.meterId);
  for (const band of meter.bands) writeBand(w, band);
  w.endLength(mark);
}

export function decodeMeterConfigEntries(r: BufferReader): MeterConfig[] {
  const meters: MeterConfig[] = [];
  while (r.remaining > 0) {
    const length = r.u16("meter config length");
    if (length < 8) r.fail(`meter config length ${length} is below 8`);
    const entry = r.sub(length - 2, "ofp_meter_config");
    const flags = entry.u16("flags");
    const meterId = entry.u32("meter_id");
    meters.push({ flags, meterId, bands: readBands(entry) });
  }
  return meters;
}

export function encodeMeterStatsEntry(w: BufferWriter, meter: MeterStats): void {
  const start = w.length;
  w.u32(meter.meterId);
  const mark = w.beginLength(start);
  w.zeros(6).u32(meter.flowCount).u64(meter.packetInCount).u64(meter.byteInCount);
  w.u32(meter.durationSec).u32(meter.durationNsec);
  for (const band of meter.bands) w.u64(band.packetCount).u64(band.byteCount);
  w.endLength(mark);
}

export function decodeMeterStatsEntries(r: BufferReader): MeterStats[] {
  const meters: MeterStats[] = [];
  while (r.remaining > 0) {
    const meterId = r.u32("meter_id");
    const length = r.u16("meter stats length");
    if (length < 40) r.fail(`meter stats length ${length} is below the 40-byte ofp_meter_stats`);
    const entry = r.sub(length - 6, "ofp_meter_stats");
    entry.skip(6);
    const flowCount = entry.u32("flow_count");
    const packetInCount = entry.u64("packet_in_count");
    const byteInCount = entry.u64("byte_in_count");
    const durationSec = entry.u32("duration_sec");
    const durationNsec = entry.u32("duration_nsec");
    const bands: MeterStats["bands"] = [];
    while (entry.remaining > 0) {
      bands.push({ packetCount: entry.u64("packet_band_count"), byteCount: entry.u64("byte_band_count") });
    }
    meters.push({ meterId, flowCount, packetInCount, byteInCount, durationSec, durationNsec, bands });
  }
  return meters;
}

export function encodeMeterFeatures(w: BufferWriter, f: MeterFeatures): void {
  w.u32(f.maxMeter).u32(f.bandTypes).u32(f.capabilities).u8(f.maxBands).u8(f.maxColor).zeros(2);
}

export function decodeMeterFeatures(r: BufferReader): MeterFeatures {
  const maxMeter = r.u32("max_meter");
  const bandTypes = r.u32("band_types");
  const capabilities = r.u32("capabilities");
  const maxBands = r.u8("max_bands");
  const maxColor = r.u8("max_color");
  r.skip(2);
  return { maxMeter, bandTypes, capabilities, maxBands, maxColor };
}
