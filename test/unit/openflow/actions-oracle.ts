// Test support for the action codec: OVS 3.1's tests/ofp-actions.at vectors (extracted at
// test time from the OVS source tarball) and ovs-ofctl as a differential oracle. Nothing here
// uses the code under test to compute an expected value.

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const OVS_SOURCE_TARBALL = "/usr/src/openvswitch/openvswitch.tar.gz";

/** One vector of an ofp-actions.at section. */
export interface AtVector {
  /** The action (or instruction) bytes. */
  bytes: Buffer;
  /** Expected `actions=` text, or undefined when OVS rejects the bytes. */
  text?: string;
  /** Expected error name (e.g. OFPBAC_BAD_SET_TYPE) when OVS rejects the bytes. */
  error?: string;
  /** Bytes OVS produces when it re-encodes what it decoded (input with the listed diffs applied). */
  reencoded: Buffer;
}

/** Extracts tests/ofp-actions.at from the OVS source tarball and returns its text. */
export function readOfpActionsAt(): string {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-ofp-actions-"));
  try {
    execFileSync("tar", ["-xzf", OVS_SOURCE_TARBALL, "-C", dir, "--wildcards", "*/tests/ofp-actions.at"], { stdio: "pipe" });
    const found = execFileSync("find", [dir, "-name", "ofp-actions.at"], { encoding: "utf8" }).trim().split("\n")[0];
    if (!found) throw new Error(`tests/ofp-actions.at not found in ${OVS_SOURCE_TARBALL}`);
    return readFileSync(found, "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Returns the AT_DATA([test-data], ...) body of the section titled `title`. */
export function sectionData(at: string, title: string): string {
  const start = at.indexOf(`AT_SETUP([${title}])`);
  if (start === -1) throw new Error(`section "${title}" not found in ofp-actions.at`);
  const dataStart = at.indexOf("AT_DATA([test-data], [dnl\n", start);
  const dataEnd = at.indexOf("\n])\n", dataStart);
  if (dataStart === -1 || dataEnd === -1) throw new Error(`section "${title}" has no test-data block`);
  return at.slice(dataStart + "AT_DATA([test-data], [dnl\n".length, dataEnd);
}

interface Diff {
  offset: number;
  to: number | undefined;
  from: number | undefined;
}

const DIFF_LINE = /^\s*(\d+): ([0-9a-f]{2}|\(none\)) -> ([0-9a-f]{2}|\(none\))$/;

function parseDiff(line: string): Diff | undefined {
  const match = DIFF_LINE.exec(line);
  if (!match) return undefined;
  const byte = (text: string | undefined): number | undefined => (text === undefined || text === "(none)" ? undefined : parseInt(text, 16));
  return { offset: Number(match[1]), from: byte(match[2]), to: byte(match[3]) };
}

/** Applies ovs-ofctl's re-encoding differences ("N: aa -> bb", "(none)" for absent) to `bytes`. */
export function applyDiffs(bytes: Buffer, diffs: readonly Diff[]): Buffer {
  const out = [...bytes];
  for (const diff of diffs) {
    if (diff.to === undefined) continue;
    out[diff.offset] = diff.to;
  }
  const removed = diffs.filter((diff) => diff.to === undefined).map((diff) => diff.offset);
  const length = removed.length === 0 ? out.length : Math.min(...removed);
  return Buffer.from(out.slice(0, length));
}

function hexToBuffer(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ""), "hex");
}

/** Parses a test-data block into vectors (comments, stderr lines and dnl continuations handled). */
export function parseVectors(data: string): AtVector[] {
  const joined = data.replace(/ dnl\n/g, " ");
  const vectors: AtVector[] = [];
  for (const block of joined.split(/\n\s*\n/)) {
    const lines = block.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("dnl") && !line.startsWith("&"));
    let text: string | undefined;
    let error: string | undefined;
    const diffs: Diff[] = [];
    const hex: string[] = [];
    for (const line of lines) {
      if (line.startsWith("# ")) {
        const body = line.slice(2);
        const diff = parseDiff(body);
        if (diff) diffs.push(diff);
        else if (body.startsWith("actions=")) text = body.slice("actions=".length);
        else if (body.startsWith("bad ")) error = body.replace(/^bad \S+ (actions|instructions): /, "");
      } else {
        hex.push(line);
      }
    }
    if (hex.length === 0) continue;
    const bytes = hexToBuffer(hex.join(" "));
    vectors.push({ bytes, ...(text === undefined ? {} : { text }), ...(error === undefined ? {} : { error }), reencoded: applyDiffs(bytes, diffs) });
  }
  return vectors;
}

/** Result of ovs-ofctl parse-actions for one input. */
export interface OvsDecoded {
  text?: string;
  error?: string;
  reencoded: Buffer;
}

/**
 * Runs `ovs-ofctl parse-actions|parse-instructions VERSION` on several hex inputs at once
 * and returns, per input, the printed text or error and the re-encoded bytes.
 */
export function ovsParseBytes(inputs: readonly Buffer[], options: { version: "OpenFlow13" | "OpenFlow15"; instructions?: boolean }): OvsDecoded[] {
  const command = options.instructions ? "parse-instructions" : "parse-actions";
  const stdin = inputs.map((bytes) => bytes.toString("hex")).join("\n\n") + "\n";
  const stdout = execFileSync("ovs-ofctl", [command, options.version], { input: stdin, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
  const blocks = stdout.split(/\n\n/).filter((block) => block.trim() !== "");
  if (blocks.length !== inputs.length) throw new Error(`ovs-ofctl ${command} printed ${blocks.length} results for ${inputs.length} inputs`);
  return blocks.map((block, index) => {
    const lines = block.split("\n").filter((line) => line !== "");
    const diffs = lines.map(parseDiff).filter((diff): diff is Diff => diff !== undefined);
    const first = lines[0] ?? "";
    const input = inputs[index] ?? Buffer.alloc(0);
    if (first.startsWith("actions=")) return { text: first.slice("actions=".length), reencoded: applyDiffs(input, diffs) };
    return { error: first.replace(/^bad \S+ (actions|instructions): /, ""), reencoded: Buffer.alloc(0) };
  });
}

/** What ovs-ofctl parse-flow produced for one flow text. */
export interface OvsFlow {
  /** The "actions=" value ovs-ofctl printed for the encoded FLOW_MOD. */
  text: string;
  /** The FLOW_MOD's instruction bytes. */
  instructions: Buffer;
}

/** Reads the hex dump lines ovs-ofctl -mmmmm prints ("00000000  04 0e ...|...|"). */
function hexDump(lines: readonly string[]): Buffer {
  const bytes: string[] = [];
  for (const line of lines) {
    const match = /^[0-9a-f]{8} {2}([0-9a-f -]+?)\s*\|/.exec(line);
    if (match?.[1]) bytes.push(match[1].replace(/-/g, " "));
  }
  return hexToBuffer(bytes.join(" "));
}

/**
 * Runs `ovs-ofctl -O VERSION -mmmmm parse-flow FLOW` and returns the printed actions and the
 * FLOW_MOD's instruction bytes (after the 48-byte fixed part and the 8-byte padded match).
 */
export function ovsParseFlow(flow: string, version: "OpenFlow13" | "OpenFlow15"): OvsFlow {
  const stdout = execFileSync("ovs-ofctl", ["-O", version, "-mmmmm", "parse-flow", flow], { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
  const lines = stdout.split("\n");
  const header = lines.find((line) => line.startsWith("OFPT_FLOW_MOD"));
  if (!header) throw new Error(`ovs-ofctl parse-flow printed no FLOW_MOD for "${flow}":\n${stdout}`);
  const text = / actions=(.*)$/.exec(header)?.[1];
  if (text === undefined) throw new Error(`ovs-ofctl printed no actions for "${flow}": ${header}`);
  const message = hexDump(lines);
  const matchLength = message.readUInt16BE(50);
  const instructionsStart = 48 + Math.ceil(matchLength / 8) * 8;
  return { text, instructions: message.subarray(instructionsStart) };
}

/** Runs ovs-ofctl parse-flow and returns its error message (stderr), or undefined if it succeeded. */
export function ovsParseFlowError(flow: string, version: "OpenFlow13" | "OpenFlow15"): string | undefined {
  try {
    execFileSync("ovs-ofctl", ["-O", version, "parse-flow", flow], { encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    return stderr.replace(/^ovs-ofctl: /, "").trim();
  }
}
