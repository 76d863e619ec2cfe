// Whole flow lines in the syntax of `ovs-ofctl add-flow`, `mod-flows` and `del-flows`:
// flow keys (table, priority, cookie, timeouts, flags, out_port, out_group), the match, and
// the "actions=" text, which the action codec parses.

import { parseInstructions } from "../actions/index.ts";
import type { Instruction } from "../actions/index.ts";
import { parseUnsigned } from "../match/fields.ts";
import { MatchTextParser, PROTOCOL_KEYWORDS, splitMatchText } from "../match/match-parse.ts";
import type { Match } from "../match/match.ts";
import { getEntry, getNumber } from "../match/match.ts";
import { parsePort, portToOfp11 } from "../match/ports.ts";
import type { PortNameMap } from "../match/ports.ts";
import type { OpenFlowVersion } from "../version.ts";
import { FlowTextError, FlowTextErrorCode } from "./errors.ts";

export type FlowCommand = "add" | "modify" | "modify_strict" | "delete" | "delete_strict";

/** Flow-mod flags as ovs-ofctl spells them. */
export const FLOW_FLAG_NAMES = ["send_flow_rem", "check_overlap", "reset_counts", "no_packet_counts", "no_byte_counts"] as const;

export type FlowFlag = (typeof FLOW_FLAG_NAMES)[number];

export interface ParseFlowOptions {
  version: OpenFlowVersion;
  /** Defaults to "add", which requires actions and rejects a cookie mask, out_port and out_group. */
  command?: FlowCommand;
  /** Table names accepted by table=NAME. */
  tableNames?: ReadonlyMap<string, number>;
  /** Port names accepted by in_port and out_port. */
  portNames?: PortNameMap;
}

export interface ParsedFlow {
  tableId?: number;
  priority?: number;
  cookie?: bigint;
  cookieMask?: bigint;
  idleTimeout?: number;
  hardTimeout?: number;
  importance?: number;
  /** Flags in ovs-ofctl's order: send_flow_rem, check_overlap, reset_counts, no_packet_counts, no_byte_counts. */
  flags: FlowFlag[];
  /** OpenFlow 1.1+ 32-bit port number (reserved ports are 0xffffff00 and above). */
  outPort?: number;
  outGroup?: number;
  match: Match;
  instructions: Instruction[];
}

/** Statistics keys of dump-flows output; ovs-ofctl accepts and ignores them, so a dumped line parses. */
const IGNORED_KEYS: ReadonlySet<string> = new Set(["duration", "n_packets", "n_bytes", "idle_age", "hard_age"]);

const OFPG_ANY = 0xffffffff;
const OFPG_ALL = 0xfffffffc;

function badValue(key: string, text: string, expected: string): FlowTextError {
  return new FlowTextError(FlowTextErrorCode.BAD_VALUE, `invalid ${key} "${text}": expected ${expected}`);
}

function parseBounded(key: string, text: string, max: number): number {
  const value = parseUnsigned(text);
  if (value === undefined || value > BigInt(max)) throw badValue(key, text, `a number from 0 to ${max}`);
  return Number(value);
}

function parseTable(text: string, options: ParseFlowOptions): number {
  const named = options.tableNames?.get(text);
  if (named !== undefined) return named;
  if (parseUnsigned(text) === undefined) {
    throw new FlowTextError(FlowTextErrorCode.BAD_VALUE, `unknown table "${text}": give a table number 0-255 or a name from the table map`);
  }
  return parseBounded("table", text, 255);
}

function parseCookie(text: string, flow: ParsedFlow, command: FlowCommand): void {
  const [valueText = "", maskText] = text.split("/");
  const cookie = parseUnsigned(valueText);
  if (cookie === undefined || cookie >> 64n !== 0n) throw badValue("cookie", text, "a 64-bit number, optionally /MASK");
  flow.cookie = cookie;
  if (maskText === undefined) return;
  if (command === "add") {
    throw new FlowTextError(FlowTextErrorCode.NOT_ALLOWED, `cookie mask in "${text}" is not allowed when adding a flow: give cookie=VALUE`);
  }
  const mask = parseUnsigned(maskText);
  if (mask === undefined || mask >> 64n !== 0n) throw badValue("cookie mask", maskText, "a 64-bit number");
  flow.cookieMask = mask;
}

function parseOutGroup(text: string): number {
  const lower = text.toLowerCase();
  if (lower === "any") return OFPG_ANY;
  if (lower === "all") return OFPG_ALL;
  const value = parseUnsigned(text);
  if (value === undefined || value > 0xffffffffn) throw badValue("out_group", text, "a group number, any or all");
  return Number(value);
}

/** Finds the "actions=" part; its text may contain commas and parentheses, so it is cut first. */
function splitActions(text: string): { matchText: string; actionsText?: string } {
  const found = /(^|[\s,])actions?\s*=/.exec(text);
  if (!found) return { matchText: text };
  return { matchText: text.slice(0, found.index), actionsText: text.slice(found.index + found[0].length).trim() };
}

function requireModifyOrDelete(key: string, command: FlowCommand): void {
  if (command === "add") {
    throw new FlowTextError(FlowTextErrorCode.NOT_ALLOWED, `${key} is only allowed when modifying or deleting flows, not when adding one`);
  }
}

/** Applies one key=value flow key; returns false when `key` is not a flow key. */
function applyFlowKey(flow: ParsedFlow, key: string, value: string, options: ParseFlowOptions): boolean {
  const command = options.command ?? "add";
  switch (key) {
    case "table":
      flow.tableId = parseTable(value, options);
      return true;
    case "priority":
      flow.priority = parseBounded("priority", value, 0xffff);
      return true;
    case "cookie":
      parseCookie(value, flow, command);
      return true;
    case "idle_timeout":
      flow.idleTimeout = parseBounded("idle_timeout", value, 0xffff);
      return true;
    case "hard_timeout":
      flow.hardTimeout = parseBounded("hard_timeout", value, 0xffff);
      return true;
    case "importance":
      flow.importance = parseBounded("importance", value, 0xffff);
      return true;
    case "out_port": {
      requireModifyOrDelete(key, command);
      const port = parsePort(value, options.portNames);
      if (port === undefined) throw badValue("out_port", value, "a port number or name");
      flow.outPort = portToOfp11(port);
      return true;
    }
    case "out_group":
      requireModifyOrDelete(key, command);
      flow.outGroup = parseOutGroup(value);
      return true;
    default:
      return IGNORED_KEYS.has(key);
  }
}

function applyWord(flow: ParsedFlow, word: string, parser: MatchTextParser): void {
  if ((FLOW_FLAG_NAMES as readonly string[]).includes(word)) {
    const flag = word as FlowFlag;
    if (!flow.flags.includes(flag)) flow.flags.push(flag);
    return;
  }
  if (parser.addKeyword(word)) return;
  if (MatchTextParser.isField(word)) {
    throw new FlowTextError(FlowTextErrorCode.BAD_VALUE, `field "${word}" is missing a value: write ${word}=VALUE`);
  }
  const hint = PROTOCOL_KEYWORDS.has(word.toLowerCase()) ? ` (protocol keywords are lowercase: ${word.toLowerCase()})` : "";
  throw new FlowTextError(FlowTextErrorCode.UNKNOWN_KEYWORD, `unknown keyword "${word}"${hint}`);
}

function sortFlags(flags: FlowFlag[]): FlowFlag[] {
  return [...flags].sort((a, b) => FLOW_FLAG_NAMES.indexOf(a) - FLOW_FLAG_NAMES.indexOf(b));
}

/**
 * Parses a flow line as `ovs-ofctl add-flow`, `mod-flows` or `del-flows` accepts it, for
 * example "table=0,priority=100,tcp,tp_dst=80 actions=ct(table=1)". Adds and modifies need
 * actions; deletes ignore them. Throws FlowTextError for flow keys, MatchError for the
 * match, ActionError for the actions. Pure; safe to call concurrently.
 */
export function parseFlow(text: string, options: ParseFlowOptions): ParsedFlow {
  const command = options.command ?? "add";
  const { matchText, actionsText } = splitActions(text);
  const flow: ParsedFlow = { flags: [], match: { entries: [] }, instructions: [] };
  const parser = new MatchTextParser(options.portNames ? { portNames: options.portNames } : {});

  for (const { key, value } of splitMatchText(matchText)) {
    if (value === undefined) {
      applyWord(flow, key, parser);
      continue;
    }
    if (!applyFlowKey(flow, key, value, options)) parser.addField(key, value);
  }
  flow.match = parser.finish();
  flow.flags = sortFlags(flow.flags);

  const needsActions = command === "add" || command === "modify" || command === "modify_strict";
  if (actionsText === undefined || actionsText === "") {
    if (needsActions) throw new FlowTextError(FlowTextErrorCode.MISSING_ACTIONS, `flow "${text}" has no actions: add actions=... (actions=drop for none)`);
    return flow;
  }
  if (!needsActions) return flow;

  // Some actions take their meaning from the match, as in ovs-ofctl: mod_tp_src needs the
  // IP protocol, and mod_vlan_vid keeps an existing tag only when the match requires one.
  const ipProtocol = getNumber(flow.match, "nw_proto");
  flow.instructions = parseInstructions(actionsText, {
    version: options.version,
    matchesVlan: requiresVlanHeader(flow.match),
    ...(ipProtocol === undefined ? {} : { ipProtocol: Number(ipProtocol) }),
    ...(options.portNames ? { portNames: options.portNames } : {}),
  });
  checkGotoTable(flow);
  return flow;
}

/** Tells whether the match requires a VLAN header: vlan_tci with the CFI bit (0x1000) set and matched. */
function requiresVlanHeader(match: Match): boolean {
  const entry = getEntry(match, "vlan_tci");
  if (!entry) return false;
  const cfi = 0x1000;
  const mask = entry.mask ? entry.mask.readUInt16BE(0) : 0xffff;
  return (entry.value.readUInt16BE(0) & mask & cfi) !== 0;
}

/** Rejects goto_table to the flow's own table or an earlier one, which OpenFlow forbids. */
function checkGotoTable(flow: ParsedFlow): void {
  const table = flow.tableId ?? 0;
  for (const instruction of flow.instructions) {
    if (instruction.type === "goto_table" && instruction.table <= table) {
      throw new FlowTextError(
        FlowTextErrorCode.NOT_ALLOWED,
        `goto_table:${instruction.table} in table ${table} must go to a later table (${table + 1} or above)`,
      );
    }
  }
}
