// OFPT_ERROR type and code numbers with the names ovs-ofctl prints (OpenFlow 1.3.5 section
// A.4.4 and 1.5.1 section 7.5.4). OpenFlow 1.3 has no bundle error type, so Open vSwitch
// sends bundle errors there as ONF experimenter errors with exp_code 2300 + the OpenFlow 1.4
// code (OVS 3.1 lib/ofp-errors.h).

/** ofp_error_msg.type values. */
export const OFPET = {
  HELLO_FAILED: 0,
  BAD_REQUEST: 1,
  BAD_ACTION: 2,
  BAD_INSTRUCTION: 3,
  BAD_MATCH: 4,
  FLOW_MOD_FAILED: 5,
  GROUP_MOD_FAILED: 6,
  PORT_MOD_FAILED: 7,
  TABLE_MOD_FAILED: 8,
  QUEUE_OP_FAILED: 9,
  SWITCH_CONFIG_FAILED: 10,
  ROLE_REQUEST_FAILED: 11,
  METER_MOD_FAILED: 12,
  TABLE_FEATURES_FAILED: 13,
  BAD_PROPERTY: 14,
  ASYNC_CONFIG_FAILED: 15,
  FLOW_MONITOR_FAILED: 16,
  BUNDLE_FAILED: 17,
  EXPERIMENTER: 0xffff,
} as const;

/** First ONF experimenter error code used for bundle errors in OpenFlow 1.3. */
export const ONF_BUNDLE_ERROR_BASE = 2300;

/** Names of the error types, indexed by type number. */
export const ERROR_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: "OFPET_HELLO_FAILED",
  1: "OFPET_BAD_REQUEST",
  2: "OFPET_BAD_ACTION",
  3: "OFPET_BAD_INSTRUCTION",
  4: "OFPET_BAD_MATCH",
  5: "OFPET_FLOW_MOD_FAILED",
  6: "OFPET_GROUP_MOD_FAILED",
  7: "OFPET_PORT_MOD_FAILED",
  8: "OFPET_TABLE_MOD_FAILED",
  9: "OFPET_QUEUE_OP_FAILED",
  10: "OFPET_SWITCH_CONFIG_FAILED",
  11: "OFPET_ROLE_REQUEST_FAILED",
  12: "OFPET_METER_MOD_FAILED",
  13: "OFPET_TABLE_FEATURES_FAILED",
  14: "OFPET_BAD_PROPERTY",
  15: "OFPET_ASYNC_CONFIG_FAILED",
  16: "OFPET_FLOWMONITOR_FAILED",
  17: "OFPET_BUNDLE_FAILED",
  0xffff: "OFPET_EXPERIMENTER",
};

/** Code names per error type; the array index is the code. */
export const ERROR_CODE_NAMES: Readonly<Record<number, readonly string[]>> = {
  0: ["OFPHFC_INCOMPATIBLE", "OFPHFC_EPERM"],
  1: [
    "OFPBRC_BAD_VERSION",
    "OFPBRC_BAD_TYPE",
    "OFPBRC_BAD_MULTIPART",
    "OFPBRC_BAD_EXPERIMENTER",
    "OFPBRC_BAD_EXP_TYPE",
    "OFPBRC_EPERM",
    "OFPBRC_BAD_LEN",
    "OFPBRC_BUFFER_EMPTY",
    "OFPBRC_BUFFER_UNKNOWN",
    "OFPBRC_BAD_TABLE_ID",
    "OFPBRC_IS_SLAVE",
    "OFPBRC_BAD_PORT",
    "OFPBRC_BAD_PACKET",
    "OFPBRC_MULTIPART_BUFFER_OVERFLOW",
    "OFPBRC_MULTIPART_REQUEST_TIMEOUT",
    "OFPBRC_MULTIPART_REPLY_TIMEOUT",
  ],
  2: [
    "OFPBAC_BAD_TYPE",
    "OFPBAC_BAD_LEN",
    "OFPBAC_BAD_EXPERIMENTER",
    "OFPBAC_BAD_EXP_TYPE",
    "OFPBAC_BAD_OUT_PORT",
    "OFPBAC_BAD_ARGUMENT",
    "OFPBAC_EPERM",
    "OFPBAC_TOO_MANY",
    "OFPBAC_BAD_QUEUE",
    "OFPBAC_BAD_OUT_GROUP",
    "OFPBAC_MATCH_INCONSISTENT",
    "OFPBAC_UNSUPPORTED_ORDER",
    "OFPBAC_BAD_TAG",
    "OFPBAC_BAD_SET_TYPE",
    "OFPBAC_BAD_SET_LEN",
    "OFPBAC_BAD_SET_ARGUMENT",
  ],
  3: [
    "OFPBIC_UNKNOWN_INST",
    "OFPBIC_UNSUP_INST",
    "OFPBIC_BAD_TABLE_ID",
    "OFPBIC_UNSUP_METADATA",
    "OFPBIC_UNSUP_METADATA_MASK",
    "OFPBIC_BAD_EXPERIMENTER",
    "OFPBIC_BAD_EXP_TYPE",
    "OFPBIC_BAD_LEN",
    "OFPBIC_EPERM",
  ],
  4: [
    "OFPBMC_BAD_TYPE",
    "OFPBMC_BAD_LEN",
    "OFPBMC_BAD_TAG",
    "OFPBMC_BAD_DL_ADDR_MASK",
    "OFPBMC_BAD_NW_ADDR_MASK",
    "OFPBMC_BAD_WILDCARDS",
    "OFPBMC_BAD_FIELD",
    "OFPBMC_BAD_VALUE",
    "OFPBMC_BAD_MASK",
    "OFPBMC_BAD_PREREQ",
    "OFPBMC_DUP_FIELD",
    "OFPBMC_EPERM",
  ],
  5: [
    "OFPFMFC_UNKNOWN",
    "OFPFMFC_TABLE_FULL",
    "OFPFMFC_BAD_TABLE_ID",
    "OFPFMFC_OVERLAP",
    "OFPFMFC_EPERM",
    "OFPFMFC_BAD_TIMEOUT",
    "OFPFMFC_BAD_COMMAND",
    "OFPFMFC_BAD_FLAGS",
  ],
  6: [
    "OFPGMFC_GROUP_EXISTS",
    "OFPGMFC_INVALID_GROUP",
    "OFPGMFC_WEIGHT_UNSUPPORTED",
    "OFPGMFC_OUT_OF_GROUPS",
    "OFPGMFC_OUT_OF_BUCKETS",
    "OFPGMFC_CHAINING_UNSUPPORTED",
    "OFPGMFC_WATCH_UNSUPPORTED",
    "OFPGMFC_LOOP",
    "OFPGMFC_UNKNOWN_GROUP",
    "OFPGMFC_CHAINED_GROUP",
    "OFPGMFC_BAD_TYPE",
    "OFPGMFC_BAD_COMMAND",
    "OFPGMFC_BAD_BUCKET",
    "OFPGMFC_BAD_WATCH",
    "OFPGMFC_EPERM",
    "OFPGMFC_UNKNOWN_BUCKET",
    "OFPGMFC_BUCKET_EXISTS",
  ],
  7: ["OFPPMFC_BAD_PORT", "OFPPMFC_BAD_HW_ADDR", "OFPPMFC_BAD_CONFIG", "OFPPMFC_BAD_ADVERTISE", "OFPPMFC_EPERM"],
  8: ["OFPTMFC_BAD_TABLE", "OFPTMFC_BAD_CONFIG", "OFPTMFC_EPERM"],
  9: ["OFPQOFC_BAD_PORT", "OFPQOFC_BAD_QUEUE", "OFPQOFC_EPERM"],
  10: ["OFPSCFC_BAD_FLAGS", "OFPSCFC_BAD_LEN", "OFPSCFC_EPERM"],
  11: ["OFPRRFC_STALE", "OFPRRFC_UNSUP", "OFPRRFC_BAD_ROLE"],
  12: [
    "OFPMMFC_UNKNOWN",
    "OFPMMFC_METER_EXISTS",
    "OFPMMFC_INVALID_METER",
    "OFPMMFC_UNKNOWN_METER",
    "OFPMMFC_BAD_COMMAND",
    "OFPMMFC_BAD_FLAGS",
    "OFPMMFC_BAD_RATE",
    "OFPMMFC_BAD_BURST",
    "OFPMMFC_BAD_BAND",
    "OFPMMFC_BAD_BAND_VALUE",
    "OFPMMFC_OUT_OF_METERS",
    "OFPMMFC_OUT_OF_BANDS",
  ],
  13: [
    "OFPTFFC_BAD_TABLE",
    "OFPTFFC_BAD_METADATA",
    "OFPTFFC_BAD_TYPE",
    "OFPTFFC_BAD_LEN",
    "OFPTFFC_BAD_ARGUMENT",
    "OFPTFFC_EPERM",
  ],
  14: [
    "OFPBPC_BAD_TYPE",
    "OFPBPC_BAD_LEN",
    "OFPBPC_BAD_VALUE",
    "OFPBPC_TOO_MANY",
    "OFPBPC_DUP_TYPE",
    "OFPBPC_BAD_EXPERIMENTER",
    "OFPBPC_BAD_EXP_TYPE",
    "OFPBPC_BAD_EXP_VALUE",
    "OFPBPC_EPERM",
  ],
  15: [
    "OFPACFC_INVALID",
    "OFPACFC_UNSUPPORTED",
    "OFPACFC_EPERM",
  ],
  16: [
    "OFPMOFC_UNKNOWN",
    "OFPMOFC_MONITOR_EXISTS",
    "OFPMOFC_INVALID_MONITOR",
    "OFPMOFC_UNKNOWN_MONITOR",
    "OFPMOFC_BAD_COMMAND",
    "OFPMOFC_BAD_FLAGS",
    "OFPMOFC_BAD_TABLE_ID",
    "OFPMOFC_BAD_OUT",
  ],
  17: [
    "OFPBFC_UNKNOWN",
    "OFPBFC_EPERM",
    "OFPBFC_BAD_ID",
    "OFPBFC_BUNDLE_EXIST",
    "OFPBFC_BUNDLE_CLOSED",
    "OFPBFC_OUT_OF_BUNDLES",
    "OFPBFC_BAD_TYPE",
    "OFPBFC_BAD_FLAGS",
    "OFPBFC_MSG_BAD_LEN",
    "OFPBFC_MSG_BAD_XID",
    "OFPBFC_MSG_UNSUP",
    "OFPBFC_MSG_CONFLICT",
    "OFPBFC_MSG_TOO_MANY",
    "OFPBFC_MSG_FAILED",
    "OFPBFC_TIMEOUT",
    "OFPBFC_BUNDLE_IN_PROGRESS",
  ],
};

/** The fields of an error that identify it: type, code and, for experimenter errors, the id. */
export interface ErrorIdentity {
  readonly type: number;
  readonly code: number;
  readonly experimenter?: number;
}

/**
 * Returns the name ovs-ofctl prints for an error ("OFPFMFC_OVERLAP"). Bundle errors sent
 * as ONF experimenter errors map to their OFPBFC_* names. An unknown pair gets a
 * descriptive fallback naming the numbers, so a caller never receives an empty name.
 */
export function errorName(error: ErrorIdentity): string {
  if (error.type === OFPET.EXPERIMENTER) {
    const bundleCode = error.code - ONF_BUNDLE_ERROR_BASE;
    const bundleNames = ERROR_CODE_NAMES[OFPET.BUNDLE_FAILED] ?? [];
    if (error.experimenter === 0x4f4e4600 && bundleCode >= 0 && bundleCode < bundleNames.length) {
      return bundleNames[bundleCode] ?? "";
    }
    const id = (error.experimenter ?? 0).toString(16).padStart(8, "0");
    return `OFPET_EXPERIMENTER(experimenter=0x${id},exp_code=${error.code})`;
  }
  const name = ERROR_CODE_NAMES[error.type]?.[error.code];
  if (name !== undefined) return name;
  const typeName = ERROR_TYPE_NAMES[error.type] ?? `OFPET(${error.type})`;
  return `${typeName}(code=${error.code})`;
}
