// Prints messages as `ovs-ofctl ofp-print` does (Open vSwitch 3.1), so engineers can diff
// our text with theirs. formatMessage prints a decoded message; formatMessageBytes decodes
// first and prints a decode failure the way ovs-ofctl does.
import { formatActions, formatInstructions } from "../actions/index.ts";
import { formatMatch } from "../match/index.ts";
import type { Match } from "../match/index.ts";
import { formatPort, portFromOfp11 } from "../match/fields.ts";
import { BUNDLE_CONTROL_TYPE_NAMES } from "../messages/bundle.ts";
import { decodeMessage } from "../messages/codec.ts";
import { FLOW_MOD_COMMANDS, NO_BUFFER, OFPG, OFPMPF_MORE, OFPP, OFPT } from "../messages/constants.ts";
import { errorName, OFPET } from "../messages/error-codes.ts";
import { OpenFlowInvalidMessageError } from "../messages/errors.ts";
import { GROUP_TYPE_NAMES, OFPG_BUCKET, OFPGT_SELECT } from "../messages/group.ts";
import { peekHeader } from "../messages/header.ts";
import { METER_COMMAND_NAMES } from "../messages/meter.ts";
import type {
  Bucket,
  ErrorMessage,
  FeaturesReplyMessage,
  FlowModMessage,
  FlowStats,
  GroupModMessage,
  HelloMessage,
  MultipartReplyBody,
  MultipartRequestBody,
  OpenFlowMessage,
  PacketIn2Fields,
  PacketInMessage,
  PacketOutMessage,
  SelectionMethod,
} from "../messages/types.ts";
import { OpenFlowDecodeError } from "../wire/reader.ts";
import { formatHexDump } from "./hex-dump.ts";
import { formatPacket } from "./packet-text.ts";
import { formatMeterBands, formatMeterConfig, formatMeterFeatures, formatMeterFlags, formatMeterStats } from "./meter-text.ts";
import {
  CAPABILITY_NAMES,
  FLOW_REMOVED_REASONS,
  formatBitNames,
  formatDuration,
  formatFlowModFlags,
  FRAG_NAMES,
  messageName,
  OFPT_NAMES,
  PACKET_IN_FORMATS,
  PACKET_IN_REASONS,
  ROLE_NAMES,
  ROLE_STATUS_REASONS,
  versionTag,
} from "./names.ts";
import { formatAsyncConfig } from "./async-text.ts";
import { formatPortDescs, formatPortMod, formatPortStats, formatQueueConfig, formatQueueStats } from "./port-text.ts";
import { formatFieldList, matchWithInPort } from "./match-text.ts";

/** Formats an OpenFlow 1.1+ 32-bit port number with Open vSwitch's names (LOCAL, CONTROLLER). */
export function formatOfPort(port: number): string {
  return formatPort(portFromOfp11(port));
}

/** Returns "priority=N," when N is not the default, then the match; "" for an empty default. */
export function formatMatchWithPriority(match: Match, priority: number): string {
  return formatMatch(match, { priority });
}

function formatHello(m: HelloMessage): string {
  const versions = m.bitmapVersions ?? Array.from({ length: Math.min(m.version, 31) }, (_, i) => i + 1);
  let out = `\n version bitmap: ${versions.map((v) => `0x${v.toString(16).padStart(2, "0")}`).join(", ")}`;
  if (m.unknownElements !== undefined) out += `\n unknown data in hello:\n`;
  return out;
}

function formatError(m: ErrorMessage): string {
  const name = errorName(m);
  if (m.type === OFPET.HELLO_FAILED) return ` ${name}\n${m.data.toString("latin1")}`;
  if (m.data.length >= 8) {
    try {
      return ` ${name}\n${formatMessageBytes(m.data).replace(/\n$/, "")}`;
    } catch {
      // Fall through to the hex dump: the data is a truncated copy of the request.
    }
  }
  return ` ${name}\n${formatHexDump(m.data, { ascii: true }).replace(/\n$/, "")}`;
}

function formatFeaturesReply(m: FeaturesReplyMessage): string {
  let out = ` dpid:${m.datapathId.toString(16).padStart(16, "0")}\n`;
  out += `n_tables:${m.nTables}, n_buffers:${m.nBuffers}`;
  if (m.auxiliaryId !== 0) out += `, auxiliary_id:${m.auxiliaryId}`;
  const known = m.version >= 5 ? 0x76f : 0x16f;
  out += `\ncapabilities: ${formatBitNames(m.capabilities & known, CAPABILITY_NAMES, " ")}`;
  return out;
}

function formatFlowMod(m: FlowModMessage): string {
  let out = ` ${FLOW_MOD_COMMANDS[m.command] ?? `cmd:${m.command}`}`;
  if (m.tableId !== 0) out += ` table:${m.tableId}`;
  out += " " + formatMatchWithPriority(m.match, m.priority);
  if (!out.endsWith(" ")) out += " ";
  if (m.command === 0) {
    if (m.cookie !== 0n) out += `cookie:0x${m.cookie.toString(16)} `;
  } else if (m.cookieMask !== 0n) {
    out += `cookie:0x${m.cookie.toString(16)}/0x${m.cookieMask.toString(16)} `;
  }
  if (m.idleTimeout !== 0) out += `idle:${m.idleTimeout} `;
  if (m.hardTimeout !== 0) out += `hard:${m.hardTimeout} `;
  if (m.importance !== 0) out += `importance:${m.importance} `;
  if (m.bufferId !== NO_BUFFER) out += `buf:0x${m.bufferId.toString(16)} `;
  if (m.outPort !== OFPP.ANY) out += `out_port:${formatOfPort(m.outPort)} `;
  out += formatFlowModFlags(m.flags);
  return out + `actions=${formatInstructions(m.instructions)}`;
}

/** Formats one flow stats entry as a dump-flows line, without the leading space or newline. */
export function formatFlowStats(flow: FlowStats): string {
  let out = `cookie=0x${flow.cookie.toString(16)}, duration=${formatDuration(flow.durationSec, flow.durationNsec)}s, `;
  out += `table=${flow.tableId}, n_packets=${flow.packetCount}, n_bytes=${flow.byteCount}, `;
  if (flow.idleTimeout !== 0) out += `idle_timeout=${flow.idleTimeout}, `;
  if (flow.hardTimeout !== 0) out += `hard_timeout=${flow.hardTimeout}, `;
  out += formatFlowModFlags(flow.flags);
  if (flow.importance !== 0) out += `importance=${flow.importance}, `;
  if (flow.idleAgeSec !== undefined) out += `idle_age=${flow.idleAgeSec}, `;
  const match = formatMatchWithPriority(flow.match, flow.priority);
  if (match !== "") out += match + " ";
  return out + `actions=${formatInstructions(flow.instructions)}`;
}

function formatPacketInCommon(fields: {
  tableId: number | undefined;
  cookie: bigint | undefined;
  totalLen: number;
  metadata: string;
  reason: number;
  data: Buffer;
  bufferId: number;
}): string {
  let out = "";
  if (fields.tableId !== undefined && fields.tableId !== 0) out += ` table_id=${fields.tableId}`;
  if (fields.cookie !== undefined && fields.cookie !== 0xffffffffffffffffn) out += ` cookie=0x${fields.cookie.toString(16)}`;
  out += ` total_len=${fields.totalLen} ${fields.metadata}`;
  out += ` (via ${PACKET_IN_REASONS[fields.reason] ?? `reason${fields.reason}`})`;
  out += ` data_len=${fields.data.length}`;
  if (fields.bufferId === NO_BUFFER) {
    out += " (unbuffered)";
    if (fields.totalLen !== fields.data.length) out += " (***total_len != data_len***)";
  } else {
    out += ` buffer=0x${fields.bufferId.toString(16).padStart(8, "0")}`;
    if (fields.totalLen < fields.data.length) out += " (***total_len < data_len***)";
  }
  return out;
}

/** Text options: `verbosity` follows ovs-ofctl (1-2 describe packets, 3+ add their hex dump). */
export interface FormatOptions {
  verbosity?: number;
}

const DEFAULT_VERBOSITY = 2;

/** Returns the packet description and, at verbosity 3 and above, its hex dump. */
function formatPacketData(data: Buffer, options: FormatOptions): string {
  const verbosity = options.verbosity ?? DEFAULT_VERBOSITY;
  let out = verbosity > 0 ? formatPacket(data) : "";
  if (verbosity > 2) out += formatHexDump(data, { ascii: false });
  return out;
}

function formatPacketIn(m: PacketInMessage, options: FormatOptions): string {
  return formatPacketInLine(m) + "\n" + formatPacketData(m.data, options);
}

function formatPacketInLine(m: PacketInMessage): string {
  return formatPacketInCommon({
    tableId: m.tableId,
    cookie: m.cookie,
    totalLen: m.totalLen,
    metadata: formatMatch(m.match),
    reason: m.reason,
    data: m.data,
    bufferId: m.bufferId,
  });
}

function formatPacketIn2(m: PacketIn2Fields, options: FormatOptions): string {
  let out = formatPacketInCommon({
    tableId: m.tableId,
    cookie: m.cookie,
    totalLen: m.totalLen ?? m.data.length,
    metadata: m.metadata !== undefined ? formatMatch(m.metadata) : "",
    reason: m.reason ?? 0,
    data: m.data,
    bufferId: m.bufferId ?? NO_BUFFER,
  });
  out += "\n";
  if (m.userdata !== undefined && m.userdata.length > 0) {
    out += ` userdata=${[...m.userdata].map((b) => b.toString(16).padStart(2, "0")).join(".")}\n`;
  }
  return out + formatPacketData(m.data, options);
}

function formatPacketOut(m: PacketOutMessage, options: FormatOptions): string {
  let out = ` ${formatMatch(matchWithInPort(m))} actions=${formatActions(m.actions)}`;
  if (m.bufferId !== NO_BUFFER) return out + ` buffer=0x${m.bufferId.toString(16).padStart(8, "0")}`;
  out += ` data_len=${m.data.length}`;
  if (m.data.length === 0) return out;
  const verbosity = options.verbosity ?? DEFAULT_VERBOSITY;
  if (verbosity > 0) out += `\n${formatPacket(m.data)}`;
  if (verbosity > 2) out += formatHexDump(m.data, { ascii: false });
  return out;
}

function formatBucketId(label: string, id: number): string {
  if (id === OFPG_BUCKET.FIRST) return `${label}first,`;
  if (id === OFPG_BUCKET.LAST) return `${label}last,`;
  if (id === OFPG_BUCKET.ALL) return `${label}all,`;
  return `${label}${id},`;
}

function formatSelectionMethod(selection: SelectionMethod | undefined): string {
  if (selection === undefined || selection.method === "") return "";
  let out = `,selection_method=${selection.method}`;
  if (selection.param !== 0n) out += `,selection_method_param=${selection.param}`;
  const fields = formatFieldList(selection.fields);
  if (fields.length === 1) out += `,fields=${fields[0] ?? ""}`;
  else if (fields.length > 1) out += `,fields(${fields.join(",")})`;
  return out;
}

/** Formats a group as ovs-ofctl does in group_mod and dump-groups output. */
export function formatGroup(group: {
  version: number;
  groupId: number;
  groupType: number;
  buckets: readonly Bucket[];
  selectionMethod?: SelectionMethod | undefined;
  suppressType?: boolean;
}): string {
  let out = `group_id=${group.groupId}`;
  if (group.suppressType !== true) out += `,type=${GROUP_TYPE_NAMES[group.groupType] ?? "unknown"}`;
  out += formatSelectionMethod(group.selectionMethod);
  if (group.buckets.length === 0) return out;
  out += ",";
  for (const bucket of group.buckets) {
    out += "bucket=";
    if (group.version >= 6 && bucket.bucketId !== undefined) out += formatBucketId("bucket_id:", bucket.bucketId);
    if (bucket.weight !== (group.groupType === OFPGT_SELECT ? 1 : 0)) out += `weight:${bucket.weight},`;
    if (bucket.watchPort !== OFPP.ANY) out += `watch_port:${formatOfPort(bucket.watchPort)},`;
    if (bucket.watchGroup !== OFPG.ANY) out += `watch_group:${bucket.watchGroup},`;
    out += `actions=${formatActions(bucket.actions)},`;
  }
  return out.replace(/,$/, "");
}

const GROUP_COMMAND_NAMES: Readonly<Record<number, string>> = {
  0: "ADD",
  1: "MOD",
  2: "DEL",
  3: "INSERT_BUCKET",
  5: "REMOVE_BUCKET",
  0x8000: "ADD_OR_MOD",
};

function formatGroupMod(m: GroupModMessage): string {
  const bucketCommand = m.command === 3 || m.command === 5;
  let out = `\n ${GROUP_COMMAND_NAMES[m.command] ?? `cmd:${m.command}`} `;
  if (bucketCommand && m.version >= 6) out += formatBucketId("command_bucket_id:", m.commandBucketId ?? OFPG_BUCKET.ALL);
  return (
    out +
    formatGroup({
      version: m.version,
      groupId: m.groupId,
      groupType: m.groupType,
      buckets: m.buckets,
      selectionMethod: m.selectionMethod,
      suppressType: bucketCommand,
    })
  );
}

function formatMultipartRequest(body: MultipartRequestBody): string {
  switch (body.stat) {
    case "port_stats":
      return ` port_no=${formatOfPort(body.portNo)}`;
    case "port_desc":
      return ` port=${formatOfPort(body.portNo)}`;
    case "queue":
      return ` port=${formatOfPort(body.portNo)} queue=${body.queueId === 0xffffffff ? "ALL" : body.queueId}`;
    case "group":
    case "group_desc":
      return body.groupId === OFPG.ALL ? " group_id=ALL" : ` group_id=${body.groupId === OFPG.ANY ? "ANY" : body.groupId}`;
    case "meter":
    case "meter_config":
      return ` meter=${formatMeterId(body.meterId)}`;
    case "flow":
    case "aggregate": {
      let out = "";
      if (body.tableId !== 0xff) out += ` table=${body.tableId}`;
      if (body.outPort !== OFPP.ANY) out += ` out_port=${formatOfPort(body.outPort)}`;
      const match = formatMatch(body.match);
      if (match !== "") out += ` ${match}`;
      return out;
    }
    default:
      return "";
  }
}

function formatMeterId(id: number): string {
  if (id === 0xffffffff) return "all";
  if (id === 0xfffffffe) return "controller";
  if (id === 0xfffffffd) return "slowpath";
  return `${id}`;
}

function formatMultipartReply(body: MultipartReplyBody, version: number): string {
  switch (body.stat) {
    case "flow":
      return body.flows.map((flow) => `\n ${formatFlowStats(flow)}`).join("");
    case "aggregate":
      return ` packet_count=${body.packetCount} byte_count=${body.byteCount} flow_count=${body.flowCount}`;
    case "table":
      return body.tables
        .map(
          (t, i) =>
            `${i === 0 ? "" : "\n"}\n  table ${t.tableId}:\n    active=${t.activeCount}, lookup=${t.lookupCount}, matched=${t.matchedCount}`,
        )
        .join("");
    case "port_stats":
      return formatPortStats(body.ports);
    case "port_desc":
      return formatPortDescs(body.ports);
    case "group":
      return body.groups
        .map((g) => {
          let line = `\n group_id=${g.groupId},`;
          if (g.durationSec !== 0xffffffff) line += `duration=${formatDuration(g.durationSec, g.durationNsec)}s,`;
          line += `ref_count=${g.refCount},packet_count=${g.packetCount},byte_count=${g.byteCount}`;
          g.buckets.forEach((b, i) => {
            if (b.packetCount !== 0xffffffffffffffffn) {
              line += `,bucket${i}:packet_count=${b.packetCount},byte_count=${b.byteCount}`;
            }
          });
          return line;
        })
        .join("");
    case "group_desc":
      return body.groups.map((g) => `\n ${formatGroup({ version, ...g })}`).join("");
    case "meter":
      return formatMeterStats(body.meters);
    case "meter_config":
      return formatMeterConfig(body.meters);
    case "meter_features":
      return formatMeterFeatures(body.features);
    case "queue":
      return formatQueueStats(body.queues);
    case "desc":
      return (
        `\nManufacturer: ${body.desc.manufacturer}\nHardware: ${body.desc.hardware}\n` +
        `Software: ${body.desc.software}\nSerial Num: ${body.desc.serialNumber}\nDP Description: ${body.desc.datapath}`
      );
    default:
      return "";
  }
}

function formatBundleFlags(flags: number): string {
  const names: string[] = [];
  if ((flags & 1) !== 0) names.push("atomic");
  if ((flags & 2) !== 0) names.push("ordered");
  return names.join(" ");
}

function formatBody(m: OpenFlowMessage, options: FormatOptions): string {
  switch (m.kind) {
    case "hello":
      return formatHello(m);
    case "error":
      return formatError(m);
    case "echo_request":
    case "echo_reply":
      return ` ${m.data.length} bytes of payload` + (m.data.length > 0 ? `\n${formatHexDump(m.data, { ascii: true })}` : "");
    case "features_reply":
      return formatFeaturesReply(m);
    case "get_config_reply":
    case "set_config":
      return ` frags=${FRAG_NAMES[m.flags & 3] ?? "normal"} miss_send_len=${m.missSendLen}`;
    case "role_request":
    case "role_reply": {
      let out = m.role !== 0 ? ` role=${ROLE_NAMES[m.role] ?? m.role}` : "";
      if (m.role === 2 || m.role === 3) out += ` generation_id=${m.generationId}`;
      return out;
    }
    case "table_mod":
      return ` table_id=${m.tableId}`;
    case "port_mod":
      return formatPortMod(m);
    case "set_async":
    case "get_async_reply":
      return formatAsyncConfig(m);
    case "queue_get_config_reply":
      return formatQueueConfig(m);
    case "onf_role_status": {
      let out = ` role=${ROLE_NAMES[m.role] ?? m.role}`;
      if (m.generationId !== 0xffffffffffffffffn) out += ` generation_id=${m.generationId}`;
      return out + ` reason=${ROLE_STATUS_REASONS[m.reason] ?? `reason${m.reason}`}`;
    }
    case "onf_flow_monitor_cancel":
      return ` id=${m.monitorId ?? 0}`;
    case "port_status":
      return ` ${["ADD", "DEL", "MOD"][m.reason] ?? `reason${m.reason}`}:${formatPortDescs([m.port]).replace(/^\n/, "")}`;
    case "flow_mod":
      return formatFlowMod(m);
    case "flow_removed": {
      let out = ` ${formatMatchWithPriority(m.match, m.priority)} reason=${FLOW_REMOVED_REASONS[m.reason] ?? `reason${m.reason}`}`;
      if (m.tableId !== 255) out += ` table_id=${m.tableId}`;
      if (m.cookie !== 0n) out += ` cookie:0x${m.cookie.toString(16)}`;
      out += ` duration${formatDuration(m.durationSec, m.durationNsec)}s idle${m.idleTimeout}`;
      if (m.hardTimeout !== 0) out += ` hard${m.hardTimeout}`;
      return out + ` pkts${m.packetCount} bytes${m.byteCount}`;
    }
    case "packet_in":
      return formatPacketIn(m, options);
    case "nx_packet_in2":
    case "nx_resume":
      return formatPacketIn2(m, options);
    case "packet_out":
      return formatPacketOut(m, options);
    case "group_mod":
      return formatGroupMod(m);
    case "meter_mod":
      return (
        ` ${METER_COMMAND_NAMES[m.command] ?? `cmd:${m.command}`} meter=${formatMeterId(m.meterId)}` +
        `${formatMeterFlags(m.flags)} bands=${formatMeterBands(m.bands, m.flags)}`
      );
    case "multipart_request":
      return (m.flags & OFPMPF_MORE ? " flags=[more]" : "") + formatMultipartRequest(m.body);
    case "multipart_reply":
      return (m.flags & OFPMPF_MORE ? " flags=[more]" : "") + formatMultipartReply(m.body, m.version);
    case "bundle_control":
      return (
        `\n bundle_id=0x${m.bundleId.toString(16)} type=${BUNDLE_CONTROL_TYPE_NAMES[m.controlType] ?? m.controlType}` +
        ` flags=${formatBundleFlags(m.flags)}`
      );
    case "bundle_add":
      return `\n bundle_id=0x${m.bundleId.toString(16)} flags=${formatBundleFlags(m.flags)}\n${formatMessage(m.message).replace(/\n$/, "")}`;
    case "nx_set_packet_in_format":
      return ` format=${PACKET_IN_FORMATS[m.format] ?? m.format}`;
    case "nx_set_controller_id":
      return ` id=${m.controllerId}`;
    case "nx_ct_flush_zone":
      return ` zone_id=${m.zone}`;
    case "experimenter":
      return ` experimenter=0x${m.experimenter.toString(16).padStart(8, "0")} exp_type=${m.expType}`;
    default:
      return "";
  }
}

/** Formats a decoded message as ovs-ofctl ofp-print does; the text ends with a newline. */
export function formatMessage(m: OpenFlowMessage, options: FormatOptions = {}): string {
  const text = `${messageName(m)}${versionTag(m.version)} (xid=0x${m.xid.toString(16)}):${formatBody(m, options)}`;
  return text.endsWith("\n") ? text : `${text}\n`;
}

/** The ofp-print text of one message's bytes, and whether those bytes were one valid message. */
export interface MessageBytesText {
  readonly text: string;
  /** False when the text reports an empty, short, truncated, overlong or undecodable message. */
  readonly valid: boolean;
}

/**
 * Decodes and formats one message as ovs-ofctl ofp-print does (OVS 3.1), also for bad input:
 * an empty buffer, fewer bytes than a header, fewer or more bytes than the header's length,
 * and a body that fails to decode. Each of those prints ovs-ofctl's report and a hex dump.
 */
export function describeMessageBytes(bytes: Buffer, options: FormatOptions = {}): MessageBytesText {
  if (bytes.length === 0) return { text: "OpenFlow message is empty\n", valid: false };
  if (bytes.length < OFP_HEADER_LENGTH) {
    return { text: `OpenFlow packet too short (only ${bytes.length} bytes):\n${formatHexDump(bytes, { ascii: true })}`, valid: false };
  }
  const header = peekHeader(bytes);
  if (header.length > bytes.length) {
    const title = partialHeaderTitle(header);
    const line = `(***truncated to ${bytes.length} bytes from ${header.length}***)\n`;
    return { text: `${title === undefined ? "" : `${title}\n`}${line}${formatHexDump(bytes, { ascii: true })}`, valid: false };
  }
  if (header.length < bytes.length) {
    return { text: `(***only uses ${header.length} bytes out of ${bytes.length}***)\n${formatHexDump(bytes, { ascii: true })}`, valid: false };
  }
  let message: OpenFlowMessage;
  try {
    message = decodeMessage(bytes);
  } catch (error) {
    if (!(error instanceof OpenFlowDecodeError) && !(error instanceof OpenFlowInvalidMessageError)) throw error;
    const name = error instanceof OpenFlowInvalidMessageError ? error.ofpError : "OFPBRC_BAD_LEN";
    return { text: `${headerTitle(header)}: ***decode error: ${name}***\n${formatHexDump(bytes, { ascii: true })}`, valid: false };
  }
  let text = formatMessage(message, options);
  if (message.kind === "hello" && message.unknownElements !== undefined) text += formatHexDump(bytes, { ascii: true });
  return { text, valid: true };
}

/** Decodes and formats one message; describeMessageBytes() also reports whether it was valid. */
export function formatMessageBytes(bytes: Buffer, options: FormatOptions = {}): string {
  return describeMessageBytes(bytes, options).text;
}

const OFP_HEADER_LENGTH = 8;

/** Message types whose ovs-ofctl name needs bytes after the header: a stats type or an experimenter subtype. */
const TYPES_NAMED_BY_BODY: ReadonlySet<number> = new Set([OFPT.EXPERIMENTER, OFPT.MULTIPART_REQUEST, OFPT.MULTIPART_REPLY]);

/**
 * Returns the title ovs-ofctl prints above "(***truncated ...***)", or undefined where it
 * prints none. ovs-ofctl names the message only when the bytes present identify it.
 */
function partialHeaderTitle(header: { version: number; type: number; xid: number }): string | undefined {
  // Types 0 to 5 mean the same in every version; the rest of OFPT_NAMES is OpenFlow 1.3 to 1.5 numbering.
  const sameInAllVersions = header.type <= OFPT.FEATURES_REQUEST && header.version >= 1 && header.version <= 6;
  const numberedAsNames = header.version >= 4 && header.version <= 6;
  if (!sameInAllVersions && !numberedAsNames) return undefined;
  // NOTE: ovs-ofctl names a truncated multipart or experimenter message once its stats type
  // or subtype is present; this prints no title for them.
  if (TYPES_NAMED_BY_BODY.has(header.type) || OFPT_NAMES[header.type] === undefined) return undefined;
  return `${headerTitle(header)}:`;
}

/** Formats the "NAME (OF1.x) (xid=0x..)" title of a message that failed to decode. */
function headerTitle(header: { version: number; type: number; xid: number }): string {
  const name = OFPT_NAMES[header.type] ?? `OFPT_UNKNOWN(${header.type})`;
  return `${name}${versionTag(header.version)} (xid=0x${header.xid.toString(16)})`;
}
