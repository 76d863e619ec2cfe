// Wire numbers for OpenFlow 1.3/1.5 actions and instructions and the Nicira (NX) and
// ONF extension actions, as Open vSwitch 3.1 sends and accepts them.

/** Standard action types (ofp_action_type). */
export const OFPAT = {
  OUTPUT: 0,
  SET_VLAN_VID: 1,
  SET_VLAN_PCP: 2,
  SET_DL_SRC: 3,
  SET_DL_DST: 4,
  SET_NW_SRC: 5,
  SET_NW_DST: 6,
  SET_NW_TOS: 7,
  SET_NW_ECN: 8,
  SET_TP_SRC: 9,
  SET_TP_DST: 10,
  PUSH_VLAN: 17,
  POP_VLAN: 18,
  SET_QUEUE: 21,
  GROUP: 22,
  SET_NW_TTL: 23,
  DEC_NW_TTL: 24,
  SET_FIELD: 25,
  COPY_FIELD: 28,
  METER: 29,
  EXPERIMENTER: 0xffff,
} as const;

/** Experimenter ids carried by vendor actions. */
export const EXPERIMENTER = {
  NICIRA: 0x00002320,
  ONF: 0x4f4e4600,
} as const;

/** ONF extension action subtypes (16-bit, after the experimenter id). */
export const ONFACT = {
  COPY_FIELD: 3200,
} as const;

/** Nicira extension action subtypes (NXAST_*). */
export const NXAST = {
  RESUBMIT: 1,
  SET_TUNNEL: 2,
  SET_QUEUE: 4,
  POP_QUEUE: 5,
  REG_MOVE: 6,
  REG_LOAD: 7,
  NOTE: 8,
  SET_TUNNEL64: 9,
  MULTIPATH: 10,
  BUNDLE: 12,
  BUNDLE_LOAD: 13,
  RESUBMIT_TABLE: 14,
  OUTPUT_REG: 15,
  LEARN: 16,
  EXIT: 17,
  DEC_TTL: 18,
  FIN_TIMEOUT: 19,
  CONTROLLER: 20,
  DEC_TTL_CNT_IDS: 21,
  WRITE_METADATA: 22,
  SAMPLE: 29,
  SAMPLE2: 38,
  SAMPLE3: 41,
  OUTPUT_REG2: 32,
  REG_LOAD2: 33,
  CONJUNCTION: 34,
  CT: 35,
  NAT: 36,
  CONTROLLER2: 37,
  OUTPUT_TRUNC: 39,
  GROUP: 40,
  CLONE: 42,
  CT_CLEAR: 43,
  RESUBMIT_TABLE_CT: 44,
  LEARN2: 45,
  CHECK_PKT_LARGER: 49,
} as const;

/** Instruction types (ofp_instruction_type). */
export const OFPIT = {
  GOTO_TABLE: 1,
  WRITE_METADATA: 2,
  WRITE_ACTIONS: 3,
  APPLY_ACTIONS: 4,
  CLEAR_ACTIONS: 5,
  METER: 6,
  EXPERIMENTER: 0xffff,
} as const;

/**
 * Reserved port numbers in Open vSwitch's 16-bit numbering. Actions store ports this way;
 * OFPAT_OUTPUT carries them as 32-bit OpenFlow 1.1+ numbers, where a reserved port is the
 * 16-bit value plus 0xffff0000.
 */
export const PORT = {
  MAX: 0xff00,
  UNSET: 0xfff7,
  IN_PORT: 0xfff8,
  TABLE: 0xfff9,
  NORMAL: 0xfffa,
  FLOOD: 0xfffb,
  ALL: 0xfffc,
  CONTROLLER: 0xfffd,
  LOCAL: 0xfffe,
  ANY: 0xffff,
} as const;

/** Offset between 16-bit reserved ports and their 32-bit OpenFlow 1.1+ numbers. */
export const PORT_OFFSET_OF11 = 0xffff0000;

/** Packet-in reasons used by the controller action (ofp_packet_in_reason). */
export const PACKET_IN_REASON = {
  no_match: 0,
  action: 1,
  invalid_ttl: 2,
  action_set: 3,
  group: 4,
  packet_out: 5,
} as const;

/** NXAST_CONTROLLER2 property types (NXAC2PT_*). */
export const CONTROLLER2_PROPERTY = {
  MAX_LEN: 0,
  CONTROLLER_ID: 1,
  REASON: 2,
  USERDATA: 3,
  PAUSE: 4,
  METER_ID: 5,
} as const;

/** Meter id meaning "no meter" in the controller action. */
export const NO_CONTROLLER_METER = 0xffffffff;

/** NXAST_CT flag bits. */
export const CT_FLAG = {
  COMMIT: 1 << 0,
  FORCE: 1 << 1,
} as const;

/** Table number meaning "do not recirculate" in NXAST_CT. */
export const CT_NO_RECIRCULATION = 0xff;

/** Well-known ports that select a conntrack ALG. */
export const CT_ALG = {
  ftp: 21,
  tftp: 69,
} as const;

/** NXAST_NAT flag bits. */
export const NAT_FLAG = {
  SRC: 1 << 0,
  DST: 1 << 1,
  PERSISTENT: 1 << 2,
  PROTO_HASH: 1 << 3,
  PROTO_RANDOM: 1 << 4,
} as const;

/** NXAST_NAT range_present bits: which optional range fields follow the header. */
export const NAT_RANGE = {
  IPV4_MIN: 1 << 0,
  IPV4_MAX: 1 << 1,
  IPV6_MIN: 1 << 2,
  IPV6_MAX: 1 << 3,
  PROTO_MIN: 1 << 4,
  PROTO_MAX: 1 << 5,
} as const;

/** NXAST_LEARN flag bits. */
export const LEARN_FLAG = {
  SEND_FLOW_REM: 1 << 0,
  DELETE_LEARNED: 1 << 1,
  WRITE_RESULT: 1 << 2,
} as const;

/** Bits of a learn flow_mod_spec header: n_bits in the low 11 bits, then source and destination kinds. */
export const LEARN_SPEC = {
  N_BITS_MASK: 0x3ff,
  SRC_FIELD: 0 << 13,
  SRC_IMMEDIATE: 1 << 13,
  SRC_MASK: 1 << 13,
  DST_MATCH: 0 << 11,
  DST_LOAD: 1 << 11,
  DST_OUTPUT: 2 << 11,
  DST_MASK: 3 << 11,
} as const;

/** Learn defaults that ovs-ofctl leaves out of its text. */
export const LEARN_DEFAULT = {
  TABLE: 1,
  PRIORITY: 0x8000,
  TIMEOUT_PERMANENT: 0,
} as const;
