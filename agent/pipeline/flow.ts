// A flow of the pipeline as a structured value: table, priority, cookie, and the match and
// instructions of the openflow package. FlowBuilder assembles one step by step.
import { isIPv4 } from "node:net";
import { CT_FLAG, CT_NO_RECIRCULATION, PORT } from "../../openflow/actions/constants.ts";
import type { Action, Instruction } from "../../openflow/actions/index.ts";
import { formatInstructions } from "../../openflow/actions/index.ts";
import { lookupField } from "../../openflow/match/fields.ts";
import type { FieldInfo, Subfield } from "../../openflow/match/fields.ts";
import { formatMatch, MatchBuilder } from "../../openflow/match/index.ts";
import type { Match } from "../../openflow/match/index.ts";
import { prefixMask, type Cidr } from "../../common/net/cidr.ts";
import { rangeValueMask, spaceWidth, type BitRange } from "./registers.ts";
import type { PipelineTable } from "./tables.ts";

export interface PipelineFlow {
  readonly table: PipelineTable;
  readonly priority: number;
  readonly cookie: bigint;
  readonly match: Match;
  readonly instructions: readonly Instruction[];
}

/** Bits of ct_state as OVS defines them (lib/packets.h CS_*). */
export const CtState = {
  new: 0x01,
  est: 0x02,
  rel: 0x04,
  rpl: 0x08,
  inv: 0x10,
  trk: 0x20,
} as const;

/** Fields setField() accepts, with the text form of their values. */
const SETTABLE_FIELDS = {
  eth_src: "mac",
  eth_dst: "mac",
  arp_sha: "mac",
  arp_tha: "mac",
  arp_spa: "ipv4",
  arp_tpa: "ipv4",
  tun_dst: "ipv4",
  arp_op: "integer",
} as const;
export type SettableField = keyof typeof SETTABLE_FIELDS;

export class FlowBuildError extends Error {
  readonly code = "FLOW_BUILD_INVALID";
}

function field(name: string): FieldInfo {
  const info = lookupField(name);
  if (info === undefined) throw new FlowBuildError(`field ${name} is not known to the openflow package`);
  return info;
}

/** Parses "aa:bb:cc:dd:ee:ff" into a 48-bit integer. */
export function macToBigint(mac: string): bigint {
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) throw new FlowBuildError(`invalid MAC address ${JSON.stringify(mac)}: expected six hex pairs such as 0a:58:0a:f4:01:05`);
  return BigInt(`0x${mac.replaceAll(":", "")}`);
}

/** Parses a dotted-quad IPv4 address into a 32-bit integer. */
export function ipv4ToBigint(address: string): bigint {
  if (!isIPv4(address)) throw new FlowBuildError(`invalid IPv4 address ${JSON.stringify(address)}`);
  return address.split(".").reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

function toBuffer(value: bigint, bytes: number): Buffer {
  return Buffer.from(value.toString(16).padStart(bytes * 2, "0"), "hex");
}

function rangeSubfield(range: BitRange): Subfield {
  return { field: field(range.space), offset: range.start, nBits: range.end - range.start + 1 };
}

/** Returns the action copying one bit range into another of the same width, for ct(exec(...)). */
export function moveBitsAction(source: BitRange, destination: BitRange): Action {
  return { type: "move", source: rangeSubfield(source), destination: rangeSubfield(destination) };
}

/** Options of FlowBuilder.ct(). */
export interface CtOptions {
  readonly zone: number;
  readonly commit?: boolean;
  /** Table to continue in after conntrack; omitted: continue with the next action. */
  readonly table?: PipelineTable;
  /** Actions run on the committed connection, e.g. a move into ct_mark. */
  readonly exec?: readonly Action[];
}

/**
 * Builds one PipelineFlow. Match methods add fields, and a later value of one field replaces
 * the earlier one. Action methods append to the apply-actions list in call order, and
 * gotoTable() sets the next table. A flow with no actions and no goto drops the packet.
 */
export class FlowBuilder {
  readonly #table: PipelineTable;
  readonly #priority: number;
  #cookie = 0n;
  readonly #match = new MatchBuilder();
  readonly #actions: Action[] = [];
  #goto: PipelineTable | undefined;

  constructor(table: PipelineTable, options: { priority: number; cookie: bigint }) {
    this.#table = table;
    this.#priority = options.priority;
    this.#cookie = options.cookie;
  }

  // Match fields.

  inPort(port: number): this {
    this.#match.setCanonical("in_port", BigInt(port));
    return this;
  }

  ip(): this {
    this.#match.setCanonical("eth_type", 0x0800n);
    return this;
  }

  arp(): this {
    this.#match.setCanonical("eth_type", 0x0806n);
    return this;
  }

  ethSrc(mac: string): this {
    this.#match.setCanonical("eth_src", macToBigint(mac));
    return this;
  }

  ethDst(mac: string): this {
    this.#match.setCanonical("eth_dst", macToBigint(mac));
    return this;
  }

  ipSrc(address: string): this {
    this.ip();
    this.#match.setCanonical("ip_src", ipv4ToBigint(address));
    return this;
  }

  ipDst(address: string): this {
    this.ip();
    this.#match.setCanonical("ip_dst", ipv4ToBigint(address));
    return this;
  }

  ipDstCidr(cidr: Cidr): this {
    if (cidr.family !== "IPv4") throw new FlowBuildError("IPv6 pod CIDRs are not supported by the pipeline yet");
    this.ip();
    this.#match.setCanonical("ip_dst", cidr.network, prefixMask("IPv4", cidr.prefixLength));
    return this;
  }

  arpOp(op: number): this {
    this.arp();
    this.#match.setCanonical("arp_op", BigInt(op));
    return this;
  }

  arpSpa(address: string): this {
    this.arp();
    this.#match.setCanonical("arp_spa", ipv4ToBigint(address));
    return this;
  }

  arpTpa(address: string): this {
    this.arp();
    this.#match.setCanonical("arp_tpa", ipv4ToBigint(address));
    return this;
  }

  arpSha(mac: string): this {
    this.arp();
    this.#match.setCanonical("arp_sha", macToBigint(mac));
    return this;
  }

  /** Matches `value` in a register, ct_mark or ct_label bit range. */
  bits(range: BitRange, value: number): this {
    const { value: shifted, mask } = rangeValueMask(range, value);
    const current = this.#match.get(range.space);
    const full = (1n << BigInt(spaceWidth(range.space))) - 1n;
    const merged = current === undefined ? { value: shifted, mask } : { value: (current.value & ~mask) | shifted, mask: current.mask | mask };
    this.#match.setCanonical(range.space, merged.value, merged.mask === full ? undefined : merged.mask);
    return this;
  }

  /** Matches ct_state bits: `set` must be on, `unset` must be off. */
  ctState(options: { set?: readonly (keyof typeof CtState)[]; unset?: readonly (keyof typeof CtState)[] }): this {
    let value = 0n;
    let mask = 0n;
    for (const name of options.set ?? []) {
      value |= BigInt(CtState[name]);
      mask |= BigInt(CtState[name]);
    }
    for (const name of options.unset ?? []) mask |= BigInt(CtState[name]);
    this.#match.setCanonical("ct_state", value, mask);
    return this;
  }

  // Actions.

  /** Sets a whole field: MAC fields take "aa:bb:..", IPv4 fields dotted quads, arp_op an integer. */
  setField(name: SettableField, value: string | number): this {
    const info = field(name);
    const kind = SETTABLE_FIELDS[name];
    let numeric: bigint;
    if (typeof value === "number") numeric = BigInt(value);
    else numeric = kind === "mac" ? macToBigint(value) : ipv4ToBigint(value);
    this.#actions.push({ type: "set_field", field: info, value: toBuffer(numeric, info.bytes) });
    return this;
  }

  /** Writes `value` into a register bit range, leaving the register's other bits alone. */
  load(range: BitRange, value: number): this {
    const { value: shifted, mask } = rangeValueMask(range, value);
    const info = field(range.space);
    const full = (1n << BigInt(spaceWidth(range.space))) - 1n;
    const action: Action =
      mask === full
        ? { type: "set_field", field: info, value: toBuffer(shifted, info.bytes) }
        : { type: "set_field", field: info, value: toBuffer(shifted, info.bytes), mask: toBuffer(mask, info.bytes) };
    this.#actions.push(action);
    return this;
  }

  /** Copies bits between fields, given as "field" names with ranges, e.g. move("eth_src", "eth_dst"). */
  move(source: Subfield | string, destination: Subfield | string): this {
    const asSubfield = (value: Subfield | string): Subfield => {
      if (typeof value !== "string") return value;
      const info = field(value);
      return { field: info, offset: 0, nBits: info.bits };
    };
    this.#actions.push({ type: "move", source: asSubfield(source), destination: asSubfield(destination) });
    return this;
  }

  /** Copies a bit range into another of the same width. */
  moveBits(source: BitRange, destination: BitRange): this {
    this.#actions.push(moveBitsAction(source, destination));
    return this;
  }

  ct(options: CtOptions): this {
    this.#actions.push({
      type: "ct",
      flags: options.commit === true ? CT_FLAG.COMMIT : 0,
      zone: options.zone,
      table: options.table?.id ?? CT_NO_RECIRCULATION,
      alg: 0,
      actions: [...(options.exec ?? [])],
    });
    return this;
  }

  decTtl(): this {
    // controllerIds [0] is plain dec_ttl (OFPAT_DEC_NW_TTL); an empty list would encode as dec_ttl().
    this.#actions.push({ type: "dec_ttl", controllerIds: [0] });
    return this;
  }

  output(port: number): this {
    this.#actions.push({ type: "output", port, maxLen: 0 });
    return this;
  }

  /** Outputs to the port number held in a register range. */
  outputBits(range: BitRange): this {
    this.#actions.push({ type: "output_reg", source: rangeSubfield(range), maxLen: 0 });
    return this;
  }

  /** Sends the packet back out of its input port (needed for ARP replies: plain output skips in_port). */
  inPortOutput(): this {
    return this.output(PORT.IN_PORT);
  }

  normal(): this {
    return this.output(PORT.NORMAL);
  }

  gotoTable(table: PipelineTable): this {
    if (table.id <= this.#table.id) {
      throw new FlowBuildError(`goto_table from ${this.#table.name} (${this.#table.id}) to ${table.name} (${table.id}): OpenFlow only allows a later table`);
    }
    this.#goto = table;
    return this;
  }

  build(): PipelineFlow {
    const instructions: Instruction[] = [];
    if (this.#actions.length > 0) instructions.push({ type: "apply_actions", actions: [...this.#actions] });
    if (this.#goto !== undefined) instructions.push({ type: "goto_table", table: this.#goto.id });
    return { table: this.#table, priority: this.#priority, cookie: this.#cookie, match: this.#match.build(), instructions };
  }
}

/** Starts a flow in `table`. */
export function flow(table: PipelineTable, options: { priority: number; cookie: bigint }): FlowBuilder {
  return new FlowBuilder(table, options);
}

/**
 * Formats a flow as `ovs-ofctl --no-stats dump-flows` prints it: "cookie=0x..., table=Name,
 * priority=N,MATCH actions=...". Table and port references inside the actions stay numeric,
 * as the openflow package prints them.
 */
export function formatFlow(flow: PipelineFlow): string {
  const cookie = flow.cookie === 0n ? "" : `cookie=0x${flow.cookie.toString(16)}, `;
  const match = formatMatch(flow.match, { priority: flow.priority });
  return `${cookie}table=${flow.table.name}, ${match === "" ? "" : `${match} `}actions=${formatInstructions(flow.instructions)}`;
}

/** Returns the identity of a flow in OpenFlow (table, priority and match). Two flows with the same key replace each other. */
export function flowKey(flow: PipelineFlow): string {
  return `${flow.table.id}/${formatMatch(flow.match, { priority: flow.priority })}`;
}
