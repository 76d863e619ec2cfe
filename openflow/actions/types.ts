// The decoded form of OpenFlow actions and instructions, with one variant per action kind.
// The optional `encoding` members record which of several wire forms an action arrived in.
// Re-encoding then reproduces that form where Open vSwitch does the same (e.g. ONF
// copy_field in OpenFlow 1.3, NXAST_CONTROLLER2, NXAST_DEC_TTL_CNT_IDS).

import type { FieldInfo, Subfield } from "../match/fields.ts";

/** A bit range of a field, as in `NXM_NX_REG0[0..15]` (bit 0 is the least significant). */
export type { Subfield };

/** Output to a port. Ports use Open vSwitch's 16-bit numbering (see PORT in constants.ts). */
export interface OutputAction {
  type: "output";
  port: number;
  /** Bytes sent to the controller when `port` is CONTROLLER; 65535 sends the whole packet. */
  maxLen: number;
}

/** Output to the port number held in a field (NXAST_OUTPUT_REG or NXAST_OUTPUT_REG2). */
export interface OutputRegAction {
  type: "output_reg";
  source: Subfield;
  maxLen: number;
  encoding?: "output_reg" | "output_reg2";
}

/** Output truncated to `maxLen` bytes (NXAST_OUTPUT_TRUNC). */
export interface OutputTruncAction {
  type: "output_trunc";
  port: number;
  maxLen: number;
}

/** Send to the controller with a reason, id or user data (NXAST_CONTROLLER or CONTROLLER2). */
export interface ControllerAction {
  type: "controller";
  maxLen: number;
  controllerId: number;
  /** Packet-in reason number (PACKET_IN_REASON). */
  reason: number;
  userdata: Buffer;
  pause: boolean;
  /** Meter id; NO_CONTROLLER_METER when none. */
  meterId: number;
  encoding?: "controller" | "controller2";
}

export interface GroupAction {
  type: "group";
  groupId: number;
}

/** The OpenFlow 1.5 meter action (OFPAT_METER); OpenFlow 1.3 uses the meter instruction. */
export interface MeterAction {
  type: "meter";
  meterId: number;
}

/**
 * Set all or some bits of a field. `set_field` text, `load` text and NXAST_REG_LOAD all
 * decode to this; `encoding: "reg_load"` makes it print and encode as `load` where the
 * version allows (OpenFlow 1.3).
 */
export interface SetFieldAction {
  type: "set_field";
  field: FieldInfo;
  /** The field value, `field.bytes` long. */
  value: Buffer;
  /** Bits to set, `field.bytes` long; absent means every bit. */
  mask?: Buffer;
  encoding?: "set_field" | "reg_load" | "reg_load2";
}

/** Copy bits between fields (NXAST_REG_MOVE, ONF copy_field, OFPAT_COPY_FIELD). */
export interface MoveAction {
  type: "move";
  source: Subfield;
  destination: Subfield;
  encoding?: "reg_move" | "onf_copy_field" | "copy_field";
}

export interface PushVlanAction {
  type: "push_vlan";
  ethertype: number;
}

export interface PopVlanAction {
  type: "pop_vlan";
}

export interface SetQueueAction {
  type: "set_queue";
  queueId: number;
}

export interface PopQueueAction {
  type: "pop_queue";
}

/**
 * Decrement the IP TTL. Without controller ids it is OFPAT_DEC_NW_TTL; with them (or when it
 * arrived as one) it is NXAST_DEC_TTL_CNT_IDS.
 */
export interface DecTtlAction {
  type: "dec_ttl";
  controllerIds: number[];
  encoding?: "dec_nw_ttl" | "dec_ttl_cnt_ids";
}

/** Set the IP TTL (OFPAT_SET_NW_TTL, text mod_nw_ttl). */
export interface SetNwTtlAction {
  type: "set_nw_ttl";
  ttl: number;
}

/** Resubmit to a port and/or table. `port` IN_PORT and `table` 255 mean "unchanged". */
export interface ResubmitAction {
  type: "resubmit";
  port: number;
  table: number;
  /** Use the conntrack original-direction tuple (NXAST_RESUBMIT_TABLE_CT). */
  withConntrack: boolean;
  encoding?: "resubmit" | "resubmit_table";
}

/** Set the tunnel id; decoded from NXAST_SET_TUNNEL(64), sent as set_field tun_id in 1.3+. */
export interface SetTunnelAction {
  type: "set_tunnel";
  tunnelId: bigint;
  wide: boolean;
}

/** A NAT address/port range inside ct(...). */
export interface NatAction {
  type: "nat";
  /** NAT_FLAG bits: src or dst, persistent, hash, random. */
  flags: number;
  range?: {
    family: "ipv4" | "ipv6";
    /** Lowest address as dotted quad or IPv6 text (canonical form). */
    addressMin: string;
    addressMax?: string;
    portMin?: number;
    portMax?: number;
  };
}

/** Send through connection tracking (NXAST_CT). */
export interface CtAction {
  type: "ct";
  /** CT_FLAG bits: commit, force. */
  flags: number;
  /** Zone as an immediate value or as a 16-bit field range. */
  zone: number | Subfield;
  /** Table to recirculate to; CT_NO_RECIRCULATION for none. */
  table: number;
  /** ALG port (21 ftp, 69 tftp), 0 for none. */
  alg: number;
  /** Nested actions: nat first if present, then exec(...) actions. */
  actions: Action[];
}

export interface CtClearAction {
  type: "ct_clear";
}

/** Conjunctive match clause. `clause` is 0-based on the wire and printed 1-based. */
export interface ConjunctionAction {
  type: "conjunction";
  id: number;
  clause: number;
  nClauses: number;
}

/** One learn flow_mod_spec: a match, load or output built from a field or an immediate. */
export type LearnSpec =
  | { kind: "match"; destination: Subfield; source: Subfield }
  | { kind: "match"; destination: Subfield; immediate: Buffer }
  | { kind: "load"; destination: Subfield; source: Subfield }
  | { kind: "load"; destination: Subfield; immediate: Buffer }
  | { kind: "output"; source: Subfield };

/** Add or modify a flow from the packet (NXAST_LEARN or NXAST_LEARN2). */
export interface LearnAction {
  type: "learn";
  table: number;
  priority: number;
  idleTimeout: number;
  hardTimeout: number;
  finIdleTimeout: number;
  finHardTimeout: number;
  cookie: bigint;
  /** LEARN_FLAG bits other than WRITE_RESULT, which follows from `resultDestination`. */
  flags: number;
  limit: number;
  resultDestination?: Subfield;
  specs: LearnSpec[];
  encoding?: "learn" | "learn2";
}

/** Opaque bytes kept in the flow for the operator (NXAST_NOTE). */
export interface NoteAction {
  type: "note";
  data: Buffer;
}

export interface ExitAction {
  type: "exit";
}

export interface FinTimeoutAction {
  type: "fin_timeout";
  idleTimeout: number;
  hardTimeout: number;
}

/** Run actions on a copy of the packet (NXAST_CLONE). */
export interface CloneAction {
  type: "clone";
  actions: Action[];
}

/** Store a link chosen by hashing the packet in a field (NXAST_MULTIPATH). */
export interface MultipathAction {
  type: "multipath";
  /** Hashed packet fields (NX_HASH_FIELDS_*: 0 eth_src ... 6 symmetric_l3). */
  fields: number;
  basis: number;
  /** NX_MP_ALG_*: 0 modulo_n, 1 hash_threshold, 2 hrw, 3 iter_hash. */
  algorithm: number;
  /** Number of links minus one. */
  maxLink: number;
  argument: number;
  destination: Subfield;
}

/** Output to (bundle) or store (bundle_load, with `destination`) one of several ports. */
export interface BundleAction {
  type: "bundle";
  fields: number;
  basis: number;
  /** NX_BD_ALG_*: 0 active_backup, 1 hrw. */
  algorithm: number;
  members: number[];
  destination?: Subfield;
}

/** Sample packets for IPFIX (NXAST_SAMPLE, SAMPLE2 with a port, SAMPLE3 with a direction). */
export interface SampleAction {
  type: "sample";
  /** Packets sampled per 65535. */
  probability: number;
  collectorSetId: number;
  obsDomainId: number;
  obsPointId: number;
  /** Port for the sampled packets' tunnel metadata; PORT.ANY for none. */
  samplingPort: number;
  /** 0 default, 1 ingress, 2 egress. */
  direction: number;
  encoding?: "sample" | "sample2" | "sample3";
}

/** Set one bit to whether the packet is longer than `packetLength` bytes. */
export interface CheckPktLargerAction {
  type: "check_pkt_larger";
  packetLength: number;
  /** A 1-bit destination. */
  destination: Subfield;
}

/** An action this codec does not model; `bytes` is the whole action and re-encodes as is. */
export interface UnknownAction {
  type: "unknown";
  bytes: Buffer;
}

export type Action =
  | OutputAction
  | OutputRegAction
  | OutputTruncAction
  | ControllerAction
  | GroupAction
  | MeterAction
  | SetFieldAction
  | MoveAction
  | PushVlanAction
  | PopVlanAction
  | SetQueueAction
  | PopQueueAction
  | DecTtlAction
  | SetNwTtlAction
  | ResubmitAction
  | SetTunnelAction
  | CtAction
  | NatAction
  | CtClearAction
  | ConjunctionAction
  | LearnAction
  | NoteAction
  | ExitAction
  | FinTimeoutAction
  | CloneAction
  | MultipathAction
  | BundleAction
  | SampleAction
  | CheckPktLargerAction
  | UnknownAction;

/** OpenFlow 1.1+ instructions. The meter instruction exists only in OpenFlow 1.3. */
export type Instruction =
  | { type: "meter"; meterId: number }
  | { type: "apply_actions"; actions: Action[] }
  | { type: "clear_actions" }
  | { type: "write_actions"; actions: Action[] }
  | { type: "write_metadata"; metadata: bigint; mask: bigint }
  | { type: "goto_table"; table: number }
  | { type: "unknown"; bytes: Buffer };

/** The order Open vSwitch requires in text and emits on the wire. */
export const INSTRUCTION_ORDER: readonly Instruction["type"][] = [
  "meter",
  "apply_actions",
  "clear_actions",
  "write_actions",
  "write_metadata",
  "goto_table",
];
