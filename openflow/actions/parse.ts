// Parsing of ovs-ofctl action text (the value after "actions="). Legacy spellings become
// the action Open vSwitch 3.1 sends for OpenFlow 1.3/1.5: mod_dl_src is set_field eth_src,
// mod_vlan_vid is push_vlan plus set_field vlan_vid, set_tunnel is set_field tun_id, and so on.

import { lookupField, parseUnsigned, type PortNameMap } from "../match/fields.ts";
import { OpenFlowVersion, versionName } from "../version.ts";
import { bigIntToBuffer } from "./bits.ts";
import { PORT } from "./constants.ts";
import { parseCheckPktLarger } from "./check-pkt-larger.ts";
import { parseController, parseHexBytes } from "./controller.ts";
import { parseCt, parseNat, writesCtField } from "./ct.ts";
import { ActionError, badArgument } from "./errors.ts";
import { parseFieldValueText, parseSubfieldText } from "./field-refs.ts";
import { splitKeyValues, type KeyValue } from "./key-value.ts";
import { parseBundle, parseMultipath } from "./hash-select.ts";
import { parseLearn } from "./learn.ts";
import { parseSample } from "./sample.ts";
import { parsePort } from "./ports.ts";
import { parseLoad, parseMove, parseSetField } from "./set-field.ts";
import type { Action, Instruction, SetFieldAction } from "./types.ts";

/** Options for parsing action text. */
export interface ParseActionsOptions {
  version: OpenFlowVersion;
  /**
   * IP protocol number the flow matches (6 tcp, 17 udp, 132 sctp). mod_tp_src and mod_tp_dst
   * need it to pick tcp_src, udp_src or sctp_src, as ovs-ofctl does from the flow's match.
   */
  ipProtocol?: number;
  /**
   * Whether the flow's match requires a VLAN header (vlan_tci with the CFI bit, dl_vlan or
   * vlan_vid). mod_vlan_vid and mod_vlan_pcp push a VLAN header first unless it does.
   */
  matchesVlan?: boolean;
  /** Port names accepted in addition to numbers, as `ovs-ofctl --names` does. */
  portNames?: PortNameMap;
}

/** One parsed item: an action, or an instruction keyword that only parseInstructions accepts. */
export type ParsedItem = { kind: "action"; action: Action } | { kind: "instruction"; instruction: Instruction; text: string } | { kind: "drop" };

function unsigned(text: string, bits: number, action: string, expected: string): number {
  const value = parseUnsigned(text);
  if (value === undefined || value >> BigInt(bits) !== 0n) badArgument(action, text, expected);
  return Number(value);
}

function setField(fieldName: string, valueText: string, action: string): SetFieldAction {
  const field = lookupField(fieldName);
  if (!field) throw new ActionError("BAD_ARGUMENT", `${action} needs the field ${fieldName}, which the field registry lacks`);
  const { value } = parseFieldValueText(field, valueText, action);
  return { type: "set_field", field, value };
}

function setFieldNumber(fieldName: string, value: number, action: string): SetFieldAction {
  const field = lookupField(fieldName);
  if (!field) throw new ActionError("BAD_ARGUMENT", `${action} needs the field ${fieldName}, which the field registry lacks`);
  return { type: "set_field", field, value: bigIntToBuffer(BigInt(value), field.bytes) };
}

function parseOutput(value: string, portNames: PortNameMap | undefined): Action {
  if (value.includes("port") && value.includes("max_len")) {
    let port: number | undefined;
    let maxLen: number | undefined;
    for (const pair of splitKeyValues(value)) {
      if (pair.key === "port") {
        port = parsePort(pair.value, portNames);
        if (port === undefined) badArgument("output", `port=${pair.value}`, "a port number or LOCAL or IN_PORT");
        if (port >= PORT.MAX && port !== PORT.LOCAL && port !== PORT.IN_PORT) badArgument("output", `port=${pair.value}`, "a port number, LOCAL or IN_PORT for a truncated output");
      } else if (pair.key === "max_len") {
        maxLen = unsigned(pair.value, 32, "output max_len", "a 32-bit byte count");
        if (maxLen < 14) badArgument("output", `max_len=${pair.value}`, "at least 14, the Ethernet header length");
      } else {
        badArgument("output", pair.key, "output(port=PORT,max_len=BYTES)");
      }
    }
    if (port === undefined || maxLen === undefined) badArgument("output", value, "output(port=PORT,max_len=BYTES)");
    return { type: "output_trunc", port, maxLen };
  }

  const port = parsePort(value, portNames);
  if (port !== undefined) return { type: "output", port, maxLen: port === PORT.CONTROLLER ? 0xffff : 0 };
  try {
    return { type: "output_reg", source: parseSubfieldText(value, "output"), maxLen: 0xffff };
  } catch (error) {
    throw new ActionError("BAD_ARGUMENT", `invalid output argument "${value}": expected a port number, a reserved port such as LOCAL, or a field such as NXM_NX_REG1[0..15]`, { cause: error });
  }
}

function parseResubmit(value: string, options: { delimiter: string; portNames: PortNameMap | undefined }): Action {
  const { delimiter } = options;
  const parts = delimiter === ":" ? [value] : value.split(",");
  const [portText = "", tableText = "", ctText = ""] = parts;
  if (parts.length > 3) badArgument("resubmit", value, "resubmit:PORT or resubmit([PORT],[TABLE][,ct])");

  let port: number = PORT.IN_PORT;
  if (portText !== "") {
    const parsed = parsePort(portText, options.portNames);
    if (parsed === undefined) badArgument("resubmit", portText, "a port number or reserved port name (resubmit to unknown port)");
    port = parsed;
  }
  let table = 0xff;
  if (tableText !== "") table = unsigned(tableText, 8, "resubmit", "a table number 0 to 254");
  if (ctText !== "" && ctText !== "ct") badArgument("resubmit", ctText, `"ct" as the third argument`);
  if (port === PORT.IN_PORT && table === 0xff) {
    throw new ActionError("BAD_ARGUMENT", `invalid resubmit argument "${value}": at least one "in_port" or "table" must be specified`);
  }
  return { type: "resubmit", port, table, withConntrack: ctText === "ct" };
}

function parseDecTtl(value: string, delimiter: string): Action {
  if (delimiter !== "(") return { type: "dec_ttl", controllerIds: [0] };
  const ids = value
    .split(/[, ]+/)
    .filter((id) => id !== "")
    .map((id) => unsigned(id, 16, "dec_ttl", "controller ids as 16-bit integers, e.g. dec_ttl(1,2)"));
  if (ids.length === 0) badArgument("dec_ttl", value, "at least one controller id, e.g. dec_ttl(1,2)");
  return { type: "dec_ttl", controllerIds: ids, encoding: "dec_ttl_cnt_ids" };
}

function parseConjunction(value: string): Action {
  const match = /^\s*(\S+)\s*,\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  const id = match ? parseUnsigned(match[1] ?? "") : undefined;
  if (!match || id === undefined || id > 0xffffffffn) badArgument("conjunction", value, "conjunction(ID,K/N)");
  const clause = Number(match[2]);
  const nClauses = Number(match[3]);
  if (nClauses < 2) badArgument("conjunction", value, "at least 2 clauses");
  if (nClauses > 64) badArgument("conjunction", value, "at most 64 clauses");
  if (clause < 1) badArgument("conjunction", value, "a clause index that is positive");
  if (clause > nClauses) badArgument("conjunction", value, "a clause index less than or equal to the number of clauses");
  return { type: "conjunction", id: Number(id), clause: clause - 1, nClauses };
}

function parseFinTimeout(value: string): Action {
  const action = { type: "fin_timeout" as const, idleTimeout: 0, hardTimeout: 0 };
  for (const pair of splitKeyValues(value)) {
    if (pair.key === "idle_timeout") action.idleTimeout = unsigned(pair.value, 16, "fin_timeout", "a 16-bit number of seconds");
    else if (pair.key === "hard_timeout") action.hardTimeout = unsigned(pair.value, 16, "fin_timeout", "a 16-bit number of seconds");
    else badArgument("fin_timeout", pair.key, "fin_timeout(idle_timeout=N,hard_timeout=N)");
  }
  return action;
}

/** Field name prefixes of the transport protocols mod_tp_src/mod_tp_dst can set, by IP protocol number. */
const L4_PROTOCOL_NAMES: ReadonlyMap<number, string> = new Map([
  [6, "tcp"],
  [17, "udp"],
  [132, "sctp"],
]);

function parseL4Port(key: "mod_tp_src" | "mod_tp_dst", value: string, options: ParseActionsOptions): Action {
  const protocol = options.ipProtocol === undefined ? undefined : L4_PROTOCOL_NAMES.get(options.ipProtocol);
  if (!protocol) {
    throw new ActionError(
      "BAD_ARGUMENT",
      `${key} needs the flow's IP protocol (tcp, udp or sctp) to choose a field: pass ipProtocol, or write set_field:${value}->tcp_${key.endsWith("src") ? "src" : "dst"}`,
    );
  }
  const port = unsigned(value, 16, key, "a 16-bit port number");
  return setFieldNumber(`${protocol}_${key.endsWith("src") ? "src" : "dst"}`, port, key);
}

function parseVlanVid(value: string, push: boolean): Action[] {
  const vid = unsigned(value, 12, push ? "mod_vlan_vid" : "set_vlan_vid", "a VLAN VID from 0 to 4095");
  const set = setFieldNumber("vlan_vid", vid | 0x1000, "mod_vlan_vid");
  return push ? [{ type: "push_vlan", ethertype: 0x8100 }, set] : [set];
}

function parseVlanPcp(value: string, push: boolean): Action[] {
  const pcp = unsigned(value, 3, push ? "mod_vlan_pcp" : "set_vlan_pcp", "a VLAN PCP from 0 to 7");
  const set = setFieldNumber("vlan_pcp", pcp, "mod_vlan_pcp");
  return push ? [{ type: "push_vlan", ethertype: 0x8100 }, set] : [set];
}

/** Parses `PORT:QUEUE` or `PORT,QUEUE`; OpenFlow 1.1+ has no enqueue, so OVS sends set_queue, output, pop_queue. */
function parseEnqueue(value: string, portNames: PortNameMap | undefined): Action[] {
  const parts = value.split(/[:,]/);
  const expected = '"enqueue" syntax is enqueue:PORT:QUEUE or enqueue(PORT,QUEUE)';
  if (parts.length !== 2) badArgument("enqueue", value, expected);
  const port = parsePort(parts[0] ?? "", portNames);
  if (port === undefined) badArgument("enqueue", parts[0] ?? "", `a port number or reserved port name (${expected})`);
  const queueId = unsigned(parts[1] ?? "", 32, "enqueue", `a 32-bit queue id (${expected})`);
  return [{ type: "set_queue", queueId }, { type: "output", port, maxLen: 0xffff }, { type: "pop_queue" }];
}

function parseMeter(value: string, version: OpenFlowVersion): ParsedItem {
  const meterId = unsigned(value, 32, "meter", "a meter id from 1 to 4294901760");
  return version === OpenFlowVersion.OF15
    ? { kind: "action", action: { type: "meter", meterId } }
    : { kind: "instruction", instruction: { type: "meter", meterId }, text: `meter:${value}` };
}

function parseWriteMetadata(value: string): Instruction {
  const [metadataText = "", maskText] = value.split("/");
  const metadata = parseUnsigned(metadataText);
  const mask = maskText === undefined ? 0xffffffffffffffffn : parseUnsigned(maskText);
  if (metadata === undefined || mask === undefined || metadata >> 64n !== 0n || mask >> 64n !== 0n) {
    badArgument("write_metadata", value, "write_metadata:VALUE[/MASK] with 64-bit values");
  }
  return { type: "write_metadata", metadata, mask };
}

function actions(...list: Action[]): ParsedItem[] {
  return list.map((action) => ({ kind: "action", action }));
}

/** Parses one key/value item of action text into zero or more items. */
function parseItem(pair: KeyValue, options: ParseActionsOptions): ParsedItem[] {
  const { key, value, delimiter } = pair;
  const { version } = options;
  switch (key.toLowerCase()) {
    case "output":
      return actions(parseOutput(value, options.portNames));
    case "group":
      return actions({ type: "group", groupId: unsigned(value, 32, "group", "a 32-bit group id") });
    case "controller":
      return actions(parseController(value));
    case "set_field":
      return actions(parseSetField(value, options.portNames));
    case "load":
      return actions(parseLoad(value));
    case "move":
      return actions(parseMove(value));
    case "push_vlan": {
      const ethertype = unsigned(value, 16, "push_vlan", "0x8100 or 0x88a8");
      if (ethertype !== 0x8100 && ethertype !== 0x88a8) badArgument("push_vlan", value, "a VLAN ethertype, 0x8100 or 0x88a8");
      return actions({ type: "push_vlan", ethertype });
    }
    case "pop_vlan":
    case "strip_vlan":
      return actions({ type: "pop_vlan" });
    case "mod_vlan_vid":
    case "set_vlan_vid":
      return actions(...parseVlanVid(value, key.toLowerCase() === "mod_vlan_vid" && !options.matchesVlan));
    case "mod_vlan_pcp":
    case "set_vlan_pcp":
      return actions(...parseVlanPcp(value, key.toLowerCase() === "mod_vlan_pcp" && !options.matchesVlan));
    case "enqueue":
      return actions(...parseEnqueue(value, options.portNames));
    case "mod_dl_src":
      return actions(setField("eth_src", value, "mod_dl_src"));
    case "mod_dl_dst":
      return actions(setField("eth_dst", value, "mod_dl_dst"));
    case "mod_nw_src":
      return actions(setField("ip_src", value, "mod_nw_src"));
    case "mod_nw_dst":
      return actions(setField("ip_dst", value, "mod_nw_dst"));
    case "mod_nw_tos": {
      const tos = unsigned(value, 8, "mod_nw_tos", "a TOS value that is a multiple of 4, 0 to 252");
      if (tos & 0x03) badArgument("mod_nw_tos", value, "a TOS value that is a multiple of 4, 0 to 252");
      return actions(setFieldNumber("ip_dscp", tos >> 2, "mod_nw_tos"));
    }
    case "mod_nw_ecn":
      return actions(setFieldNumber("nw_ecn", unsigned(value, 2, "mod_nw_ecn", "an ECN value from 0 to 3"), "mod_nw_ecn"));
    case "mod_nw_ttl":
    case "set_nw_ttl":
      return actions({ type: "set_nw_ttl", ttl: unsigned(value, 8, key, "a TTL from 0 to 255") });
    case "mod_tp_src":
    case "mod_tp_dst":
      return actions(parseL4Port(key.toLowerCase() as "mod_tp_src" | "mod_tp_dst", value, options));
    case "dec_ttl":
      return actions(parseDecTtl(value, delimiter));
    case "set_tunnel":
    case "set_tunnel64": {
      const tunnelId = parseUnsigned(value);
      if (tunnelId === undefined || tunnelId >> 64n !== 0n) badArgument(key, value, "a 64-bit tunnel id");
      const field = lookupField("tun_id");
      if (!field) throw new ActionError("BAD_ARGUMENT", "set_tunnel needs the tun_id field, which the field registry lacks");
      return actions({ type: "set_field", field, value: bigIntToBuffer(tunnelId, 8) });
    }
    case "set_queue":
      return actions({ type: "set_queue", queueId: unsigned(value, 32, "set_queue", "a 32-bit queue id") });
    case "pop_queue":
      return actions({ type: "pop_queue" });
    case "fin_timeout":
      return actions(parseFinTimeout(value));
    case "resubmit":
      return actions(parseResubmit(value, { delimiter, portNames: options.portNames }));
    case "learn":
      return actions(parseLearn(value, options.portNames));
    case "conjunction":
      return actions(parseConjunction(value));
    case "note":
      return actions({ type: "note", data: parseHexBytes(value, "note") });
    case "exit":
      return actions({ type: "exit" });
    case "ct":
      return actions(parseCt(value, version, (text, nestedVersion) => parseCtActions(text, { ...options, version: nestedVersion })));
    case "ct_clear":
      return actions({ type: "ct_clear" });
    case "nat":
      return actions(parseNat(value));
    case "clone":
      return actions({ type: "clone", actions: parseActions(value, options) });
    case "multipath":
      return actions(parseMultipath(value));
    case "bundle":
    case "bundle_load":
      return actions(parseBundle(value, { isLoad: key.toLowerCase() === "bundle_load", portNames: options.portNames }));
    case "sample":
      return actions(parseSample(value, options.portNames));
    case "check_pkt_larger":
      return actions(parseCheckPktLarger(value));
    case "unknown_action":
      return actions({ type: "unknown", bytes: parseHexBytes(value, "unknown_action") });
    case "meter":
      return [parseMeter(value, version)];
    case "goto_table":
      return [{ kind: "instruction", instruction: { type: "goto_table", table: unsigned(value, 8, "goto_table", "a table number 0 to 254") }, text: `goto_table:${value}` }];
    case "write_metadata":
      return [{ kind: "instruction", instruction: parseWriteMetadata(value), text: `write_metadata:${value}` }];
    case "clear_actions":
      return [{ kind: "instruction", instruction: { type: "clear_actions" }, text: "clear_actions" }];
    case "write_actions":
      return [{ kind: "instruction", instruction: { type: "write_actions", actions: parseActions(value, options) }, text: `write_actions(${value})` }];
    case "apply_actions":
      throw new ActionError("BAD_ARGUMENT", "apply_actions is the default instruction: list the actions without it");
    case "drop":
      return [{ kind: "drop" }];
  }

  const port = delimiter === "" ? parsePort(key, options.portNames) : undefined;
  if (port !== undefined) return actions({ type: "output", port, maxLen: port === PORT.CONTROLLER ? 0xffff : 0 });
  throw new ActionError("UNKNOWN_ACTION", `unknown action "${key}": expected an action such as output:PORT, set_field:VALUE->FIELD, resubmit(,TABLE), ct(...) or goto_table:N`);
}

/** Checks the rules Open vSwitch applies to a whole action list (ofpacts_verify). */
export function verifyActionList(list: readonly Action[], context: { insideCt: boolean }): void {
  const conjunction = list.find((action) => action.type === "conjunction");
  if (conjunction) {
    const other = list.find((action) => action.type !== "conjunction" && action.type !== "note");
    if (other) {
      throw new ActionError("BAD_INSTRUCTION_ORDER", `"conjunction" actions may be used along with "note" but not any other kind of action (such as the "${other.type}" action used here)`);
    }
  }
  if (context.insideCt) return;
  for (const action of list) {
    if (action.type === "nat") throw new ActionError("BAD_ARGUMENT", `nat is only allowed inside ct(...), e.g. ct(commit,nat(src=10.0.0.1))`);
    if (writesCtField(action)) throw new ActionError("BAD_ARGUMENT", `cannot set CT fields outside of ct action: write ${action.field.name} inside ct(commit,exec(...))`);
  }
}

/** Splits action text into parsed items, in text order. */
export function parseItems(text: string, options: ParseActionsOptions): ParsedItem[] {
  const items: ParsedItem[] = [];
  for (const pair of splitKeyValues(text)) items.push(...parseItem(pair, options));
  const hasDrop = items.some((item) => item.kind === "drop");
  if (hasDrop && items.length > 1) throw new ActionError("BAD_INSTRUCTION_ORDER", `"drop" must not be accompanied by any other action or instruction`);
  return items.filter((item) => item.kind !== "drop");
}

function parseNestedList(text: string, options: ParseActionsOptions, insideCt: boolean): Action[] {
  const items = parseItems(text, options);
  const list: Action[] = [];
  for (const item of items) {
    if (item.kind === "instruction") {
      const hint = item.instruction.type === "meter" ? ` (in ${versionName(options.version)} meter is an instruction)` : "";
      throw new ActionError("BAD_INSTRUCTION_ORDER", `${item.text} is an instruction, not an action${hint}: it is not allowed in an action list`);
    }
    if (item.kind === "action") list.push(item.action);
  }
  verifyActionList(list, { insideCt });
  return list;
}

/**
 * Parses an action list (no instructions) such as `output:1,resubmit(,10)`. Throws
 * ActionError naming the bad action and the expected form. Pure and safe to call concurrently.
 */
export function parseActions(text: string, options: ParseActionsOptions): Action[] {
  return parseNestedList(text, options, false);
}

/** Parses the action list inside ct(exec(...)), where nat and ct_mark/ct_label writes are allowed. */
export function parseCtActions(text: string, options: ParseActionsOptions): Action[] {
  return parseNestedList(text, options, true);
}

