// The lab state file (LAB_DIR/state.json): everything a lab created or is about to create.
// `up` writes it before it creates each group of resources and again after each daemon
// starts, so `down` can remove a lab whose `up` crashed halfway.
import { readFile, readdir, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";

import type { SegmentName } from "./names.ts";
import { LabError, LabErrorCode } from "./errors.ts";

/** Folder holding one subfolder per lab when neither an option nor SWITCHYARD_LAB_DIR sets one. */
export const defaultStateRoot = "/var/run/switchyard-lab";

export const stateFileName = "state.json";
export const stateVersion = 1;

/**
 * "creating": `up` is running or crashed. "ready": `up` finished. "failed": `up` raised an
 * error and left the resources for inspection.
 */
export type LabPhase = "creating" | "ready" | "failed";

export interface SegmentState {
  name: SegmentName;
  cidr: string;
  prefixLength: number;
  /** Router address on this segment (two subnets only). */
  gateway?: string;
  /** Linux bridge in the underlay namespace. */
  bridge: string;
}

export interface NodeState {
  /** "node1" ... */
  name: string;
  index: number;
  netns: string;
  segment: SegmentName;
  underlayIp: string;
  underlayPrefixLength: number;
  /** Router address on the node's segment (two subnets only). */
  gateway?: string;
  /** MAC address of the node's br-phy internal port. */
  mac: string;
  /** Folder of the node's OVS instance. */
  ovsDir: string;
  /** Daemon PIDs, recorded as soon as each daemon wrote its pid file. */
  pids: { ovsdbServer?: number; vswitchd?: number };
}

export interface LabState {
  version: typeof stateVersion;
  name: string;
  phase: LabPhase;
  /** PID of the process that ran `up`. */
  upPid: number;
  /** ISO 8601 time `up` started. */
  createdAt: string;
  subnets: 1 | 2;
  /** The address block all segments come from. */
  block: string;
  segments: SegmentState[];
  /** Namespace holding the segment bridges. */
  underlayNetns: string;
  router?: { netns: string };
  outside: { netns: string; ip: string; segment: SegmentName };
  nodes: NodeState[];
}

/**
 * Returns the absolute folder that contains the lab folders: `stateDir`, else
 * $SWITCHYARD_LAB_DIR, else /var/run/switchyard-lab. Absolute because the OVS daemons
 * change their working folder to / when they detach.
 */
export function resolveStateRoot(stateDir: string | undefined): string {
  const fromEnv = process.env.SWITCHYARD_LAB_DIR;
  return resolve(stateDir ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : defaultStateRoot));
}

/** Lists every namespace a lab state names, in creation order. */
export function stateNamespaces(state: LabState): string[] {
  return [
    state.underlayNetns,
    ...(state.router === undefined ? [] : [state.router.netns]),
    state.outside.netns,
    ...state.nodes.map((node) => node.netns),
  ];
}

/**
 * Writes `state` to `path` atomically (a temporary file renamed over the old one), so
 * neither a reader nor a crash finds half a file. Not safe for two concurrent writers.
 */
export async function writeLabState(path: string, state: LabState): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  await rename(temporary, path);
}

/** Reads and validates a state file; returns undefined when it does not exist. */
export async function readLabState(path: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return parseLabState(text, path);
}

/** Reads the state of every lab under `root`, skipping folders without a valid state file. */
export async function listLabStates(root: string): Promise<LabState[]> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const states: LabState[] = [];
  for (const entry of entries) {
    try {
      const state = await readLabState(join(root, entry, stateFileName));
      if (state !== undefined) states.push(state);
    } catch {
      // A broken state file of another lab must not stop this one; `status` reports it.
    }
  }
  return states;
}

/** Parses state-file text; raises STATE_INVALID naming `source` and the bad field. */
export function parseLabState(text: string, source: string): LabState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LabError(LabErrorCode.StateInvalid, `state file ${source} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const reader: FieldReader = new FieldReader(source);
  const root = reader.object(value, "");

  const version = reader.number(root, "version");
  if (version !== stateVersion) {
    reader.fail("version", `is ${version}, this program reads version ${stateVersion}`);
  }
  const subnets = reader.number(root, "subnets");
  if (subnets !== 1 && subnets !== 2) reader.fail("subnets", `is ${subnets}, expected 1 or 2`);
  const phase = reader.string(root, "phase");
  if (phase !== "creating" && phase !== "ready" && phase !== "failed") {
    reader.fail("phase", `is ${JSON.stringify(phase)}, expected creating, ready or failed`);
  }

  const routerValue = root.router;
  const outside = reader.object(root.outside, "outside");
  const segments = reader.array(root, "segments").map((item, i) => parseSegment(reader, item, `segments[${i}]`));
  const nodes = reader.array(root, "nodes").map((item, i) => parseNode(reader, item, `nodes[${i}]`));
  nodes.forEach((node, i) => {
    if (!segments.some((segment) => segment.name === node.segment)) reader.fail(`nodes[${i}].segment`, `is "${node.segment}", which no segment has`);
  });
  return {
    version: stateVersion,
    name: reader.string(root, "name"),
    phase,
    upPid: reader.number(root, "upPid"),
    createdAt: reader.string(root, "createdAt"),
    subnets,
    block: reader.string(root, "block"),
    segments,
    underlayNetns: reader.string(root, "underlayNetns"),
    router: routerValue === undefined ? undefined : { netns: reader.string(reader.object(routerValue, "router"), "netns", "router") },
    outside: {
      netns: reader.string(outside, "netns", "outside"),
      ip: reader.string(outside, "ip", "outside"),
      segment: reader.segment(outside, "segment", "outside"),
    },
    nodes,
  };
}

function parseSegment(reader: FieldReader, value: unknown, at: string): SegmentState {
  const object = reader.object(value, at);
  return {
    name: reader.segment(object, "name", at),
    cidr: reader.string(object, "cidr", at),
    prefixLength: reader.number(object, "prefixLength", at),
    gateway: reader.optionalString(object, "gateway", at),
    bridge: reader.string(object, "bridge", at),
  };
}

function parseNode(reader: FieldReader, value: unknown, at: string): NodeState {
  const object = reader.object(value, at);
  const pids = reader.object(object.pids, `${at}.pids`);
  return {
    name: reader.string(object, "name", at),
    index: reader.number(object, "index", at),
    netns: reader.string(object, "netns", at),
    segment: reader.segment(object, "segment", at),
    underlayIp: reader.string(object, "underlayIp", at),
    underlayPrefixLength: reader.number(object, "underlayPrefixLength", at),
    gateway: reader.optionalString(object, "gateway", at),
    mac: reader.string(object, "mac", at),
    ovsDir: reader.string(object, "ovsDir", at),
    pids: {
      ovsdbServer: reader.optionalNumber(pids, "ovsdbServer", `${at}.pids`),
      vswitchd: reader.optionalNumber(pids, "vswitchd", `${at}.pids`),
    },
  };
}

/** Typed access to parsed JSON; every failure names the file and the field path. */
class FieldReader {
  readonly source: string;

  constructor(source: string) {
    this.source = source;
  }

  fail(path: string, problem: string): never {
    throw new LabError(
      LabErrorCode.StateInvalid,
      `state file ${this.source}: field ${path || "(root)"} ${problem}; if the lab is gone, delete the file's folder`,
    );
  }

  object(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) this.fail(path, "is missing or not an object");
    return value as Record<string, unknown>;
  }

  array(object: Record<string, unknown>, key: string, at = ""): unknown[] {
    const value = object[key];
    if (!Array.isArray(value)) this.fail(fieldPath(at, key), "is missing or not an array");
    return value;
  }

  string(object: Record<string, unknown>, key: string, at = ""): string {
    const value = object[key];
    if (typeof value !== "string") this.fail(fieldPath(at, key), "is missing or not a string");
    return value;
  }

  optionalString(object: Record<string, unknown>, key: string, at = ""): string | undefined {
    return object[key] === undefined ? undefined : this.string(object, key, at);
  }

  number(object: Record<string, unknown>, key: string, at = ""): number {
    const value = object[key];
    if (typeof value !== "number" || !Number.isFinite(value)) this.fail(fieldPath(at, key), "is missing or not a number");
    return value;
  }

  optionalNumber(object: Record<string, unknown>, key: string, at = ""): number | undefined {
    return object[key] === undefined ? undefined : this.number(object, key, at);
  }

  segment(object: Record<string, unknown>, key: string, at = ""): SegmentName {
    const value = this.string(object, key, at);
    if (value !== "a" && value !== "b") this.fail(fieldPath(at, key), `is ${JSON.stringify(value)}, expected "a" or "b"`);
    return value;
  }
}

function fieldPath(at: string, key: string): string {
  return at === "" ? key : `${at}.${key}`;
}
