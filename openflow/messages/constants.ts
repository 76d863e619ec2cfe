// Message type, multipart type and extension subtype numbers, with the names ovs-ofctl prints.
// Values are from the OpenFlow 1.3.5 and 1.5.1 specifications and, for the Nicira (NXT_*) and
// ONF (ONFT_*) extensions, from Open vSwitch 3.1's lib/ofp-msgs.h.

/** ofp_header.type values shared by OpenFlow 1.3 and 1.5 (33 and 34 exist from 1.4 on). */
export const OFPT = {
  HELLO: 0,
  ERROR: 1,
  ECHO_REQUEST: 2,
  ECHO_REPLY: 3,
  EXPERIMENTER: 4,
  FEATURES_REQUEST: 5,
  FEATURES_REPLY: 6,
  GET_CONFIG_REQUEST: 7,
  GET_CONFIG_REPLY: 8,
  SET_CONFIG: 9,
  PACKET_IN: 10,
  FLOW_REMOVED: 11,
  PORT_STATUS: 12,
  PACKET_OUT: 13,
  FLOW_MOD: 14,
  GROUP_MOD: 15,
  PORT_MOD: 16,
  TABLE_MOD: 17,
  MULTIPART_REQUEST: 18,
  MULTIPART_REPLY: 19,
  BARRIER_REQUEST: 20,
  BARRIER_REPLY: 21,
  QUEUE_GET_CONFIG_REQUEST: 22,
  QUEUE_GET_CONFIG_REPLY: 23,
  ROLE_REQUEST: 24,
  ROLE_REPLY: 25,
  GET_ASYNC_REQUEST: 26,
  GET_ASYNC_REPLY: 27,
  SET_ASYNC: 28,
  METER_MOD: 29,
  ROLE_STATUS: 30,
  TABLE_STATUS: 31,
  REQUESTFORWARD: 32,
  BUNDLE_CONTROL: 33,
  BUNDLE_ADD_MESSAGE: 34,
} as const;

/** ofp_multipart_request/reply.type values. */
export const OFPMP = {
  DESC: 0,
  FLOW: 1,
  AGGREGATE: 2,
  TABLE: 3,
  PORT_STATS: 4,
  QUEUE: 5,
  GROUP: 6,
  GROUP_DESC: 7,
  GROUP_FEATURES: 8,
  METER: 9,
  METER_CONFIG: 10,
  METER_FEATURES: 11,
  TABLE_FEATURES: 12,
  PORT_DESC: 13,
  EXPERIMENTER: 0xffff,
} as const;

/** Name of each multipart type as ovs-ofctl prints it ("OFPST_FLOW request"). */
export const MULTIPART_NAMES: Readonly<Record<number, string>> = {
  0: "OFPST_DESC",
  1: "OFPST_FLOW",
  2: "OFPST_AGGREGATE",
  3: "OFPST_TABLE",
  4: "OFPST_PORT",
  5: "OFPST_QUEUE",
  6: "OFPST_GROUP",
  7: "OFPST_GROUP_DESC",
  8: "OFPST_GROUP_FEATURES",
  9: "OFPST_METER",
  10: "OFPST_METER_CONFIG",
  11: "OFPST_METER_FEATURES",
  12: "OFPST_TABLE_FEATURES",
  13: "OFPST_PORT_DESC",
};

/** Experimenter ids carried in OFPT_EXPERIMENTER messages and experimenter errors. */
export const EXPERIMENTER_ID = {
  NICIRA: 0x00002320,
  ONF: 0x4f4e4600,
} as const;

/** Nicira extension message subtypes (NXT_*), carried in OFPT_EXPERIMENTER with id 0x2320. */
export const NXT = {
  ROLE_REQUEST: 10,
  ROLE_REPLY: 11,
  SET_FLOW_FORMAT: 12,
  FLOW_MOD: 13,
  FLOW_REMOVED: 14,
  FLOW_MOD_TABLE_ID: 15,
  SET_PACKET_IN_FORMAT: 16,
  PACKET_IN: 17,
  FLOW_AGE: 18,
  SET_ASYNC_CONFIG: 19,
  SET_CONTROLLER_ID: 20,
  RESUME: 28,
  CT_FLUSH_ZONE: 29,
  PACKET_IN2: 30,
} as const;

/** ONF extension message subtypes of OpenFlow 1.3 (bundles, role status, flow monitors). */
export const ONFT = {
  FLOW_MONITOR_CANCEL: 1870,
  FLOW_MONITOR_PAUSED: 1871,
  FLOW_MONITOR_RESUMED: 1872,
  ROLE_STATUS: 1911,
  BUNDLE_CONTROL: 2300,
  BUNDLE_ADD_MESSAGE: 2301,
} as const;

/** Flag in ofp_multipart_request/reply.flags: more parts of this multipart message follow. */
export const OFPMPF_MORE = 0x0001;

/** ofp_flow_mod.command values, with the word ovs-ofctl prints. */
export const FLOW_MOD_COMMANDS = ["ADD", "MOD", "MOD_STRICT", "DEL", "DEL_STRICT"] as const;

/** Reserved port numbers (OFPP_*) in their 32-bit OpenFlow 1.1+ form. */
export const OFPP = {
  MAX: 0xffffff00,
  UNSET: 0xfffffff7,
  IN_PORT: 0xfffffff8,
  TABLE: 0xfffffff9,
  NORMAL: 0xfffffffa,
  FLOOD: 0xfffffffb,
  ALL: 0xfffffffc,
  CONTROLLER: 0xfffffffd,
  LOCAL: 0xfffffffe,
  ANY: 0xffffffff,
} as const;

/** Reserved group numbers (OFPG_*). */
export const OFPG = {
  MAX: 0xffffff00,
  ALL: 0xfffffffc,
  ANY: 0xffffffff,
} as const;

/** No buffered packet (ofp_packet_out.buffer_id, ofp_flow_mod.buffer_id). */
export const NO_BUFFER = 0xffffffff;

/** Table id meaning "all tables" in flow stats requests and deletes. */
export const OFPTT_ALL = 0xff;
