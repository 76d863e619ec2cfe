// MULTIPART_REQUEST and MULTIPART_REPLY: a type, flags (OFPMPF_MORE when further parts
// follow), 4 bytes of padding, then a body whose layout depends on the type.
import { OpenFlowVersion } from "../version.ts";
import type { BufferWriter } from "../wire/writer.ts";
import type { BufferReader } from "../wire/reader.ts";
import { OFPMP } from "./constants.ts";
import {
  decodeAggregateReply,
  decodeFlowStatsReply,
  decodeFlowStatsRequest,
  encodeAggregateReply,
  encodeFlowStatsEntry,
  encodeFlowStatsRequest,
} from "./flow.ts";
import {
  decodeGroupDescEntries,
  decodeGroupStatsEntries,
  encodeGroupDescEntry,
  encodeGroupStatsEntry,
} from "./group.ts";
import {
  decodeMeterConfigEntries,
  decodeMeterFeatures,
  decodeMeterStatsEntries,
  encodeMeterConfigEntry,
  encodeMeterFeatures,
  encodeMeterStatsEntry,
} from "./meter.ts";
import { decodePortDesc, decodePortStatsEntries, encodePortDesc, encodePortStatsEntry } from "./port.ts";
import type {
  MessageHeaderFields,
  MultipartReplyBody,
  MultipartReplyMessage,
  MultipartRequestBody,
  MultipartRequestMessage,
  QueueStats,
  SwitchDesc,
  TableStats,
} from "./types.ts";

type Stat = Exclude<MultipartRequestBody["stat"], "unknown">;

/** Multipart type number of each `stat` name. */
export const STAT_TYPES: Readonly<Record<Stat, number>> = {
  desc: OFPMP.DESC,
  flow: OFPMP.FLOW,
  aggregate: OFPMP.AGGREGATE,
  table: OFPMP.TABLE,
  port_stats: OFPMP.PORT_STATS,
  queue: OFPMP.QUEUE,
  group: OFPMP.GROUP,
  group_desc: OFPMP.GROUP_DESC,
  group_features: OFPMP.GROUP_FEATURES,
  meter: OFPMP.METER,
  meter_config: OFPMP.METER_CONFIG,
  meter_features: OFPMP.METER_FEATURES,
  table_features: OFPMP.TABLE_FEATURES,
  port_desc: OFPMP.PORT_DESC,
};

const STAT_BY_TYPE = new Map<number, Stat>(Object.entries(STAT_TYPES).map(([stat, type]) => [type, stat as Stat]));

const DESC_STRING_LENGTH = 256;
const SERIAL_NUMBER_LENGTH = 32;

function toVersion(version: number): OpenFlowVersion {
  return version >= OpenFlowVersion.OF15 ? OpenFlowVersion.OF15 : OpenFlowVersion.OF13;
}

/** Returns the multipart type number of a request or reply body. */
export function multipartType(body: MultipartRequestBody | MultipartReplyBody): number {
  return body.stat === "unknown" ? body.type : STAT_TYPES[body.stat];
}

export function encodeMultipartRequest(w: BufferWriter, m: MultipartRequestMessage): void {
  const version = toVersion(m.version);
  const body = m.body;
  w.u16(multipartType(body)).u16(m.flags).zeros(4);
  switch (body.stat) {
    case "flow":
    case "aggregate":
      encodeFlowStatsRequest(w, body, version);
      break;
    case "port_stats":
      w.u32(body.portNo).zeros(4);
      break;
    case "port_desc":
      if (version === OpenFlowVersion.OF15) w.u32(body.portNo).zeros(4);
      break;
    case "group":
      w.u32(body.groupId).zeros(4);
      break;
    case "group_desc":
      if (version === OpenFlowVersion.OF15) w.u32(body.groupId).zeros(4);
      break;
    case "meter":
    case "meter_config":
      w.u32(body.meterId).zeros(4);
      break;
    case "queue":
      w.u32(body.portNo).u32(body.queueId);
      break;
    case "unknown":
      w.bytes(body.data);
      break;
    default:
      break;
  }
}

function decodeRequestBody(r: BufferReader, type: number, version: OpenFlowVersion): MultipartRequestBody {
  const stat = STAT_BY_TYPE.get(type);
  switch (stat) {
    case "flow":
    case "aggregate":
      return decodeFlowStatsRequest(r, stat, version);
    case "port_stats": {
      const portNo = r.u32("port_no");
      r.skip(4);
      return { stat, portNo };
    }
    case "port_desc": {
      if (version !== OpenFlowVersion.OF15 || r.remaining === 0) return { stat, portNo: 0xffffffff };
      const portNo = r.u32("port_no");
      r.skip(4);
      return { stat, portNo };
    }
    case "group": {
      const groupId = r.u32("group_id");
      r.skip(4);
      return { stat, groupId };
    }
    case "group_desc": {
      if (version !== OpenFlowVersion.OF15 || r.remaining === 0) return { stat, groupId: 0xffffffff };
      const groupId = r.u32("group_id");
      r.skip(4);
      return { stat, groupId };
    }
    case "meter":
    case "meter_config": {
      const meterId = r.u32("meter_id");
      r.skip(4);
      return { stat, meterId };
    }
    case "queue":
      return { stat, portNo: r.u32("port_no"), queueId: r.u32("queue_id") };
    case "desc":
    case "table":
    case "meter_features":
    case "group_features":
      return { stat };
    default:
      return { stat: "unknown", type, data: Buffer.from(r.rest()) };
  }
}

export function decodeMultipartRequest(r: BufferReader, header: MessageHeaderFields): MultipartRequestMessage {
  const type = r.u16("multipart type");
  const flags = r.u16("multipart flags");
  r.skip(4);
  return { kind: "multipart_request", ...header, flags, body: decodeRequestBody(r, type, toVersion(header.version)) };
}

function writeDesc(w: BufferWriter, desc: SwitchDesc): void {
  w.fixedString(desc.manufacturer, DESC_STRING_LENGTH).fixedString(desc.hardware, DESC_STRING_LENGTH);
  w.fixedString(desc.software, DESC_STRING_LENGTH).fixedString(desc.serialNumber, SERIAL_NUMBER_LENGTH);
  w.fixedString(desc.datapath, DESC_STRING_LENGTH);
}

function writeTableStats(w: BufferWriter, table: TableStats): void {
  w.u8(table.tableId).zeros(3).u32(table.activeCount).u64(table.lookupCount).u64(table.matchedCount);
}

export function encodeMultipartReply(w: BufferWriter, m: MultipartReplyMessage): void {
  const version = toVersion(m.version);
  const body = m.body;
  w.u16(multipartType(body)).u16(m.flags).zeros(4);
  switch (body.stat) {
    case "desc":
      writeDesc(w, body.desc);
      break;
    case "flow":
      for (const flow of body.flows) encodeFlowStatsEntry(w, flow, version);
      break;
    case "aggregate":
      encodeAggregateReply(w, body, version);
      break;
    case "table":
      for (const table of body.tables) writeTableStats(w, table);
      break;
    case "port_stats":
      for (const port of body.ports) encodePortStatsEntry(w, port, version);
      break;
    case "port_desc":
      for (const port of body.ports) encodePortDesc(w, port, version);
      break;
    case "group":
      for (const group of body.groups) encodeGroupStatsEntry(w, group);
      break;
    case "group_desc":
      for (const group of body.groups) encodeGroupDescEntry(w, group, version);
      break;
    case "meter":
      for (const meter of body.meters) encodeMeterStatsEntry(w, meter);
      break;
    case "meter_config":
      for (const meter of body.meters) encodeMeterConfigEntry(w, meter);
      break;
    case "meter_features":
      encodeMeterFeatures(w, body.features);
      break;
    case "queue":
      for (const q of body.queues) {
        w.u32(q.portNo).u32(q.queueId).u64(q.txBytes).u64(q.txPackets).u64(q.txErrors).u32(q.durationSec).u32(q.durationNsec);
      }
      break;
    case "unknown":
      w.bytes(body.data);
      break;
  }
}

function decodeReplyBody(r: BufferReader, type: number, version: OpenFlowVersion): MultipartReplyBody {
  switch (STAT_BY_TYPE.get(type)) {
    case "desc":
      return {
        stat: "desc",
        desc: {
          manufacturer: r.fixedString(DESC_STRING_LENGTH, "mfr_desc"),
          hardware: r.fixedString(DESC_STRING_LENGTH, "hw_desc"),
          software: r.fixedString(DESC_STRING_LENGTH, "sw_desc"),
          serialNumber: r.fixedString(SERIAL_NUMBER_LENGTH, "serial_num"),
          datapath: r.fixedString(DESC_STRING_LENGTH, "dp_desc"),
        },
      };
    case "flow":
      return decodeFlowStatsReply(r, version);
    case "aggregate":
      return decodeAggregateReply(r, version);
    case "table": {
      const tables: TableStats[] = [];
      while (r.remaining > 0) {
        const tableId = r.u8("table_id");
        r.skip(3);
        tables.push({
          tableId,
          activeCount: r.u32("active_count"),
          lookupCount: r.u64("lookup_count"),
          matchedCount: r.u64("matched_count"),
        });
      }
      return { stat: "table", tables };
    }
    case "port_stats":
      return { stat: "port_stats", ports: decodePortStatsEntries(r, version) };
    case "port_desc": {
      const ports = [];
      while (r.remaining > 0) ports.push(decodePortDesc(r, version));
      return { stat: "port_desc", ports };
    }
    case "group":
      return { stat: "group", groups: decodeGroupStatsEntries(r) };
    case "group_desc":
      return { stat: "group_desc", groups: decodeGroupDescEntries(r, version) };
    case "meter":
      return { stat: "meter", meters: decodeMeterStatsEntries(r) };
    case "meter_config":
      return { stat: "meter_config", meters: decodeMeterConfigEntries(r) };
    case "meter_features":
      return { stat: "meter_features", features: decodeMeterFeatures(r) };
    case "queue": {
      const queues: QueueStats[] = [];
      while (r.remaining > 0) {
        queues.push({
          portNo: r.u32("port_no"),
          queueId: r.u32("queue_id"),
          txBytes: r.u64("tx_bytes"),
          txPackets: r.u64("tx_packets"),
          txErrors: r.u64("tx_errors"),
          durationSec: r.u32("duration_sec"),
          durationNsec: r.u32("duration_nsec"),
        });
      }
      return { stat: "queue", queues };
    }
    default:
      return { stat: "unknown", type, data: Buffer.from(r.rest()) };
  }
}

export function decodeMultipartReply(r: BufferReader, header: MessageHeaderFields): MultipartReplyMessage {
  const type = r.u16("multipart type");
  const flags = r.u16("multipart flags");
  r.skip(4);
  return { kind: "multipart_reply", ...header, flags, body: decodeReplyBody(r, type, toVersion(header.version)) };
}

/**
 * Joins the parts of a multipart reply into one body (the parts arrive as messages with
 * OFPMPF_MORE set on all but the last). Lists are concatenated in order; single-valued
 * bodies (desc, aggregate, meter_features) take the last part. Parts of different types
 * are a protocol error.
 */
export function mergeReplyBodies(parts: readonly MultipartReplyBody[]): MultipartReplyBody {
  const last = parts[parts.length - 1];
  if (last === undefined) throw new RangeError("cannot merge an empty list of multipart reply parts");
  if (parts.some((part) => part.stat !== last.stat)) {
    throw new TypeError(`multipart reply parts mix types: ${[...new Set(parts.map((p) => p.stat))].join(", ")}`);
  }
  if (parts.length === 1) return last;
  switch (last.stat) {
    case "flow":
      return { stat: "flow", flows: concatLists(parts, (p) => (p.stat === "flow" ? p.flows : [])) };
    case "table":
      return { stat: "table", tables: concatLists(parts, (p) => (p.stat === "table" ? p.tables : [])) };
    case "port_stats":
      return { stat: "port_stats", ports: concatLists(parts, (p) => (p.stat === "port_stats" ? p.ports : [])) };
    case "port_desc":
      return { stat: "port_desc", ports: concatLists(parts, (p) => (p.stat === "port_desc" ? p.ports : [])) };
    case "group":
      return { stat: "group", groups: concatLists(parts, (p) => (p.stat === "group" ? p.groups : [])) };
    case "group_desc":
      return { stat: "group_desc", groups: concatLists(parts, (p) => (p.stat === "group_desc" ? p.groups : [])) };
    case "meter":
      return { stat: "meter", meters: concatLists(parts, (p) => (p.stat === "meter" ? p.meters : [])) };
    case "meter_config":
      return { stat: "meter_config", meters: concatLists(parts, (p) => (p.stat === "meter_config" ? p.meters : [])) };
    case "queue":
      return { stat: "queue", queues: concatLists(parts, (p) => (p.stat === "queue" ? p.queues : [])) };
    case "unknown":
      return { ...last, data: Buffer.concat(parts.map((p) => (p.stat === "unknown" ? p.data : Buffer.alloc(0)))) };
    default:
      return last;
  }
}

function concatLists<T>(parts: readonly MultipartReplyBody[], pick: (part: MultipartReplyBody) => readonly T[]): T[] {
  const out: T[] = [];
  for (const part of parts) for (const item of pick(part)) out.push(item);
  return out;
}
