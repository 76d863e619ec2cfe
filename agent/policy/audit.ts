// Audit log of NetworkPolicy decisions. With auditing on, the allow flow of an audited
// policy's rule and the drop flow of a pod it isolates also send the packet's first bytes to
// the controller, with the rule or drop-flow id as userdata. A meter limits those packet-ins
// to a rate, so a flood of denied packets costs the agent at most that many log lines.
// Only the first packet of a connection reaches the rules, because established packets bypass
// them. So an allowed connection logs once, and a dropped one once per attempt (each SYN).
import type { Direction } from "../../controller/networkpolicy/types.ts";
import { OFPMBT, OFPMF } from "../../openflow/messages/meter.ts";
import type { MeterModMessage, MessageBody, PacketIn2Message, PacketInMessage } from "../../openflow/messages/types.ts";
import type { IdOwner } from "./enforcer.ts";
import { PacketInFlag } from "./policy-flows.ts";

/** OFPMC_ADD and OFPMC_MODIFY of METER_MOD. */
const MeterCommand = { add: 0, modify: 1 } as const;

/**
 * Returns the METER_MOD that creates (or, with `modify`, updates) the audit meter: a drop band
 * at `packetsPerSecond` with a burst of `burst` packets.
 */
export function auditMeterMessage(options: { meterId: number; packetsPerSecond: number; burst: number; modify?: boolean }): MessageBody<MeterModMessage> {
  return {
    kind: "meter_mod",
    command: options.modify === true ? MeterCommand.modify : MeterCommand.add,
    flags: OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS,
    meterId: options.meterId,
    bands: [{ type: OFPMBT.DROP, rate: options.packetsPerSecond, burstSize: options.burst }],
  };
}

/** The addresses and ports of a packet, read from its Ethernet, IPv4 and transport headers. */
export interface PacketSummary {
  readonly source: string;
  readonly destination: string;
  /** IP protocol number: 6 TCP, 17 UDP, 132 SCTP, 1 ICMP. */
  readonly protocol: number;
  /** Transport ports for TCP, UDP and SCTP; absent for other protocols or a truncated header. */
  readonly sourcePort?: number;
  readonly destinationPort?: number;
}

/** One audit log entry. */
export interface AuditRecord {
  readonly disposition: "allow" | "drop";
  readonly direction: Direction;
  /** The rule that allowed the packet; absent for a drop. */
  readonly ruleId?: string;
  readonly policyId?: string;
  /** "namespace/name" of the isolated pod; absent for an allow. */
  readonly pod?: string;
  readonly packet: PacketSummary;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_VLAN = 0x8100;
const PORT_PROTOCOLS = new Set([6, 17, 132]);

/** Returns the summary of an Ethernet frame carrying IPv4, or undefined for anything else or a truncated frame. */
export function summarizePacket(frame: Buffer): PacketSummary | undefined {
  let offset = 12;
  if (frame.length < offset + 2) return undefined;
  let etherType = frame.readUInt16BE(offset);
  offset += 2;
  if (etherType === ETHERTYPE_VLAN) {
    if (frame.length < offset + 4) return undefined;
    etherType = frame.readUInt16BE(offset + 2);
    offset += 4;
  }
  if (etherType !== ETHERTYPE_IPV4 || frame.length < offset + 20) return undefined;

  const headerLength = (frame[offset] ?? 0) & 0x0f;
  const protocol = frame[offset + 9] ?? 0;
  const source = frame.subarray(offset + 12, offset + 16).join(".");
  const destination = frame.subarray(offset + 16, offset + 20).join(".");
  const transport = offset + headerLength * 4;
  if (!PORT_PROTOCOLS.has(protocol) || frame.length < transport + 4) return { source, destination, protocol };
  return { source, destination, protocol, sourcePort: frame.readUInt16BE(transport), destinationPort: frame.readUInt16BE(transport + 2) };
}

/** The logging call the audit log makes; a winston Logger fits. */
export interface AuditLogger {
  info(message: string, meta?: Record<string, unknown>): void;
}

export interface AuditLogOptions {
  /** Resolves the id in a packet-in's userdata, normally PolicyEnforcer.owner(). */
  readonly owner: (id: number) => IdOwner | undefined;
  readonly logger: AuditLogger;
  /** Called with each record after it is logged, for metrics or tests. */
  readonly onRecord?: (record: AuditRecord) => void;
}

/**
 * Turns packet-ins of the audit flows into log lines. Packet-ins without the audit flag,
 * with an id no rule or pod has (any more), or without an IPv4 packet are ignored, because
 * they come from other controller actions or from flows removed after the packet was sent.
 */
export class AuditLog {
  readonly #owner: AuditLogOptions["owner"];
  readonly #logger: AuditLogger;
  readonly #onRecord: AuditLogOptions["onRecord"];

  constructor(options: AuditLogOptions) {
    this.#owner = options.owner;
    this.#logger = options.logger;
    this.#onRecord = options.onRecord;
  }

  /** Returns the record of one packet-in and logs it, or returns undefined when it is not an audit packet-in. */
  handlePacketIn(message: PacketIn2Message | PacketInMessage): AuditRecord | undefined {
    const userdata = message.kind === "nx_packet_in2" ? message.userdata : undefined;
    if (userdata?.length !== 5 || ((userdata[4] ?? 0) & PacketInFlag.audit) === 0) return undefined;
    const owner = this.#owner(userdata.readUInt32BE(0));
    const packet = summarizePacket(message.data);
    if (owner === undefined || packet === undefined) return undefined;

    const record: AuditRecord =
      owner.kind === "rule"
        ? { disposition: "allow", direction: owner.direction, ruleId: owner.ruleId, policyId: owner.policyId, packet }
        : { disposition: "drop", direction: owner.direction, pod: owner.pod, packet };
    this.#logger.info("NetworkPolicy audit", { ...record, packet: undefined, ...packet });
    this.#onRecord?.(record);
    return record;
  }
}

/** The part of OpenFlowConnection the audit log listens to. */
export interface PacketInSource {
  on(event: "packetIn", listener: (message: PacketIn2Message | PacketInMessage) => void): unknown;
  off(event: "packetIn", listener: (message: PacketIn2Message | PacketInMessage) => void): unknown;
}

/** Feeds a connection's packet-ins to `log`. Returns a function that stops it. */
export function followPacketIns(source: PacketInSource, log: AuditLog): () => void {
  const listener = (message: PacketIn2Message | PacketInMessage): void => {
    log.handlePacketIn(message);
  };
  source.on("packetIn", listener);
  return () => source.off("packetIn", listener);
}
