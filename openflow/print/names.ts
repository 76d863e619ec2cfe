// Message names and small value names as ovs-ofctl prints them.
import { MULTIPART_NAMES, OFPT } from "../messages/constants.ts";
import { multipartType } from "../messages/multipart.ts";
import type { OpenFlowMessage } from "../messages/types.ts";

const NAME_OF_KIND: Partial<Record<OpenFlowMessage["kind"], string>> = {
  hello: "OFPT_HELLO",
  error: "OFPT_ERROR",
  echo_request: "OFPT_ECHO_REQUEST",
  echo_reply: "OFPT_ECHO_REPLY",
  features_request: "OFPT_FEATURES_REQUEST",
  features_reply: "OFPT_FEATURES_REPLY",
  get_config_request: "OFPT_GET_CONFIG_REQUEST",
  get_config_reply: "OFPT_GET_CONFIG_REPLY",
  set_config: "OFPT_SET_CONFIG",
  packet_in: "OFPT_PACKET_IN",
  flow_removed: "OFPT_FLOW_REMOVED",
  port_status: "OFPT_PORT_STATUS",
  packet_out: "OFPT_PACKET_OUT",
  flow_mod: "OFPT_FLOW_MOD",
  group_mod: "OFPT_GROUP_MOD",
  table_mod: "OFPT_TABLE_MOD",
  barrier_request: "OFPT_BARRIER_REQUEST",
  barrier_reply: "OFPT_BARRIER_REPLY",
  role_request: "OFPT_ROLE_REQUEST",
  role_reply: "OFPT_ROLE_REPLY",
  meter_mod: "OFPT_METER_MOD",
  nx_set_packet_in_format: "NXT_SET_PACKET_IN_FORMAT",
  nx_set_controller_id: "NXT_SET_CONTROLLER_ID",
  nx_ct_flush_zone: "NXT_CT_FLUSH_ZONE",
  nx_packet_in2: "NXT_PACKET_IN2",
  nx_resume: "NXT_RESUME",
  port_mod: "OFPT_PORT_MOD",
  set_async: "OFPT_SET_ASYNC",
  get_async_reply: "OFPT_GET_ASYNC_REPLY",
  queue_get_config_reply: "OFPT_QUEUE_GET_CONFIG_REPLY",
  onf_role_status: "ONFT_ROLE_STATUS",
  onf_flow_monitor_cancel: "ONFT_FLOW_MONITOR_CANCEL",
  onf_flow_monitor_paused: "ONFT_FLOW_MONITOR_PAUSED",
  onf_flow_monitor_resumed: "ONFT_FLOW_MONITOR_RESUMED",
};

/** Returns the name ovs-ofctl prints for a message ("OFPT_FLOW_MOD", "OFPST_FLOW reply"). */
export function messageName(m: OpenFlowMessage): string {
  switch (m.kind) {
    case "multipart_request":
    case "multipart_reply": {
      const type = multipartType(m.body);
      const base = MULTIPART_NAMES[type] ?? `OFPST_${type}`;
      return `${base} ${m.kind === "multipart_request" ? "request" : "reply"}`;
    }
    case "bundle_control":
      return m.version < 5 ? "ONFT_BUNDLE_CONTROL" : "OFPT_BUNDLE_CONTROL";
    case "bundle_add":
      return m.version < 5 ? "ONFT_BUNDLE_ADD_MESSAGE" : "OFPT_BUNDLE_ADD_MESSAGE";
    case "experimenter":
      return `OFPT_EXPERIMENTER`;
    case "unknown":
      return `OFPT_UNKNOWN(${m.type})`;
    default:
      return NAME_OF_KIND[m.kind] ?? m.kind;
  }
}

/** Returns the version tag ovs-ofctl puts after the name: "" for 1.0, " (OF1.3)", " (OF 0x0f)". */
export function versionTag(version: number): string {
  if (version === 1) return "";
  if (version >= 2 && version <= 6) return ` (OF1.${version - 1})`;
  return ` (OF 0x${version.toString(16).padStart(2, "0")})`;
}

/** Formats a duration as ovs-ofctl does: whole seconds, then milliseconds or exact nanoseconds. */
export function formatDuration(sec: number, nsec: number): string {
  if (nsec === 0) return `${sec}`;
  if (nsec % 1_000_000 === 0) return `${sec}.${String(nsec / 1_000_000).padStart(3, "0")}`;
  return `${sec}.${String(nsec).padStart(9, "0").replace(/0+$/, "")}`;
}

/** Formats set bits by name, separated by `separator`; unnamed bits print as hex; 0 prints "0". */
export function formatBitNames(bits: number, names: Readonly<Record<number, string>>, separator: string): string {
  if (bits === 0) return "0";
  const parts: string[] = [];
  let rest = bits >>> 0;
  for (let i = 0; i < 32; i += 1) {
    const bit = (1 << i) >>> 0;
    const name = names[bit];
    if ((rest & bit) !== 0 && name !== undefined) {
      parts.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0) parts.push(`0x${rest.toString(16)}`);
  return parts.join(separator);
}

export const CAPABILITY_NAMES: Readonly<Record<number, string>> = {
  0x1: "FLOW_STATS",
  0x2: "TABLE_STATS",
  0x4: "PORT_STATS",
  0x8: "GROUP_STATS",
  0x20: "IP_REASM",
  0x40: "QUEUE_STATS",
  0x100: "PORT_BLOCKED",
  0x200: "BUNDLES",
  0x400: "FLOW_MONITORING",
};

export const FRAG_NAMES = ["normal", "drop", "reassemble", "nx-match"] as const;

export const ROLE_NAMES = ["nochange", "equal", "primary", "secondary"] as const;

export const ROLE_STATUS_REASONS = ["primary_request", "configuration_changed", "experimenter_data_changed"] as const;

export const FLOW_REMOVED_REASONS = ["idle", "hard", "delete", "group_delete", "meter_delete", "eviction"] as const;

export const PACKET_IN_REASONS = [
  "no_match",
  "action",
  "invalid_ttl",
  "action_set",
  "group",
  "packet_out",
] as const;

export const PACKET_IN_FORMATS = ["standard", "nxt_packet_in", "nxt_packet_in2"] as const;

export const FLOW_MOD_FLAG_NAMES: readonly [number, string][] = [
  [0x1, "send_flow_rem"],
  [0x2, "check_overlap"],
  [0x4, "reset_counts"],
  [0x8, "no_packet_counts"],
  [0x10, "no_byte_counts"],
];

/** Returns the flow_mod flags as ovs-ofctl prints them: each name followed by a space. */
export function formatFlowModFlags(flags: number): string {
  let out = "";
  for (const [bit, name] of FLOW_MOD_FLAG_NAMES) if ((flags & bit) !== 0) out += `${name} `;
  return out;
}

/** "OFPT_<NAME>" for each ofp_header.type, for messages that could not be decoded. */
export const OFPT_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(OFPT).map(([name, type]) => [type, `OFPT_${name}`]),
);
