// The decoded form of every OpenFlow message the codec handles. Each message is a plain
// object tagged by `kind`; `version` and `xid` come from ofp_header. Numbers are the wire
// values (ports, ids, flags); 64-bit counters and cookies are bigints.
import type { Action, Instruction } from "../actions/index.ts";
import type { Match, WireEntry } from "../match/index.ts";

/** Fields every message carries in its ofp_header. */
export interface MessageHeaderFields {
  /** ofp_header.version (4 for OpenFlow 1.3, 6 for 1.5; other values only when printing). */
  version: number;
  /** Transaction id; a reply carries the xid of its request. */
  xid: number;
}

export interface HelloMessage extends MessageHeaderFields {
  kind: "hello";
  /** Versions from the version-bitmap element, or undefined when the hello has none. */
  bitmapVersions?: number[];
  /** Bytes after the header that were not a version bitmap. */
  unknownElements?: Buffer;
}

export interface ErrorMessage extends MessageHeaderFields {
  kind: "error";
  type: number;
  code: number;
  /** Experimenter id when type is OFPET_EXPERIMENTER (0xffff). */
  experimenter?: number;
  /** Usually the first bytes of the request that failed. */
  data: Buffer;
}

export interface EchoMessage extends MessageHeaderFields {
  kind: "echo_request" | "echo_reply";
  data: Buffer;
}

/** Messages with no body beyond the header. */
export interface EmptyMessage extends MessageHeaderFields {
  kind: "features_request" | "get_config_request" | "barrier_request" | "barrier_reply";
}

export interface FeaturesReplyMessage extends MessageHeaderFields {
  kind: "features_reply";
  datapathId: bigint;
  nBuffers: number;
  nTables: number;
  auxiliaryId: number;
  capabilities: number;
}

export interface SwitchConfigMessage extends MessageHeaderFields {
  kind: "get_config_reply" | "set_config";
  /** OFPC_FRAG_* handling: 0 normal, 1 drop, 2 reassemble. */
  flags: number;
  /** Bytes of each packet sent to the controller on a table miss. */
  missSendLen: number;
}

export interface RoleMessage extends MessageHeaderFields {
  kind: "role_request" | "role_reply";
  /** OFPCR_ROLE_*: 0 nochange, 1 equal, 2 master, 3 slave. */
  role: number;
  generationId: bigint;
}

/** ofp_port, the description of one switch port. */
export interface PortDesc {
  portNo: number;
  hwAddr: Buffer;
  name: string;
  config: number;
  state: number;
  /** Ethernet properties (OpenFlow 1.3 fixed fields; 1.5 OFPPDPT_ETHERNET property). */
  curr: number;
  advertised: number;
  supported: number;
  peer: number;
  currSpeed: number;
  maxSpeed: number;
}

export interface PortStatusMessage extends MessageHeaderFields {
  kind: "port_status";
  /** OFPPR_ADD 0, OFPPR_DELETE 1, OFPPR_MODIFY 2. */
  reason: number;
  port: PortDesc;
}

export interface FlowModMessage extends MessageHeaderFields {
  kind: "flow_mod";
  cookie: bigint;
  cookieMask: bigint;
  tableId: number;
  /** OFPFC_ADD 0, MODIFY 1, MODIFY_STRICT 2, DELETE 3, DELETE_STRICT 4. */
  command: number;
  idleTimeout: number;
  hardTimeout: number;
  priority: number;
  bufferId: number;
  outPort: number;
  outGroup: number;
  /** OFPFF_* bits. */
  flags: number;
  /** Eviction importance (OpenFlow 1.4+, zero in 1.3). */
  importance: number;
  match: Match;
  instructions: Instruction[];
}

export interface FlowRemovedMessage extends MessageHeaderFields {
  kind: "flow_removed";
  cookie: bigint;
  priority: number;
  /** OFPRR_IDLE_TIMEOUT 0, HARD_TIMEOUT 1, DELETE 2, GROUP_DELETE 3, METER_DELETE 4, EVICTION 5. */
  reason: number;
  tableId: number;
  durationSec: number;
  durationNsec: number;
  idleTimeout: number;
  hardTimeout: number;
  packetCount: bigint;
  byteCount: bigint;
  /** Time since the flow last matched, when the switch reports it (OpenFlow 1.5 OXS idle_time). */
  idleTime?: { sec: number; nsec: number };
  match: Match;
}

export interface PacketInMessage extends MessageHeaderFields {
  kind: "packet_in";
  bufferId: number;
  totalLen: number;
  /** OFPR_*: 0 no_match (table miss), 1 action, 2 invalid_ttl. */
  reason: number;
  tableId: number;
  cookie: bigint;
  /** Pipeline fields, including in_port. */
  match: Match;
  data: Buffer;
}

/** Properties of NXT_PACKET_IN2 and NXT_RESUME (Open vSwitch NXPINT_* properties). */
export interface PacketIn2Fields {
  data: Buffer;
  totalLen?: number;
  bufferId?: number;
  tableId?: number;
  cookie?: bigint;
  reason?: number;
  /** Pipeline metadata (in_port, registers, ...), an NXM/OXM match. */
  metadata?: Match;
  /** Bytes given by the controller(userdata=...) action. */
  userdata?: Buffer;
  /** Opaque continuation state (NXPINT_CONTINUATION), returned unchanged by NXT_RESUME. */
  continuation?: Buffer;
}

export interface PacketIn2Message extends MessageHeaderFields, PacketIn2Fields {
  kind: "nx_packet_in2";
}

export interface ResumeMessage extends MessageHeaderFields, PacketIn2Fields {
  kind: "nx_resume";
}

export interface PacketOutMessage extends MessageHeaderFields {
  kind: "packet_out";
  bufferId: number;
  /** Ingress port; in OpenFlow 1.5 it travels in `match` as in_port. */
  inPort: number;
  /** OpenFlow 1.5 pipeline fields other than in_port (tun_id, metadata, ...). */
  match?: Match;
  actions: Action[];
  data: Buffer;
}

/** One bucket of a group. */
export interface Bucket {
  /** OpenFlow 1.5 bucket id; OpenFlow 1.3 buckets are numbered by position. */
  bucketId?: number;
  weight: number;
  watchPort: number;
  watchGroup: number;
  actions: Action[];
}

export interface GroupModMessage extends MessageHeaderFields {
  kind: "group_mod";
  /** OFPGC_ADD 0, MODIFY 1, DELETE 2, INSERT_BUCKET 3, REMOVE_BUCKET 5 (1.5), or Open vSwitch's ADD_OR_MOD 0x8000. */
  command: number;
  /** OFPGT_ALL 0, SELECT 1, INDIRECT 2, FF 3. */
  groupType: number;
  groupId: number;
  /** OpenFlow 1.5 command_bucket_id (OFPG_BUCKET_FIRST 0xfffffffd, LAST 0xfffffffe, ALL 0xffffffff). */
  commandBucketId?: number;
  buckets: Bucket[];
  /** Open vSwitch selection method property (OpenFlow 1.5). */
  selectionMethod?: SelectionMethod;
}

/** NTR_SELECTION_METHOD group property: how a select group picks a bucket. */
export interface SelectionMethod {
  /** "hash" or "dp_hash". */
  method: string;
  param: bigint;
  /** Fields hashed; each OXM value is the mask of bits hashed. */
  fields: WireEntry[];
}

export interface MeterBand {
  /** OFPMBT_DROP 1, OFPMBT_DSCP_REMARK 2. */
  type: number;
  rate: number;
  burstSize: number;
  /** Precedence level increase, for dscp_remark bands. */
  precLevel?: number;
}

export interface MeterModMessage extends MessageHeaderFields {
  kind: "meter_mod";
  /** OFPMC_ADD 0, MODIFY 1, DELETE 2. */
  command: number;
  /** OFPMF_KBPS 1, PKTPS 2, BURST 4, STATS 8. */
  flags: number;
  meterId: number;
  bands: MeterBand[];
}

export interface BundleControlMessage extends MessageHeaderFields {
  kind: "bundle_control";
  bundleId: number;
  /** OPEN_REQUEST 0, OPEN_REPLY 1, CLOSE_REQUEST 2, CLOSE_REPLY 3, COMMIT_REQUEST 4, COMMIT_REPLY 5, DISCARD_REQUEST 6, DISCARD_REPLY 7. */
  controlType: number;
  /** OFPBF_ATOMIC 1, OFPBF_ORDERED 2. */
  flags: number;
}

export interface BundleAddMessage extends MessageHeaderFields {
  kind: "bundle_add";
  bundleId: number;
  flags: number;
  /** The message added to the bundle; its xid must equal the outer xid. */
  message: OpenFlowMessage;
}

export interface SetPacketInFormatMessage extends MessageHeaderFields {
  kind: "nx_set_packet_in_format";
  /** NXPIF_STANDARD 0, NXPIF_NXT_PACKET_IN 1, NXPIF_NXT_PACKET_IN2 2. */
  format: number;
}

export interface SetControllerIdMessage extends MessageHeaderFields {
  kind: "nx_set_controller_id";
  controllerId: number;
}

export interface CtFlushZoneMessage extends MessageHeaderFields {
  kind: "nx_ct_flush_zone";
  zone: number;
}

export interface PortModMessage extends MessageHeaderFields {
  kind: "port_mod";
  portNo: number;
  hwAddr: Buffer;
  /** OFPPC_* bits to set, among those selected by `mask`. */
  config: number;
  mask: number;
  /** OFPPF_* features to advertise; 0 leaves them unchanged. */
  advertise: number;
}

/** ONF role status (OpenFlow 1.3 experimenter message 1911). */
export interface RoleStatusMessage extends MessageHeaderFields {
  kind: "onf_role_status";
  role: number;
  /** 0 primary_request, 1 configuration_changed, 2 experimenter_data_changed. */
  reason: number;
  generationId: bigint;
}

/** ONF flow monitor control messages of OpenFlow 1.3 (experimenter types 1870-1872). */
export interface FlowMonitorControlMessage extends MessageHeaderFields {
  kind: "onf_flow_monitor_cancel" | "onf_flow_monitor_paused" | "onf_flow_monitor_resumed";
  /** Monitor id, for cancel. */
  monitorId?: number;
}

/** Which asynchronous messages the switch sends, for primary/equal and secondary roles. */
export interface AsyncConfigMessage extends MessageHeaderFields {
  kind: "set_async" | "get_async_reply";
  /** Bit masks indexed [primary, secondary]: bit n enables reason n. */
  packetInMask: [number, number];
  portStatusMask: [number, number];
  flowRemovedMask: [number, number];
}

export interface QueueConfig {
  queueId: number;
  portNo: number;
  /** Minimum and maximum rates in tenths of a percent, when set. */
  minRate?: number;
  maxRate?: number;
}

export interface QueueGetConfigReplyMessage extends MessageHeaderFields {
  kind: "queue_get_config_reply";
  portNo: number;
  queues: QueueConfig[];
}

export interface TableModMessage extends MessageHeaderFields {
  kind: "table_mod";
  tableId: number;
  config: number;
}

/** An experimenter message the codec does not decode further. */
export interface ExperimenterMessage extends MessageHeaderFields {
  kind: "experimenter";
  experimenter: number;
  expType: number;
  data: Buffer;
}

/** A message of a type the codec does not decode; `body` is everything after the header. */
export interface UnknownMessage extends MessageHeaderFields {
  kind: "unknown";
  type: number;
  body: Buffer;
}

export interface MultipartRequestMessage extends MessageHeaderFields {
  kind: "multipart_request";
  flags: number;
  body: MultipartRequestBody;
}

export interface MultipartReplyMessage extends MessageHeaderFields {
  kind: "multipart_reply";
  flags: number;
  body: MultipartReplyBody;
}

/** Selection of flows for flow and aggregate stats requests. */
export interface FlowStatsRequest {
  stat: "flow" | "aggregate";
  tableId: number;
  outPort: number;
  outGroup: number;
  cookie: bigint;
  cookieMask: bigint;
  match: Match;
}

export type MultipartRequestBody =
  | { stat: "desc" | "table" | "meter_features" | "group_features" | "table_features" }
  | FlowStatsRequest
  | { stat: "port_stats" | "port_desc"; portNo: number }
  | { stat: "group" | "group_desc"; groupId: number }
  | { stat: "meter" | "meter_config"; meterId: number }
  | { stat: "queue"; portNo: number; queueId: number }
  | { stat: "unknown"; type: number; data: Buffer };

/** One entry of a flow stats reply. */
export interface FlowStats {
  tableId: number;
  durationSec: number;
  durationNsec: number;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  flags: number;
  importance: number;
  cookie: bigint;
  packetCount: bigint;
  byteCount: bigint;
  /** Seconds since the flow last matched, when the switch reports it (OpenFlow 1.5 OXS idle_time). */
  idleAgeSec?: number;
  /** Nanoseconds part of that idle time. */
  idleAgeNsec?: number;
  match: Match;
  instructions: Instruction[];
}

export interface TableStats {
  tableId: number;
  activeCount: number;
  lookupCount: bigint;
  matchedCount: bigint;
}

export interface PortStats {
  portNo: number;
  rxPackets: bigint;
  txPackets: bigint;
  rxBytes: bigint;
  txBytes: bigint;
  rxDropped: bigint;
  txDropped: bigint;
  rxErrors: bigint;
  txErrors: bigint;
  rxFrameErr: bigint;
  rxOverErr: bigint;
  rxCrcErr: bigint;
  collisions: bigint;
  durationSec: number;
  durationNsec: number;
}

export interface GroupStats {
  groupId: number;
  refCount: number;
  packetCount: bigint;
  byteCount: bigint;
  durationSec: number;
  durationNsec: number;
  buckets: { packetCount: bigint; byteCount: bigint }[];
}

export interface GroupDesc {
  groupType: number;
  groupId: number;
  buckets: Bucket[];
  selectionMethod?: SelectionMethod;
}

export interface MeterStats {
  meterId: number;
  flowCount: number;
  packetInCount: bigint;
  byteInCount: bigint;
  durationSec: number;
  durationNsec: number;
  bands: { packetCount: bigint; byteCount: bigint }[];
}

export interface MeterConfig {
  flags: number;
  meterId: number;
  bands: MeterBand[];
}

export interface MeterFeatures {
  maxMeter: number;
  bandTypes: number;
  capabilities: number;
  maxBands: number;
  maxColor: number;
}

export interface QueueStats {
  portNo: number;
  queueId: number;
  txBytes: bigint;
  txPackets: bigint;
  txErrors: bigint;
  durationSec: number;
  durationNsec: number;
}

export interface SwitchDesc {
  manufacturer: string;
  hardware: string;
  software: string;
  serialNumber: string;
  datapath: string;
}

export type MultipartReplyBody =
  | { stat: "desc"; desc: SwitchDesc }
  | { stat: "flow"; flows: FlowStats[] }
  | { stat: "aggregate"; packetCount: bigint; byteCount: bigint; flowCount: number }
  | { stat: "table"; tables: TableStats[] }
  | { stat: "port_stats"; ports: PortStats[] }
  | { stat: "port_desc"; ports: PortDesc[] }
  | { stat: "group"; groups: GroupStats[] }
  | { stat: "group_desc"; groups: GroupDesc[] }
  | { stat: "meter"; meters: MeterStats[] }
  | { stat: "meter_config"; meters: MeterConfig[] }
  | { stat: "meter_features"; features: MeterFeatures }
  | { stat: "queue"; queues: QueueStats[] }
  | { stat: "unknown"; type: number; data: Buffer };

export type OpenFlowMessage =
  | HelloMessage
  | ErrorMessage
  | EchoMessage
  | EmptyMessage
  | FeaturesReplyMessage
  | SwitchConfigMessage
  | RoleMessage
  | PortStatusMessage
  | FlowModMessage
  | FlowRemovedMessage
  | PacketInMessage
  | PacketIn2Message
  | ResumeMessage
  | PacketOutMessage
  | GroupModMessage
  | MeterModMessage
  | BundleControlMessage
  | BundleAddMessage
  | SetPacketInFormatMessage
  | SetControllerIdMessage
  | CtFlushZoneMessage
  | TableModMessage
  | AsyncConfigMessage
  | QueueGetConfigReplyMessage
  | PortModMessage
  | RoleStatusMessage
  | FlowMonitorControlMessage
  | MultipartRequestMessage
  | MultipartReplyMessage
  | ExperimenterMessage
  | UnknownMessage;

/** The `kind` tags of all messages. */
export type MessageKind = OpenFlowMessage["kind"];

/** A message without its header fields, as callers of the connection pass requests. */
export type MessageBody<M extends OpenFlowMessage = OpenFlowMessage> = M extends OpenFlowMessage
  ? Omit<M, "version" | "xid">
  : never;
