// Encoding and decoding of whole messages: the header, then a switch on the message kind
// (encoding) or on ofp_header.type and the experimenter subtype (decoding) that calls one
// small body function per message type.
import { BufferReader } from "../wire/reader.ts";
import { BufferWriter } from "../wire/writer.ts";
import { OpenFlowVersion } from "../version.ts";
import {
  decodeError,
  decodeFeaturesReply,
  decodeHello,
  decodeRole,
  decodeSwitchConfig,
  decodeTableMod,
  decodePortMod,
  decodeAsyncConfig,
  decodeQueueGetConfigReply,
  encodeAsyncConfig,
  encodeQueueGetConfigReply,
  encodeError,
  encodeFeaturesReply,
  encodeHello,
  encodeRole,
  encodeSwitchConfig,
  encodeTableMod,
  encodePortMod,
} from "./basic.ts";
import { decodeBundleAdd, decodeBundleControl, encodeBundleAdd, encodeBundleControl } from "./bundle.ts";
import { EXPERIMENTER_ID, NXT, OFPT, ONFT } from "./constants.ts";
import { decodeFlowMod, decodeFlowRemoved, encodeFlowMod, encodeFlowRemoved } from "./flow.ts";
import { decodeGroupMod, encodeGroupMod } from "./group.ts";
import { beginHeader, HEADER_LENGTH } from "./header.ts";
import { decodeMeterMod, encodeMeterMod } from "./meter.ts";
import { decodeMultipartReply, decodeMultipartRequest, encodeMultipartReply, encodeMultipartRequest } from "./multipart.ts";
import {
  decodeCtFlushZone,
  decodePacketIn2Properties,
  decodeSetControllerId,
  encodeCtFlushZone,
  encodePacketIn2Properties,
  encodeSetControllerId,
  encodeSetPacketInFormat,
} from "./nicira.ts";
import { decodePacketIn, decodePacketOut, encodePacketIn, encodePacketOut } from "./packet.ts";
import { decodePortStatus, encodePortStatus } from "./port.ts";
import type { MessageHeaderFields, OpenFlowMessage } from "./types.ts";

/** OFPT number of each message kind that maps to exactly one type. */
const TYPE_OF_KIND: Partial<Record<OpenFlowMessage["kind"], number>> = {
  hello: OFPT.HELLO,
  error: OFPT.ERROR,
  echo_request: OFPT.ECHO_REQUEST,
  echo_reply: OFPT.ECHO_REPLY,
  features_request: OFPT.FEATURES_REQUEST,
  features_reply: OFPT.FEATURES_REPLY,
  get_config_request: OFPT.GET_CONFIG_REQUEST,
  get_config_reply: OFPT.GET_CONFIG_REPLY,
  set_config: OFPT.SET_CONFIG,
  packet_in: OFPT.PACKET_IN,
  flow_removed: OFPT.FLOW_REMOVED,
  port_status: OFPT.PORT_STATUS,
  packet_out: OFPT.PACKET_OUT,
  flow_mod: OFPT.FLOW_MOD,
  group_mod: OFPT.GROUP_MOD,
  table_mod: OFPT.TABLE_MOD,
  port_mod: OFPT.PORT_MOD,
  set_async: OFPT.SET_ASYNC,
  get_async_reply: OFPT.GET_ASYNC_REPLY,
  queue_get_config_reply: OFPT.QUEUE_GET_CONFIG_REPLY,
  multipart_request: OFPT.MULTIPART_REQUEST,
  multipart_reply: OFPT.MULTIPART_REPLY,
  barrier_request: OFPT.BARRIER_REQUEST,
  barrier_reply: OFPT.BARRIER_REPLY,
  role_request: OFPT.ROLE_REQUEST,
  role_reply: OFPT.ROLE_REPLY,
  meter_mod: OFPT.METER_MOD,
};

/** Nicira subtype of each Nicira extension message kind. */
const NXT_OF_KIND: Partial<Record<OpenFlowMessage["kind"], number>> = {
  nx_set_packet_in_format: NXT.SET_PACKET_IN_FORMAT,
  nx_set_controller_id: NXT.SET_CONTROLLER_ID,
  nx_ct_flush_zone: NXT.CT_FLUSH_ZONE,
  nx_packet_in2: NXT.PACKET_IN2,
  nx_resume: NXT.RESUME,
};

/** ONF experimenter type of each ONF extension message kind (other than bundles). */
const ONF_TYPE_OF_KIND: Partial<Record<OpenFlowMessage["kind"], number>> = {
  onf_role_status: ONFT.ROLE_STATUS,
  onf_flow_monitor_cancel: ONFT.FLOW_MONITOR_CANCEL,
  onf_flow_monitor_paused: ONFT.FLOW_MONITOR_PAUSED,
  onf_flow_monitor_resumed: ONFT.FLOW_MONITOR_RESUMED,
};

function toVersion(version: number): OpenFlowVersion {
  return version >= OpenFlowVersion.OF15 ? OpenFlowVersion.OF15 : OpenFlowVersion.OF13;
}

/** Writes the experimenter header (after ofp_header) of an extension message, if `m` is one. */
function experimenterHeader(m: OpenFlowMessage): { experimenter: number; expType: number } | undefined {
  const subtype = NXT_OF_KIND[m.kind];
  if (subtype !== undefined) return { experimenter: EXPERIMENTER_ID.NICIRA, expType: subtype };
  if ((m.kind === "bundle_control" || m.kind === "bundle_add") && m.version < OpenFlowVersion.OF15) {
    const expType = m.kind === "bundle_control" ? ONFT.BUNDLE_CONTROL : ONFT.BUNDLE_ADD_MESSAGE;
    return { experimenter: EXPERIMENTER_ID.ONF, expType };
  }
  const onfType = ONF_TYPE_OF_KIND[m.kind];
  if (onfType !== undefined) return { experimenter: EXPERIMENTER_ID.ONF, expType: onfType };
  if (m.kind === "experimenter") return { experimenter: m.experimenter, expType: m.expType };
  return undefined;
}

function messageType(m: OpenFlowMessage): number {
  if (m.kind === "unknown") return m.type;
  if (experimenterHeader(m) !== undefined) return OFPT.EXPERIMENTER;
  if (m.kind === "bundle_control") return OFPT.BUNDLE_CONTROL;
  if (m.kind === "bundle_add") return OFPT.BUNDLE_ADD_MESSAGE;
  const type = TYPE_OF_KIND[m.kind];
  if (type === undefined) throw new TypeError(`no OpenFlow message type for kind "${m.kind}"`);
  return type;
}

function writeBody(w: BufferWriter, m: OpenFlowMessage): void {
  switch (m.kind) {
    case "hello":
      return encodeHello(w, m);
    case "error":
      return encodeError(w, m);
    case "echo_request":
    case "echo_reply":
      w.bytes(m.data);
      return;
    case "features_request":
    case "get_config_request":
    case "barrier_request":
    case "barrier_reply":
      return;
    case "features_reply":
      return encodeFeaturesReply(w, m);
    case "get_config_reply":
    case "set_config":
      return encodeSwitchConfig(w, m);
    case "role_request":
    case "role_reply":
      return encodeRole(w, m);
    case "table_mod":
      return encodeTableMod(w, m);
    case "port_mod":
      return encodePortMod(w, m);
    case "set_async":
    case "get_async_reply":
      return encodeAsyncConfig(w, m);
    case "queue_get_config_reply":
      return encodeQueueGetConfigReply(w, m);
    case "onf_role_status":
      w.u32(m.role).u8(m.reason).zeros(3).u64(m.generationId);
      return;
    case "onf_flow_monitor_cancel":
      w.u32(m.monitorId ?? 0);
      return;
    case "onf_flow_monitor_paused":
    case "onf_flow_monitor_resumed":
      return;
    case "port_status":
      return encodePortStatus(w, m);
    case "flow_mod":
      return encodeFlowMod(w, m);
    case "flow_removed":
      return encodeFlowRemoved(w, m);
    case "packet_in":
      return encodePacketIn(w, m);
    case "packet_out":
      return encodePacketOut(w, m);
    case "group_mod":
      return encodeGroupMod(w, m);
    case "meter_mod":
      return encodeMeterMod(w, m);
    case "multipart_request":
      return encodeMultipartRequest(w, m);
    case "multipart_reply":
      return encodeMultipartReply(w, m);
    case "bundle_control":
      return encodeBundleControl(w, m);
    case "bundle_add":
      return encodeBundleAdd(w, m, writeMessage);
    case "nx_set_packet_in_format":
      return encodeSetPacketInFormat(w, m.format);
    case "nx_set_controller_id":
      return encodeSetControllerId(w, m.controllerId);
    case "nx_ct_flush_zone":
      return encodeCtFlushZone(w, m.zone);
    case "nx_packet_in2":
    case "nx_resume":
      return encodePacketIn2Properties(w, m, toVersion(m.version));
    case "experimenter":
      w.bytes(m.data);
      return;
    case "unknown":
      w.bytes(m.body);
      return;
  }
}

/**
 * Appends one whole message (header included, length filled in) to `w`. Appending many
 * messages to one writer and sending its buffer once is how batches are written.
 */
export function writeMessage(w: BufferWriter, m: OpenFlowMessage): void {
  const mark = beginHeader(w, { version: m.version, type: messageType(m), xid: m.xid });
  const experimenter = experimenterHeader(m);
  if (experimenter !== undefined) w.u32(experimenter.experimenter).u32(experimenter.expType);
  writeBody(w, m);
  w.endLength(mark);
}

/** Encodes one message into a new Buffer. */
export function encodeMessage(m: OpenFlowMessage): Buffer {
  const w = new BufferWriter(128);
  writeMessage(w, m);
  return w.toBuffer();
}

function decodeExperimenter(r: BufferReader, header: MessageHeaderFields): OpenFlowMessage {
  const experimenter = r.u32("experimenter");
  const expType = r.u32("exp_type");
  const version = toVersion(header.version);
  if (experimenter === EXPERIMENTER_ID.NICIRA) {
    switch (expType) {
      case NXT.SET_PACKET_IN_FORMAT:
        return { kind: "nx_set_packet_in_format", ...header, format: r.u32("format") };
      case NXT.SET_CONTROLLER_ID:
        return { kind: "nx_set_controller_id", ...header, controllerId: decodeSetControllerId(r) };
      case NXT.CT_FLUSH_ZONE:
        return { kind: "nx_ct_flush_zone", ...header, zone: decodeCtFlushZone(r) };
      case NXT.PACKET_IN2:
        return { kind: "nx_packet_in2", ...header, ...decodePacketIn2Properties(r, version) };
      case NXT.RESUME:
        return { kind: "nx_resume", ...header, ...decodePacketIn2Properties(r, version) };
      default:
        break;
    }
  }
  if (experimenter === EXPERIMENTER_ID.ONF) {
    switch (expType) {
      case ONFT.BUNDLE_CONTROL:
        return decodeBundleControl(r, header);
      case ONFT.BUNDLE_ADD_MESSAGE:
        return decodeBundleAdd(r, header, decodeMessage);
      case ONFT.ROLE_STATUS: {
        const role = r.u32("role");
        const reason = r.u8("reason");
        r.skip(3);
        return { kind: "onf_role_status", ...header, role, reason, generationId: r.u64("generation_id") };
      }
      case ONFT.FLOW_MONITOR_CANCEL:
        return { kind: "onf_flow_monitor_cancel", ...header, monitorId: r.u32("id") };
      case ONFT.FLOW_MONITOR_PAUSED:
        return { kind: "onf_flow_monitor_paused", ...header };
      case ONFT.FLOW_MONITOR_RESUMED:
        return { kind: "onf_flow_monitor_resumed", ...header };
      default:
        break;
    }
  }
  return { kind: "experimenter", ...header, experimenter, expType, data: Buffer.from(r.rest()) };
}

function decodeBody(r: BufferReader, type: number, header: MessageHeaderFields): OpenFlowMessage {
  switch (type) {
    case OFPT.HELLO:
      return decodeHello(r, header);
    case OFPT.ERROR:
      return decodeError(r, header);
    case OFPT.ECHO_REQUEST:
      return { kind: "echo_request", ...header, data: Buffer.from(r.rest()) };
    case OFPT.ECHO_REPLY:
      return { kind: "echo_reply", ...header, data: Buffer.from(r.rest()) };
    case OFPT.EXPERIMENTER:
      return decodeExperimenter(r, header);
    case OFPT.FEATURES_REQUEST:
      return { kind: "features_request", ...header };
    case OFPT.FEATURES_REPLY:
      return decodeFeaturesReply(r, header);
    case OFPT.GET_CONFIG_REQUEST:
      return { kind: "get_config_request", ...header };
    case OFPT.GET_CONFIG_REPLY:
      return decodeSwitchConfig(r, header, "get_config_reply");
    case OFPT.SET_CONFIG:
      return decodeSwitchConfig(r, header, "set_config");
    case OFPT.PACKET_IN:
      return decodePacketIn(r, header);
    case OFPT.FLOW_REMOVED:
      return decodeFlowRemoved(r, header);
    case OFPT.PORT_STATUS:
      return decodePortStatus(r, header);
    case OFPT.PACKET_OUT:
      return decodePacketOut(r, header);
    case OFPT.FLOW_MOD:
      return decodeFlowMod(r, header);
    case OFPT.GROUP_MOD:
      return decodeGroupMod(r, header);
    case OFPT.TABLE_MOD:
      return decodeTableMod(r, header);
    case OFPT.PORT_MOD:
      return decodePortMod(r, header);
    case OFPT.SET_ASYNC:
      return decodeAsyncConfig(r, header, "set_async");
    case OFPT.GET_ASYNC_REPLY:
      return decodeAsyncConfig(r, header, "get_async_reply");
    case OFPT.QUEUE_GET_CONFIG_REPLY:
      return decodeQueueGetConfigReply(r, header);
    case OFPT.MULTIPART_REQUEST:
      return decodeMultipartRequest(r, header);
    case OFPT.MULTIPART_REPLY:
      return decodeMultipartReply(r, header);
    case OFPT.BARRIER_REQUEST:
      return { kind: "barrier_request", ...header };
    case OFPT.BARRIER_REPLY:
      return { kind: "barrier_reply", ...header };
    case OFPT.ROLE_REQUEST:
      return decodeRole(r, header, "role_request");
    case OFPT.ROLE_REPLY:
      return decodeRole(r, header, "role_reply");
    case OFPT.METER_MOD:
      return decodeMeterMod(r, header);
    case OFPT.BUNDLE_CONTROL:
      return decodeBundleControl(r, header);
    case OFPT.BUNDLE_ADD_MESSAGE:
      return decodeBundleAdd(r, header, decodeMessage);
    default:
      return { kind: "unknown", ...header, type, body: Buffer.from(r.rest()) };
  }
}

/**
 * Decodes one whole message. `buffer` must hold at least the length its header states;
 * bytes beyond that length are ignored. Throws OpenFlowDecodeError for truncated or
 * malformed structures and OpenFlowInvalidMessageError for content a switch rejects.
 */
export function decodeMessage(buffer: Buffer): OpenFlowMessage {
  const outer = new BufferReader(buffer, "ofp_header");
  const version = outer.u8("version");
  const type = outer.u8("type");
  const length = outer.u16("length");
  const xid = outer.u32("xid");
  if (length < HEADER_LENGTH) outer.fail(`message length ${length} is below the 8-byte header`);
  if (buffer.length < length) {
    outer.fail(`message length is ${length} but only ${buffer.length} bytes are present`);
  }
  const body = new BufferReader(buffer.subarray(HEADER_LENGTH, length), `OpenFlow message type ${type}`, HEADER_LENGTH);
  return decodeBody(body, type, { version, xid });
}
