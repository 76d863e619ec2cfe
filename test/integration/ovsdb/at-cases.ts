// Reads the OVSDB test cases of Open vSwitch's own test suite (tests/*.at in the OVS
// source tarball). The files are autotest/m4: each case is a macro call whose arguments
// are quoted with [ and ], so the reader splits arguments and removes quote levels the
// way m4 does, without running m4.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

export const OVS_SOURCE_TARBALL = "/usr/src/openvswitch/openvswitch.tar.gz";

/** Extracts `tests/NAME` from the OVS source tarball into a temporary folder and returns its text, or undefined without the tarball. */
export async function readOvsTestFile(name: string): Promise<string | undefined> {
  if (!existsSync(OVS_SOURCE_TARBALL)) {
    return undefined;
  }
  const dir = await mkdtemp(join(tmpdir(), "syd-ovs-tests-"));
  try {
    await promisify(execFile)("tar", ["-xzf", OVS_SOURCE_TARBALL, "-C", dir, "--wildcards", `*/tests/${name}`]);
    const { stdout } = await promisify(execFile)("find", [dir, "-name", name]);
    return await readFile(stdout.trim().split("\n")[0] as string, "utf8");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Returns the schemas defined by shell functions `NAME () { cat <<'EOF' ... EOF }`. */
export function readSchemaFunctions(text: string): Map<string, string> {
  const schemas = new Map<string, string>();
  for (const match of text.matchAll(/^(\w+) \(\) \{\n\s*cat <<\s*'EOF'\n([\s\S]*?)\nEOF\n\}/gm)) {
    schemas.set(match[1] as string, match[2] as string);
  }
  return schemas;
}

/** Removes `dnl` comments (m4 deletes them up to and including the newline) and whole-line `#` comments. */
function removeComments(text: string): string {
  return text.replace(/^#[^\n]*\n/gm, "").replace(/(?<=^|[\s[\]])dnl\b[^\n]*\n/gm, "");
}

/** Returns the raw (still quoted) arguments of every call `NAME(...)` in `text`. */
export function findMacroCalls(text: string, name: string): string[][] {
  const source = removeComments(text);
  const calls: string[][] = [];
  const pattern = new RegExp(`(?<!\\w)${name}\\(`, "g");
  for (const match of source.matchAll(pattern)) {
    calls.push(splitArguments(source, (match.index ?? 0) + match[0].length));
  }
  return calls;
}

function splitArguments(text: string, start: number): string[] {
  const args: string[] = [];
  let quoteDepth = 0;
  let parenDepth = 0;
  let current = "";
  for (let i = start; i < text.length; i++) {
    const char = text[i] as string;
    if (char === "[") quoteDepth++;
    else if (char === "]") quoteDepth--;
    else if (quoteDepth === 0 && char === "(") parenDepth++;
    else if (quoteDepth === 0 && char === ")") {
      if (parenDepth === 0) {
        args.push(current.trimStart());
        return args;
      }
      parenDepth--;
    } else if (quoteDepth === 0 && parenDepth === 0 && char === ",") {
      args.push(current.trimStart());
      current = "";
      continue;
    }
    current += char;
  }
  throw new Error(`unterminated macro call at offset ${start}`);
}

/** Removes one level of m4 quoting: the outermost [ and ] of each quoted part. */
export function unquote(text: string): string {
  let depth = 0;
  let out = "";
  for (const char of text) {
    if (char === "[") {
      if (depth > 0) out += char;
      depth++;
    } else if (char === "]") {
      depth--;
      if (depth > 0) out += char;
    } else {
      out += char;
    }
  }
  return out;
}

/** Splits an m4 list "[a], [b]" at top-level commas, keeping each item quoted. */
export function splitList(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of text) {
    if (char === "[") depth++;
    if (char === "]") depth--;
    if (char === "," && depth === 0) {
      items.push(current.trim());
      current = "";
    } else {
      current += char;
    }
  }
  if (current.trim() !== "") items.push(current.trim());
  return items;
}

/**
 * Replaces UUIDs with markers <0>, <1>, ... in order of first appearance, leaving UUIDs
 * that start with ffffffff (which the OVS tests choose on purpose), then sorts sets of
 * markers, as OVS's test filter does, so outputs compare regardless of UUID values.
 */
export function normaliseUuids(text: string): string {
  const markers = new Map<string, number>();
  const uuidPattern = /[0-9a-fA-F]{8}(?<!ffffffff)-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g;
  const replaced = text.replace(uuidPattern, (uuid) => {
    let marker = markers.get(uuid);
    if (marker === undefined) {
      marker = markers.size;
      markers.set(uuid, marker);
    }
    return `<${marker}>`;
  });
  return replaced.replace(/\["set",\[(,?\["uuid","<\d+>"\])+\]\]/g, (set) => {
    const numbers = [...set.matchAll(/<(\d+)>/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
    return `["set",[${numbers.map((n) => `["uuid","<${n}>"]`).join(",")}]]`;
  });
}

/** Serialises JSON compactly with object keys sorted, the form OVS's test programs print. */
export function sortedJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(sortedJson).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${sortedJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
