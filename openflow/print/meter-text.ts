// Text of meters as ovs-ofctl prints them in meter_mod, dump-meters and meter stats.
import { OFPMBT, OFPMF } from "../messages/meter.ts";
import type { MeterBand, MeterConfig, MeterFeatures, MeterStats } from "../messages/types.ts";
import { formatDuration } from "./names.ts";

const FLAG_NAMES: readonly [number, string][] = [
  [OFPMF.KBPS, "kbps"],
  [OFPMF.PKTPS, "pktps"],
  [OFPMF.BURST, "burst"],
  [OFPMF.STATS, "stats"],
];

/** Returns " kbps burst stats"-style text: a space before each set flag. */
export function formatMeterFlags(flags: number): string {
  return FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0)
    .map(([, name]) => ` ${name}`)
    .join("");
}

/** Formats bands, one per line after a newline; burst_size only when the burst flag is set. */
export function formatMeterBands(bands: readonly MeterBand[], flags: number): string {
  return bands
    .map((band) => {
      let line = `\ntype=${band.type === OFPMBT.DSCP_REMARK ? "dscp_remark" : "drop"} rate=${band.rate}`;
      if ((flags & OFPMF.BURST) !== 0) line += ` burst_size=${band.burstSize}`;
      if (band.type === OFPMBT.DSCP_REMARK) line += ` prec_level=${band.precLevel ?? 0}`;
      return line;
    })
    .join("");
}

export function formatMeterConfig(meters: readonly MeterConfig[]): string {
  return meters
    .map(
      (m, i) => `${i === 0 ? "\n" : "\n\n"}meter=${m.meterId}${formatMeterFlags(m.flags)} bands=${formatMeterBands(m.bands, m.flags)}`,
    )
    .join("");
}

export function formatMeterStats(meters: readonly MeterStats[]): string {
  return meters
    .map((m, i) => {
      let text = `${i === 0 ? "\n" : "\n\n"}meter:${m.meterId} flow_count:${m.flowCount} packet_in_count:${m.packetInCount}`;
      text += ` byte_in_count:${m.byteInCount} duration:${formatDuration(m.durationSec, m.durationNsec)}s bands:`;
      m.bands.forEach((b, index) => {
        text += `\n${index}: packet_count:${b.packetCount} byte_count:${b.byteCount}`;
      });
      return text;
    })
    .join("");
}

export function formatMeterFeatures(f: MeterFeatures): string {
  const bandTypes: string[] = [];
  if ((f.bandTypes & (1 << OFPMBT.DROP)) !== 0) bandTypes.push("drop");
  if ((f.bandTypes & (1 << OFPMBT.DSCP_REMARK)) !== 0) bandTypes.push("dscp_remark");
  return (
    `\nmax_meter:${f.maxMeter} max_bands:${f.maxBands} max_color:${f.maxColor}` +
    `\nband_types: ${bandTypes.join(" ")}\ncapabilities:${formatMeterFlags(f.capabilities)}`
  );
}
