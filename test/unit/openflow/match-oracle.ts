// Test oracle for the match tests: runs the installed ovs-ofctl (Open vSwitch 3.1) and
// returns what it prints and encodes, so tests compare our codec with OVS, not with itself.
// The OXM splitting here is written from the OpenFlow specification, separately from the
// production reader.

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { OpenFlowVersion } from "../../../openflow/version.ts";

export const OF13 = OpenFlowVersion.OF13;
export const OF15 = OpenFlowVersion.OF15;

export function versionFlag(version: number): string {
  return version === OF13 ? "OpenFlow13" : "OpenFlow15";
}

/** Runs ovs-ofctl and returns stdout; throws with stderr when it fails. */
export function ovsOfctl(args: string[], input?: string): string {
  try {
    return execFileSync("ovs-ofctl", args, { encoding: "utf8", input: input ?? "", stdio: ["pipe", "pipe", "pipe"] });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`ovs-ofctl ${args.join(" ")} failed: ${stderr.trim()}`, { cause: error });
  }
}

/** Collects the bytes of a hex dump block ("00000000  04 0e 00 40 ...-... |....|"). */
function hexDumpBytes(lines: string[]): Buffer {
  const hex = lines
    .map((line) => (line.slice(10).split("|")[0] ?? "").replace(/[\s-]/g, ""))
    .join("");
  return Buffer.from(hex, "hex");
}

function isHexDumpLine(line: string): boolean {
  return /^[0-9a-f]{8} {2}/.test(line);
}

/** One message printed by `ovs-ofctl -mmmmm`: its one-line text and its bytes. */
export interface PrintedMessage {
  text: string;
  bytes: Buffer;
}

/** Splits -mmmmm output into messages: a text line followed by its hex dump. */
export function splitPrintedMessages(output: string): PrintedMessage[] {
  const messages: PrintedMessage[] = [];
  let current: { text: string; dump: string[] } | undefined;
  for (const line of output.split("\n")) {
    if (isHexDumpLine(line)) {
      current?.dump.push(line);
      continue;
    }
    if (line.startsWith("usable protocols") || line.startsWith("chosen protocol") || line.trim() === "") continue;
    if (current) messages.push({ text: current.text, bytes: hexDumpBytes(current.dump) });
    current = { text: line, dump: [] };
  }
  if (current) messages.push({ text: current.text, bytes: hexDumpBytes(current.dump) });
  return messages;
}

/** Runs `ovs-ofctl -O VERSION -mmmmm parse-flows FILE` on many flows at once. */
export function parseFlowsWithOvs(flows: readonly string[], version: number): PrintedMessage[] {
  const folder = mkdtempSync(join(tmpdir(), "match-oracle-"));
  try {
    const file = join(folder, "flows.txt");
    writeFileSync(file, flows.map((flow) => `${flow}\n`).join(""));
    const messages = splitPrintedMessages(ovsOfctl(["-O", versionFlag(version), "-mmmmm", "parse-flows", file]));
    if (messages.length !== flows.length) {
      throw new Error(`ovs-ofctl printed ${messages.length} flow_mods for ${flows.length} flows`);
    }
    return messages;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Runs `ovs-ofctl -m parse-oxm VERSION` on one match per line. */
export function parseOxmWithOvs(lines: readonly string[], version: number): PrintedMessage[] {
  const output = ovsOfctl(["-m", "parse-oxm", versionFlag(version)], lines.map((line) => `${line}\n`).join(""));
  return splitPrintedMessages(output);
}

/** Offset of ofp_match in an OpenFlow 1.3 or 1.5 flow_mod (fixed fields are 48 bytes). */
export const FLOW_MOD_MATCH_OFFSET = 48;

/** Returns the padded ofp_match of a flow_mod. */
export function flowModMatchBytes(flowMod: Buffer): Buffer {
  const length = flowMod.readUInt16BE(FLOW_MOD_MATCH_OFFSET + 2);
  const padded = Math.ceil(length / 8) * 8;
  return flowMod.subarray(FLOW_MOD_MATCH_OFFSET, FLOW_MOD_MATCH_OFFSET + padded);
}

/**
 * Splits the OXM fields of an ofp_match into hex strings, one per field (header, experimenter
 * id, value and mask), using only the header's length byte.
 */
export function oxmFieldsHex(match: Buffer): string[] {
  const length = match.readUInt16BE(2);
  const fields: string[] = [];
  let offset = 4;
  while (offset < length) {
    const fieldLength = 4 + (match.readUInt32BE(offset) & 0xff);
    fields.push(match.subarray(offset, offset + fieldLength).toString("hex"));
    offset += fieldLength;
  }
  return fields;
}

/** Returns the match text of a printed flow_mod ("ADD priority=5,ip actions=drop" gives "priority=5,ip"). */
export function printedMatchText(text: string): string {
  const afterCommand = text.replace(/^.*?\): (ADD|MOD|MOD_STRICT|DEL|DEL_STRICT) /, "");
  const actions = afterCommand.indexOf("actions=");
  const body = actions === -1 ? afterCommand : afterCommand.slice(0, actions);
  return body.trim();
}
