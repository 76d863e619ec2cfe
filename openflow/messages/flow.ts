// Bodies of FLOW_MOD, FLOW_REMOVED, and flow and aggregate statistics, in their OpenFlow 1.3
// and 1.5 layouts. OpenFlow 1.5 replaces the fixed counter fields of flow_removed and flow
// stats with an ofp_stats (OXS) block and moves fields around; see each function.
import { decodeInstructions, encodeInstructions } from "../actions/index.ts";
import { decodeMatch, encodeMatch } from "../match/index.ts";
import { OpenFlowVersion } from "../version.ts";
import type { BufferWriter } from "../wire/writer.ts";
import type { BufferReader } from "../wire/reader.ts";
import { decodeOxsStats, encodeOxsStats } from "./oxs.ts";
import type {
  FlowModMessage,
  FlowRemovedMessage,
  FlowStats,
  FlowStatsRequest,
  MessageHeaderFields,
  MultipartReplyBody,
} from "./types.ts";

function asVersion(version: number): OpenFlowVersion {
  return version >= OpenFlowVersion.OF15 ? OpenFlowVersion.OF15 : OpenFlowVersion.OF13;
}

export function encodeFlowMod(w: BufferWriter, m: FlowModMessage): void {
  const version = asVersion(m.version);
  w.u64(m.cookie).u64(m.cookieMask).u8(m.tableId).u8(m.command);
  w.u16(m.idleTimeout).u16(m.hardTimeout).u16(m.priority);
  w.u32(m.bufferId).u32(m.outPort).u32(m.outGroup).u16(m.flags);
  w.u16(version === OpenFlowVersion.OF15 ? m.importance : 0);
  encodeMatch(w, m.match, version);
  encodeInstructions(w, m.instructions, version);
}

export function decodeFlowMod(r: BufferReader, header: MessageHeaderFields): FlowModMessage {
  const version = asVersion(header.version);
  const cookie = r.u64("cookie");
  const cookieMask = r.u64("cookie_mask");
  const tableId = r.u8("table_id");
  const command = r.u8("command");
  const idleTimeout = r.u16("idle_timeout");
  const hardTimeout = r.u16("hard_timeout");
  const priority = r.u16("priority");
  const bufferId = r.u32("buffer_id");
  const outPort = r.u32("out_port");
  const outGroup = r.u32("out_group");
  const flags = r.u16("flags");
  const importance = r.u16("importance");

  const match = decodeMatch(r, version);
  const instructions = decodeInstructions(r.sub(r.remaining, "OFPT_FLOW_MOD instructions"), version);
  return {
    kind: "flow_mod",
    ...header,
    cookie,
    cookieMask,
    tableId,
    command,
    idleTimeout,
    hardTimeout,
    priority,
    bufferId,
    outPort,
    outGroup,
    flags,
    importance: version === OpenFlowVersion.OF15 ? importance : 0,
    match,
    instructions,
  };
}

export function encodeFlowRemoved(w: BufferWriter, m: FlowRemovedMessage): void {
  const version = asVersion(m.version);
  if (version === OpenFlowVersion.OF15) {
    w.u8(m.tableId).u8(m.reason).u16(m.priority).u16(m.idleTimeout).u16(m.hardTimeout).u64(m.cookie);
    encodeMatch(w, m.match, version);
    encodeOxsStats(w, {
      durationSec: m.durationSec,
      durationNsec: m.durationNsec,
      ...(m.idleTime !== undefined ? { idleSec: m.idleTime.sec, idleNsec: m.idleTime.nsec } : {}),
      packetCount: m.packetCount,
      byteCount: m.byteCount,
    });
    return;
  }
  w.u64(m.cookie).u16(m.priority).u8(m.reason).u8(m.tableId).u32(m.durationSec).u32(m.durationNsec);
  w.u16(m.idleTimeout).u16(m.hardTimeout).u64(m.packetCount).u64(m.byteCount);
  encodeMatch(w, m.match, version);
}

export function decodeFlowRemoved(r: BufferReader, header: MessageHeaderFields): FlowRemovedMessage {
  const version = asVersion(header.version);
  if (version === OpenFlowVersion.OF15) {
    const tableId = r.u8("table_id");
    const reason = r.u8("reason");
    const priority = r.u16("priority");
    const idleTimeout = r.u16("idle_timeout");
    const hardTimeout = r.u16("hard_timeout");
    const cookie = r.u64("cookie");
    const match = decodeMatch(r, version);
    const stats = decodeOxsStats(r);

    const removed: FlowRemovedMessage = {
      kind: "flow_removed",
      ...header,
      cookie,
      priority,
      reason,
      tableId,
      durationSec: stats.durationSec ?? 0,
      durationNsec: stats.durationNsec ?? 0,
      idleTimeout,
      hardTimeout,
      packetCount: stats.packetCount ?? 0n,
      byteCount: stats.byteCount ?? 0n,
      match,
    };
    if (stats.idleSec !== undefined) removed.idleTime = { sec: stats.idleSec, nsec: stats.idleNsec ?? 0 };
    return removed;
  }
  const cookie = r.u64("cookie");
  const priority = r.u16("priority");
  const reason = r.u8("reason");
  const tableId = r.u8("table_id");
  const durationSec = r.u32("duration_sec");
  const durationNsec = r.u32("duration_nsec");
  const idleTimeout = r.u16("idle_timeout");
  const hardTimeout = r.u16("hard_timeout");
  const packetCount = r.u64("packet_count");
  const byteCount = r.u64("byte_count");
  const match = decodeMatch(r, version);

  return {
    kind: "flow_removed",
    ...header,
    cookie,
    priority,
    reason,
    tableId,
    durationSec,
    durationNsec,
    idleTimeout,
    hardTimeout,
    packetCount,
    byteCount,
    match,
  };
}

/**
 * Writes a flow or aggregate stats request. In OpenFlow 1.5 an aggregate request also
 * names the statistics wanted, as an ofp_stats block of zero counters (what Open vSwitch
 * 3.1 sends).
 */
export function encodeFlowStatsRequest(w: BufferWriter, body: FlowStatsRequest, version: OpenFlowVersion): void {
  w.u8(body.tableId).zeros(3).u32(body.outPort).u32(body.outGroup).zeros(4);
  w.u64(body.cookie).u64(body.cookieMask);
  encodeMatch(w, body.match, version);
  if (body.stat === "aggregate" && version === OpenFlowVersion.OF15) {
    encodeOxsStats(w, { flowCount: 0, packetCount: 0n, byteCount: 0n });
  }
}

export function decodeFlowStatsRequest(
  r: BufferReader,
  stat: FlowStatsRequest["stat"],
  version: OpenFlowVersion,
): FlowStatsRequest {
  const tableId = r.u8("table_id");
  r.skip(3);
  const outPort = r.u32("out_port");
  const outGroup = r.u32("out_group");
  r.skip(4);
  const cookie = r.u64("cookie");
  const cookieMask = r.u64("cookie_mask");
  const match = decodeMatch(r, version);
  r.rest();
  return { stat, tableId, outPort, outGroup, cookie, cookieMask, match };
}

/** Writes one ofp_flow_stats entry with its length filled in. */
export function encodeFlowStatsEntry(w: BufferWriter, flow: FlowStats, version: OpenFlowVersion): void {
  const start = w.length;
  const mark = w.beginLength(start);
  if (version === OpenFlowVersion.OF15) {
    w.zeros(2).u8(flow.tableId).u8(0).u16(flow.priority).u16(flow.idleTimeout).u16(flow.hardTimeout);
    w.u16(flow.flags).u16(flow.importance).u64(flow.cookie);
    encodeMatch(w, flow.match, version);
    encodeOxsStats(w, {
      durationSec: flow.durationSec,
      durationNsec: flow.durationNsec,
      ...(flow.idleAgeSec !== undefined ? { idleSec: flow.idleAgeSec, idleNsec: flow.idleAgeNsec ?? 0 } : {}),
      packetCount: flow.packetCount,
      byteCount: flow.byteCount,
    });
  } else {
    w.u8(flow.tableId).u8(0).u32(flow.durationSec).u32(flow.durationNsec);
    w.u16(flow.priority).u16(flow.idleTimeout).u16(flow.hardTimeout).u16(flow.flags).zeros(4);
    w.u64(flow.cookie).u64(flow.packetCount).u64(flow.byteCount);
    encodeMatch(w, flow.match, version);
  }
  encodeInstructions(w, flow.instructions, version);
  w.endLength(mark);
}

function decodeFlowStatsEntry(r: BufferReader, version: OpenFlowVersion): FlowStats {
  const length = r.u16("flow stats length");
  if (length < 2) r.fail(`flow stats entry length ${length} is too short`);
  const entry = r.sub(length - 2, "ofp_flow_stats");

  if (version === OpenFlowVersion.OF15) {
    entry.skip(2);
    const tableId = entry.u8("table_id");
    entry.skip(1, "reason");
    const priority = entry.u16("priority");
    const idleTimeout = entry.u16("idle_timeout");
    const hardTimeout = entry.u16("hard_timeout");
    const flags = entry.u16("flags");
    const importance = entry.u16("importance");
    const cookie = entry.u64("cookie");
    const match = decodeMatch(entry, version);
    const stats = decodeOxsStats(entry);
    const instructions = decodeInstructions(entry.sub(entry.remaining, "flow stats instructions"), version);

    const flow: FlowStats = {
      tableId,
      durationSec: stats.durationSec ?? 0,
      durationNsec: stats.durationNsec ?? 0,
      priority,
      idleTimeout,
      hardTimeout,
      flags,
      importance,
      cookie,
      packetCount: stats.packetCount ?? 0n,
      byteCount: stats.byteCount ?? 0n,
      match,
      instructions,
    };
    if (stats.idleSec !== undefined) {
      flow.idleAgeSec = stats.idleSec;
      flow.idleAgeNsec = stats.idleNsec ?? 0;
    }
    return flow;
  }

  const tableId = entry.u8("table_id");
  entry.skip(1);
  const durationSec = entry.u32("duration_sec");
  const durationNsec = entry.u32("duration_nsec");
  const priority = entry.u16("priority");
  const idleTimeout = entry.u16("idle_timeout");
  const hardTimeout = entry.u16("hard_timeout");
  const flags = entry.u16("flags");
  entry.skip(4);
  const cookie = entry.u64("cookie");
  const packetCount = entry.u64("packet_count");
  const byteCount = entry.u64("byte_count");
  const match = decodeMatch(entry, version);
  const instructions = decodeInstructions(entry.sub(entry.remaining, "flow stats instructions"), version);
  return {
    tableId,
    durationSec,
    durationNsec,
    priority,
    idleTimeout,
    hardTimeout,
    flags,
    importance: 0,
    cookie,
    packetCount,
    byteCount,
    match,
    instructions,
  };
}

export function decodeFlowStatsReply(r: BufferReader, version: OpenFlowVersion): MultipartReplyBody {
  const flows: FlowStats[] = [];
  while (r.remaining > 0) flows.push(decodeFlowStatsEntry(r, version));
  return { stat: "flow", flows };
}

export function encodeAggregateReply(
  w: BufferWriter,
  body: { packetCount: bigint; byteCount: bigint; flowCount: number },
  version: OpenFlowVersion,
): void {
  if (version === OpenFlowVersion.OF15) {
    encodeOxsStats(w, { flowCount: body.flowCount, packetCount: body.packetCount, byteCount: body.byteCount });
    return;
  }
  w.u64(body.packetCount).u64(body.byteCount).u32(body.flowCount).zeros(4);
}

export function decodeAggregateReply(r: BufferReader, version: OpenFlowVersion): MultipartReplyBody {
  if (version === OpenFlowVersion.OF15) {
    const stats = decodeOxsStats(r);
    return {
      stat: "aggregate",
      packetCount: stats.packetCount ?? 0n,
      byteCount: stats.byteCount ?? 0n,
      flowCount: stats.flowCount ?? 0,
    };
  }
  const packetCount = r.u64("packet_count");
  const byteCount = r.u64("byte_count");
  const flowCount = r.u32("flow_count");
  r.skip(4);
  return { stat: "aggregate", packetCount, byteCount, flowCount };
}
