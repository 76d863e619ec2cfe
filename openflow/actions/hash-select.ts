// Hash-based selection actions. multipath (NXAST_MULTIPATH, 32 bytes) stores a link number
// chosen from a packet hash in a field. bundle (NXAST_BUNDLE) outputs to one of several
// ports, and bundle_load (NXAST_BUNDLE_LOAD) stores that port in a field. Bundle members
// follow the 32-byte header as 16-bit ports, padded to 8 bytes.

import type { BufferReader } from "../wire/reader.ts";
import type { BufferWriter } from "../wire/writer.ts";
import { NXAST } from "./constants.ts";
import { ActionError, badArgument } from "./errors.ts";
import { formatSubfieldText, parseSubfieldText, resolveFieldHeader32 } from "./field-refs.ts";
import { beginNiciraAction, expectZeros, finishAction } from "./frame.ts";
import { formatPort, parsePort } from "./ports.ts";
import type { BundleAction, MultipathAction, Subfield } from "./types.ts";
import type { PortNameMap } from "../match/fields.ts";

/** Packet fields hashed by multipath and bundle (NX_HASH_FIELDS_*), by wire number. */
const HASH_FIELDS = ["eth_src", "symmetric_l4", "symmetric_l3l4", "symmetric_l3l4+udp", "nw_src", "nw_dst", "symmetric_l3"] as const;

/** Multipath link selection algorithms (NX_MP_ALG_*), by wire number. */
const MULTIPATH_ALGORITHMS = ["modulo_n", "hash_threshold", "hrw", "iter_hash"] as const;

/** Bundle member selection algorithms (NX_BD_ALG_*), by wire number. */
const BUNDLE_ALGORITHMS = ["active_backup", "hrw"] as const;

/** NXM_OF_IN_PORT, the only member type bundle supports. */
const MEMBER_TYPE_IN_PORT = 0x00000002;

const MAX_BUNDLE_MEMBERS = 2048;

function ofsNbits(subfield: Subfield): number {
  return (subfield.offset << 6) | (subfield.nBits - 1);
}

function subfieldFrom(r: BufferReader, encoded: number, header: number): Subfield {
  const field = resolveFieldHeader32(r, header);
  const subfield = { field, offset: encoded >> 6, nBits: (encoded & 0x3f) + 1 };
  if (subfield.offset + subfield.nBits > field.bits) r.fail(`destination exceeds the ${field.bits}-bit field ${field.name}`);
  return subfield;
}

function nameOf(names: readonly string[], value: number): string {
  return names[value] ?? "<unknown>";
}

function indexOf(names: readonly string[], text: string, action: string, argumentName: string, whole: string): number {
  const index = names.indexOf(text.toLowerCase());
  if (index === -1) throw new ActionError("BAD_ARGUMENT", `invalid ${action} argument "${whole}": unknown ${argumentName} "${text}", expected one of ${names.join(", ")}`);
  return index;
}

// ---- multipath --------------------------------------------------------------------------

export function encodeMultipath(w: BufferWriter, action: MultipathAction): void {
  const frame = beginNiciraAction(w, NXAST.MULTIPATH);
  w.u16(action.fields).u16(action.basis).zeros(2);
  w.u16(action.algorithm).u16(action.maxLink).u32(action.argument).zeros(2);
  w.u16(ofsNbits(action.destination)).u32(action.destination.field.header);
  finishAction(w, frame);
}

export function decodeMultipath(r: BufferReader): MultipathAction {
  const fields = r.u16("fields");
  const basis = r.u16("basis");
  r.skip(2, "pad");
  const algorithm = r.u16("algorithm");
  const maxLink = r.u16("max_link");
  const argument = r.u32("arg");
  r.skip(2, "pad");
  const encoded = r.u16("ofs_nbits");
  const destination = subfieldFrom(r, encoded, r.u32("dst"));
  if (fields >= HASH_FIELDS.length) r.fail(`multipath hash fields ${fields} are not supported`);
  if (algorithm >= MULTIPATH_ALGORITHMS.length) r.fail(`multipath algorithm ${algorithm} is not supported`);
  if (destination.nBits < 32 && maxLink + 1 > 2 ** destination.nBits) r.fail(`multipath destination of ${destination.nBits} bits cannot hold ${maxLink + 1} links`);
  return { type: "multipath", fields, basis, algorithm, maxLink, argument, destination };
}

export function formatMultipath(action: MultipathAction): string {
  const fields = nameOf(HASH_FIELDS, action.fields);
  const algorithm = nameOf(MULTIPATH_ALGORITHMS, action.algorithm);
  return `multipath(${fields},${action.basis},${algorithm},${action.maxLink + 1},${action.argument},${formatSubfieldText(action.destination)})`;
}

/** Parses `FIELDS,BASIS,ALGORITHM,N_LINKS,ARG,DST[..]`. */
export function parseMultipath(text: string): MultipathAction {
  const parts = text.split(/[, ]+/).filter((part) => part !== "");
  const [fieldsText, basisText, algorithmText, linksText, argumentText, destinationText] = parts;
  if (destinationText === undefined) badArgument("multipath", text, "multipath(FIELDS,BASIS,ALGORITHM,N_LINKS,ARG,DST[..]) with 6 arguments");
  const fields = indexOf(HASH_FIELDS, fieldsText ?? "", "multipath", "fields", text);
  const algorithm = indexOf(MULTIPATH_ALGORITHMS, algorithmText ?? "", "multipath", "algorithm", text);
  const links = Number(linksText);
  if (!Number.isInteger(links) || links < 1 || links > 65536) badArgument("multipath", text, `n_links in the range 1 to 65536, not ${linksText}`);
  const basis = Number(basisText);
  const argument = Number(argumentText);
  if (!Number.isInteger(basis) || basis < 0 || basis > 0xffff) badArgument("multipath", text, "a 16-bit basis");
  if (!Number.isInteger(argument) || argument < 0 || argument > 0xffffffff) badArgument("multipath", text, "a 32-bit algorithm argument");
  const destination = parseSubfieldText(destinationText, "multipath");
  if (destination.nBits < 16 && links > 2 ** destination.nBits) {
    badArgument("multipath", text, `a destination wider than ${destination.nBits} bits, which has only ${2 ** destination.nBits} values for ${links} links`);
  }
  return { type: "multipath", fields, basis, algorithm, maxLink: links - 1, argument, destination };
}

// ---- bundle ---------------------------------------------------------------------------

export function encodeBundle(w: BufferWriter, action: BundleAction): void {
  const frame = beginNiciraAction(w, action.destination ? NXAST.BUNDLE_LOAD : NXAST.BUNDLE);
  w.u16(action.algorithm).u16(action.fields).u16(action.basis);
  w.u32(MEMBER_TYPE_IN_PORT).u16(action.members.length);
  if (action.destination) w.u16(ofsNbits(action.destination)).u32(action.destination.field.header);
  else w.zeros(6);
  w.zeros(4);
  for (const member of action.members) w.u16(member);
  finishAction(w, frame);
}

export function decodeBundle(r: BufferReader, isLoad: boolean): BundleAction {
  const algorithm = r.u16("algorithm");
  const fields = r.u16("fields");
  const basis = r.u16("basis");
  const memberType = r.u32("member_type");
  const count = r.u16("n_members");
  const encoded = r.u16("ofs_nbits");
  const header = r.u32("dst");
  expectZeros(r, 4, "bundle zero");
  if (fields >= HASH_FIELDS.length) r.fail(`bundle hash fields ${fields} are not supported`);
  if (algorithm >= BUNDLE_ALGORITHMS.length) r.fail(`bundle algorithm ${algorithm} is not supported`);
  if (memberType !== MEMBER_TYPE_IN_PORT) r.fail(`bundle member type 0x${memberType.toString(16)} is not NXM_OF_IN_PORT`);
  if (count > MAX_BUNDLE_MEMBERS) r.fail(`bundle lists ${count} members, more than ${MAX_BUNDLE_MEMBERS}`);
  if (!isLoad && (encoded !== 0 || header !== 0)) r.fail("bundle has nonzero destination fields");
  if (r.remaining < count * 2) r.fail(`bundle lists ${count} members but has room for ${Math.floor(r.remaining / 2)}`);

  const members: number[] = [];
  for (let i = 0; i < count; i++) members.push(r.u16("member"));
  expectZeros(r, r.remaining, "bundle padding");

  const action: BundleAction = { type: "bundle", fields, basis, algorithm, members };
  if (isLoad) {
    action.destination = subfieldFrom(r, encoded, header);
    if (action.destination.nBits < 16) r.fail("bundle_load needs a destination of at least 16 bits");
  }
  return action;
}

export function formatBundle(action: BundleAction, portNames?: PortNameMap): string {
  const name = action.destination ? "bundle_load" : "bundle";
  const destination = action.destination ? `${formatSubfieldText(action.destination)},` : "";
  const members = action.members.map((member) => formatPort(member, portNames)).join(",");
  return `${name}(${nameOf(HASH_FIELDS, action.fields)},${action.basis},${nameOf(BUNDLE_ALGORITHMS, action.algorithm)},ofport,${destination}members:${members})`;
}

/** Parses `FIELDS,BASIS,ALGORITHM,ofport,[DST[..],]members:PORT,...`. */
export function parseBundle(text: string, options: { isLoad: boolean; portNames?: PortNameMap | undefined }): BundleAction {
  const { isLoad } = options;
  const action = isLoad ? "bundle_load" : "bundle";
  const expected = `${action}(FIELDS,BASIS,ALGORITHM,ofport,${isLoad ? "DST[..]," : ""}members:PORT,PORT...)`;
  const parts = text.split(/[, ]+/).filter((part) => part !== "");
  const head = parts.slice(0, isLoad ? 5 : 4);
  const membersStart = parts[head.length];
  if (membersStart === undefined) badArgument(action, text, `${expected}: not enough arguments`);
  const [delimiter, firstMember = ""] = membersStart.split(":");
  if (delimiter?.toLowerCase() !== "members" && delimiter?.toLowerCase() !== "slaves") badArgument(action, text, `${expected}: missing member delimiter "members:"`);

  const [fieldsText = "", basisText = "", algorithmText = "", memberType = "", destinationText] = head;
  const fields = indexOf(HASH_FIELDS, fieldsText, action, "fields", text);
  const algorithm = indexOf(BUNDLE_ALGORITHMS, algorithmText, action, "algorithm", text);
  if (memberType.toLowerCase() !== "ofport") badArgument(action, text, `${expected}: unknown member_type "${memberType}"`);
  const basis = Number(basisText);
  if (!Number.isInteger(basis) || basis < 0 || basis > 0xffff) badArgument(action, text, `${expected} with a 16-bit basis`);

  const members = [firstMember, ...parts.slice(head.length + 1)]
    .map((part) => part.replace(/[[\]]/g, ""))
    .filter((part) => part !== "")
    .map((part) => {
      const port = parsePort(part, options.portNames);
      if (port === undefined) badArgument(action, part, "a port number (bad port number)");
      return port;
    });

  const bundle: BundleAction = { type: "bundle", fields, basis, algorithm, members };
  if (isLoad) bundle.destination = parseSubfieldText(destinationText ?? "", action);
  return bundle;
}
