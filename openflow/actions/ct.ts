// Connection tracking: ct(...) (NXAST_CT), its nat(...) (NXAST_NAT) and ct_clear.
// NXAST_CT is 24 bytes followed by its nested actions. The zone is an immediate, or a
// 16-bit field range when zone_src names a field (the zone bits then hold ofs_nbits).
// Open vSwitch 3.1 allows only nat and writes to ct_mark / ct_label to be nested.

import type { BufferReader } from "../wire/reader.ts";
import type { BufferWriter } from "../wire/writer.ts";
import type { OpenFlowVersion } from "../version.ts";
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from "../match/addresses.ts";
import { CT_ALG, CT_FLAG, CT_NO_RECIRCULATION, NAT_FLAG, NAT_RANGE, NXAST } from "./constants.ts";
import { ActionError, badArgument } from "./errors.ts";
import { formatSubfieldText, parseSubfieldText, resolveFieldHeader32, writeNxmHeader } from "./field-refs.ts";
import { beginNiciraAction, finishAction } from "./frame.ts";
import { splitKeyValues } from "./key-value.ts";
import type { Action, CtAction, NatAction, SetFieldAction, Subfield } from "./types.ts";

/** Fields a ct(exec(...)) may write. */
const CT_WRITABLE_FIELDS = new Set(["ct_mark", "ct_label"]);

/** Callbacks into the generic action codec for nested actions, passed in to avoid import cycles. */
export type EncodeNested = (w: BufferWriter, actions: readonly Action[], version: OpenFlowVersion) => void;
export type DecodeNested = (r: BufferReader, version: OpenFlowVersion) => Action[];
export type FormatNested = (actions: readonly Action[]) => string;
export type ParseNested = (text: string, version: OpenFlowVersion) => Action[];

// ---- nested-action rules ----------------------------------------------------------------

/** Returns why `action` may not appear inside ct(...), or undefined when it may. */
export function ctNestingProblem(action: Action): string | undefined {
  if (action.type === "nat") return undefined;
  if (action.type === "set_field") {
    return CT_WRITABLE_FIELDS.has(action.field.name) ? undefined : `ct action doesn't support nested modification of ${action.field.name}`;
  }
  return `ct action doesn't support nested action ${action.type}`;
}

/** Returns whether `action` writes a conntrack field, which only ct(exec(...)) may do. */
export function writesCtField(action: Action): action is SetFieldAction {
  return action.type === "set_field" && CT_WRITABLE_FIELDS.has(action.field.name);
}

function isBareNat(action: Action): boolean {
  return action.type === "nat" && action.flags === 0 && action.range === undefined;
}

/** Returns the problem with the ct as a whole (flags and nested actions), or undefined. */
function ctProblem(action: CtAction): string | undefined {
  if (action.flags & CT_FLAG.FORCE && !(action.flags & CT_FLAG.COMMIT)) return `"force" flag requires "commit" flag`;
  for (const nested of action.actions) {
    const problem = ctNestingProblem(nested);
    if (problem) return problem;
  }
  if (!(action.flags & CT_FLAG.COMMIT) && action.actions.some((nested) => !isBareNat(nested))) {
    return "ct requires the commit flag for nested actions other than a bare nat";
  }
  return undefined;
}

// ---- encode ---------------------------------------------------------------------------

export function encodeCt(w: BufferWriter, action: CtAction, version: OpenFlowVersion, encodeNested: EncodeNested): void {
  const frame = beginNiciraAction(w, NXAST.CT);
  w.u16(action.flags);
  if (typeof action.zone === "number") {
    w.u32(0).u16(action.zone);
  } else {
    writeNxmHeader(w, action.zone.field);
    w.u16((action.zone.offset << 6) | (action.zone.nBits - 1));
  }
  w.u8(action.table).zeros(3).u16(action.alg);
  encodeNested(w, action.actions, version);
  finishAction(w, frame);
}

function writeAddress(w: BufferWriter, family: "ipv4" | "ipv6", text: string): void {
  const bytes = family === "ipv4" ? parseIpv4(text) : parseIpv6(text);
  if (!bytes) throw new ActionError("BAD_ARGUMENT", `invalid nat address "${text}": expected an ${family === "ipv4" ? "IPv4" : "IPv6"} address`);
  w.bytes(bytes);
}

export function encodeNat(w: BufferWriter, action: NatAction): void {
  const frame = beginNiciraAction(w, NXAST.NAT);
  w.zeros(2).u16(action.flags);
  const presentOffset = w.length;
  w.u16(0);

  let present = 0;
  const range = action.range;
  if (range) {
    const isV4 = range.family === "ipv4";
    writeAddress(w, range.family, range.addressMin);
    present |= isV4 ? NAT_RANGE.IPV4_MIN : NAT_RANGE.IPV6_MIN;
    if (range.addressMax !== undefined) {
      writeAddress(w, range.family, range.addressMax);
      present |= isV4 ? NAT_RANGE.IPV4_MAX : NAT_RANGE.IPV6_MAX;
    }
    if (range.portMin !== undefined && range.portMin !== 0) {
      w.u16(range.portMin);
      present |= NAT_RANGE.PROTO_MIN;
    }
    if (range.portMax !== undefined && range.portMax !== 0) {
      w.u16(range.portMax);
      present |= NAT_RANGE.PROTO_MAX;
    }
  }
  w.patchU16(presentOffset, present);
  finishAction(w, frame);
}

// ---- decode ---------------------------------------------------------------------------

function decodeZone(r: BufferReader): number | Subfield {
  const zoneSource = r.u32("zone_src");
  const zoneValue = r.u16("zone");
  if (zoneSource === 0) return zoneValue;

  const field = resolveFieldHeader32(r, zoneSource);
  return { field, offset: zoneValue >> 6, nBits: (zoneValue & 0x3f) + 1 };
}

export function decodeCt(r: BufferReader, version: OpenFlowVersion, decodeNested: DecodeNested): CtAction {
  const flags = r.u16("flags");
  const zone = decodeZone(r);
  if (typeof zone !== "number" && zone.nBits !== 16) r.fail(`ct zone field range is ${zone.nBits} bits, but it must be 16`);
  const table = r.u8("recirc_table");
  r.skip(3, "ct pad");
  const alg = r.u16("alg");
  const actions = decodeNested(r.sub(r.remaining, "ct nested actions"), version);
  const action: CtAction = { type: "ct", flags, zone, table, alg, actions };
  const problem = ctProblem(action);
  if (problem) r.fail(problem);
  return action;
}

function readAddress(r: BufferReader, family: "ipv4" | "ipv6", fieldName: string): string {
  return family === "ipv4" ? formatIpv4(Buffer.from(r.bytes(4, fieldName))) : formatIpv6(Buffer.from(r.bytes(16, fieldName)));
}

export function decodeNat(r: BufferReader): NatAction {
  r.skip(2, "nat pad");
  const flags = r.u16("flags");
  const present = r.u16("range_present");
  const known = NAT_FLAG.SRC | NAT_FLAG.DST | NAT_FLAG.PERSISTENT | NAT_FLAG.PROTO_HASH | NAT_FLAG.PROTO_RANDOM;
  if (flags & ~known) r.fail(`nat flags 0x${flags.toString(16)} include unknown bits`);
  if (flags & NAT_FLAG.SRC && flags & NAT_FLAG.DST) r.fail("nat flags set both src and dst");
  if (flags & NAT_FLAG.PROTO_HASH && flags & NAT_FLAG.PROTO_RANDOM) r.fail("nat flags set both hash and random");

  const action: NatAction = { type: "nat", flags };
  const hasV4 = (present & (NAT_RANGE.IPV4_MIN | NAT_RANGE.IPV4_MAX)) !== 0;
  const hasV6 = (present & (NAT_RANGE.IPV6_MIN | NAT_RANGE.IPV6_MAX)) !== 0;
  if (hasV4 && hasV6) r.fail("nat range mixes IPv4 and IPv6 addresses");

  if (hasV4 || hasV6) {
    const family = hasV4 ? "ipv4" : "ipv6";
    if (!(present & (hasV4 ? NAT_RANGE.IPV4_MIN : NAT_RANGE.IPV6_MIN))) r.fail("nat range has a maximum address but no minimum");
    action.range = { family, addressMin: readAddress(r, family, "nat address min") };
    if (present & (hasV4 ? NAT_RANGE.IPV4_MAX : NAT_RANGE.IPV6_MAX)) {
      action.range.addressMax = readAddress(r, family, "nat address max");
      const parse = family === "ipv4" ? parseIpv4 : parseIpv6;
      const min = parse(action.range.addressMin);
      const max = parse(action.range.addressMax);
      if (min && max && Buffer.compare(max, min) < 0) r.fail(`nat range maximum ${action.range.addressMax} is below the minimum ${action.range.addressMin}`);
    }
  }
  if (present & NAT_RANGE.PROTO_MIN) {
    if (!action.range) r.fail("nat range has ports but no addresses");
    action.range.portMin = r.u16("nat port min");
    if (action.range.portMin === 0) r.fail("nat range minimum port is 0");
    if (present & NAT_RANGE.PROTO_MAX) {
      action.range.portMax = r.u16("nat port max");
      if (action.range.portMax < action.range.portMin) r.fail(`nat range maximum port ${action.range.portMax} is below the minimum ${action.range.portMin}`);
    }
  } else if (present & NAT_RANGE.PROTO_MAX) {
    r.fail("nat range has a maximum port but no minimum");
  }
  // Open vSwitch ignores the padding after the range, and re-encodes it as zeros.
  r.rest();
  return action;
}

// ---- format ---------------------------------------------------------------------------

function formatNatAddress(family: "ipv4" | "ipv6", address: string, bracket: boolean): string {
  return family === "ipv6" && bracket ? `[${address}]` : address;
}

export function formatNat(action: NatAction): string {
  if (!(action.flags & (NAT_FLAG.SRC | NAT_FLAG.DST))) return "nat";

  const parts: string[] = [];
  let head = action.flags & NAT_FLAG.SRC ? "src" : "dst";
  const range = action.range;
  if (range) {
    const bracket = (range.portMin ?? 0) !== 0;
    head += `=${formatNatAddress(range.family, range.addressMin, bracket)}`;
    if (range.addressMax !== undefined && range.addressMax !== range.addressMin) {
      head += `-${formatNatAddress(range.family, range.addressMax, bracket)}`;
    }
    if (range.portMin) {
      head += `:${range.portMin}`;
      if (range.portMax && range.portMax !== range.portMin) head += `-${range.portMax}`;
    }
    parts.push(head);
    if (action.flags & NAT_FLAG.PERSISTENT) parts.push("persistent");
    if (action.flags & NAT_FLAG.PROTO_HASH) parts.push("hash");
    if (action.flags & NAT_FLAG.PROTO_RANDOM) parts.push("random");
  } else {
    parts.push(head);
  }
  return `nat(${parts.join(",")})`;
}

function formatAlg(alg: number): string | undefined {
  if (alg === 0) return undefined;
  if (alg === CT_ALG.ftp) return "alg=ftp";
  if (alg === CT_ALG.tftp) return "alg=tftp";
  return `alg=${alg}`;
}

export function formatCt(action: CtAction, formatNested: FormatNested): string {
  const parts: string[] = [];
  if (action.flags & CT_FLAG.COMMIT) parts.push("commit");
  if (action.flags & CT_FLAG.FORCE) parts.push("force");
  if (action.table !== CT_NO_RECIRCULATION) parts.push(`table=${action.table}`);
  if (typeof action.zone !== "number") parts.push(`zone=${formatSubfieldText(action.zone)}`);
  else if (action.zone !== 0) parts.push(`zone=${action.zone}`);

  let rest = action.actions;
  const first = rest[0];
  if (first?.type === "nat") {
    parts.push(formatNat(first));
    rest = rest.slice(1);
  }
  if (rest.length > 0) parts.push(`exec(${formatNested(rest)})`);
  const alg = formatAlg(action.alg);
  if (alg) parts.push(alg);
  return `ct(${parts.join(",")})`;
}

// ---- parse ----------------------------------------------------------------------------

const CT_EXPECTED = "ct(commit,force,zone=N|zone=FIELD[..],table=N,alg=ftp|tftp,nat(...),exec(...))";

function parseTable(text: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) > 255) throw new ActionError("BAD_ARGUMENT", `invalid ct argument "table=${text}": unknown table ${text}, expected a table number 0 to 254`);
  const table = Number(text);
  if (table === CT_NO_RECIRCULATION) throw new ActionError("BAD_ARGUMENT", `invalid ct argument "table=${text}": invalid table 0xff, expected a table number 0 to 254`);
  return table;
}

function parseZone(text: string): number | Subfield {
  if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) {
    const zone = Number(text);
    if (zone > 0xffff) badArgument("ct", `zone=${text}`, "a 16-bit zone number or a 16-bit field range such as NXM_NX_REG0[0..15]");
    return zone;
  }
  const subfield = parseSubfieldText(text, "ct zone");
  if (subfield.nBits !== 16) badArgument("ct", `zone=${text}`, "a 16-bit field range such as NXM_NX_REG0[0..15]");
  return subfield;
}

function parseAlg(text: string): number {
  if (text === "ftp") return CT_ALG.ftp;
  if (text === "tftp") return CT_ALG.tftp;
  return badArgument("ct", `alg=${text}`, "alg=ftp or alg=tftp");
}

/** Parses the text inside ct(...). */
export function parseCt(text: string, version: OpenFlowVersion, parseNested: ParseNested): CtAction {
  const action: CtAction = { type: "ct", flags: 0, zone: 0, table: CT_NO_RECIRCULATION, alg: 0, actions: [] };
  for (const { key, value } of splitKeyValues(text)) {
    switch (key) {
      case "commit":
        action.flags |= CT_FLAG.COMMIT;
        break;
      case "force":
        action.flags |= CT_FLAG.FORCE;
        break;
      case "table":
        action.table = parseTable(value);
        break;
      case "zone":
        action.zone = parseZone(value);
        break;
      case "alg":
        action.alg = parseAlg(value);
        break;
      case "nat":
        action.actions.push(parseNat(value));
        break;
      case "exec":
        action.actions.push(...parseNested(value, version));
        break;
      default:
        badArgument("ct", key, CT_EXPECTED);
    }
  }
  const problem = ctProblem(action);
  if (problem) throw new ActionError("BAD_ARGUMENT", `invalid ct action: ${problem}`);
  return action;
}

function parsePortRange(text: string, whole: string): { portMin: number; portMax?: number } {
  const match = /^([0-9]+)(?:-([0-9]+))?$/.exec(text);
  const min = match ? Number(match[1]) : Number.NaN;
  const max = match?.[2] === undefined ? undefined : Number(match[2]);
  if (!match || min > 0xffff || (max !== undefined && (max > 0xffff || max < min))) {
    throw new ActionError("BAD_ARGUMENT", `invalid nat range "${whole}": expected ports as PORT or PORT-PORT, lowest first`);
  }
  return max === undefined ? { portMin: min } : { portMin: min, portMax: max };
}

function compareBytes(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

/** Parses `ADDR[-ADDR][:PORT[-PORT]]`, with IPv6 addresses optionally in brackets. */
function parseNatRange(text: string): NonNullable<NatAction["range"]> {
  const invalid = (): never => {
    throw new ActionError("BAD_ARGUMENT", `invalid nat range "${text}": expected ADDRESS[-ADDRESS][:PORT[-PORT]], e.g. 10.0.0.1-10.0.0.9:1000-2000 or [fd00::1]:80`);
  };
  const v4 = /^([0-9.]+)(?:-([0-9.]+))?(?::(.*))?$/.exec(text);
  const v6 = /^\[([0-9a-fA-F:.]+)\](?:-\[([0-9a-fA-F:.]+)\])?(?::(.*))?$/.exec(text) ?? /^([0-9a-fA-F:.]*:[0-9a-fA-F:.]*)(?:-([0-9a-fA-F:.]+))?()$/.exec(text);
  const match = v4 ?? v6;
  if (!match) return invalid();

  const family = v4 ? "ipv4" : "ipv6";
  const parse = family === "ipv4" ? parseIpv4 : parseIpv6;
  const format = family === "ipv4" ? formatIpv4 : formatIpv6;
  const min = parse(match[1] ?? "");
  if (!min) return invalid();
  const range: NonNullable<NatAction["range"]> = { family, addressMin: format(min) };
  if (match[2] !== undefined) {
    const max = parse(match[2]);
    if (!max || compareBytes(max, min) < 0) return invalid();
    range.addressMax = format(max);
  }
  if (match[3] !== undefined && match[3] !== "") Object.assign(range, parsePortRange(match[3], text));
  return range;
}

/** Parses the text inside nat(...) (or "" for a bare nat). */
export function parseNat(text: string): NatAction {
  const action: NatAction = { type: "nat", flags: 0 };
  for (const { key, value } of splitKeyValues(text)) {
    switch (key) {
      case "src":
      case "dst":
        action.flags |= key === "src" ? NAT_FLAG.SRC : NAT_FLAG.DST;
        if (value !== "") action.range = parseNatRange(value);
        break;
      case "persistent":
        action.flags |= NAT_FLAG.PERSISTENT;
        break;
      case "hash":
        action.flags |= NAT_FLAG.PROTO_HASH;
        break;
      case "random":
        action.flags |= NAT_FLAG.PROTO_RANDOM;
        break;
      default:
        badArgument("nat", key, "nat, nat(src) or nat(src|dst=ADDRESS[-ADDRESS][:PORT[-PORT]],persistent,hash|random)");
    }
  }
  const hasDirection = (action.flags & (NAT_FLAG.SRC | NAT_FLAG.DST)) !== 0;
  if (action.flags & NAT_FLAG.SRC && action.flags & NAT_FLAG.DST) throw new ActionError("BAD_ARGUMENT", `invalid nat action: may only specify one of "src" or "dst"`);
  if (!hasDirection && action.flags) throw new ActionError("BAD_ARGUMENT", `invalid nat action: flags are allowed only with "src" or "dst"`);
  if (action.flags & NAT_FLAG.PROTO_HASH && action.flags & NAT_FLAG.PROTO_RANDOM) throw new ActionError("BAD_ARGUMENT", `invalid nat action: "hash" and "random" are mutually exclusive`);
  return action;
}
