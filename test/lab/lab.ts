// Brings a lab up, takes it down, and reads its state and health. A lab is N simulated
// nodes (network namespaces with their own OVS instance) joined by an underlay.
import { mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";

import { deriveUnderlayBlock, macFromIpv4, planAddresses } from "./addressing.ts";
import type { AddressPlan } from "./addressing.ts";
import { LabError, LabErrorCode } from "./errors.ts";
import { labFromState } from "./model.ts";
import type { Lab } from "./model.ts";
import {
  defaultLabName,
  labInterfaces,
  labNetns,
  nodeName,
  validateLabName,
  validateNodeCount,
  validateSubnetCount,
} from "./names.ts";
import {
  buildUnderlay,
  configureNodeBridge,
  configureOutside,
  configureRouter,
  createNamespaces,
  deleteNamespaces,
  listNetns,
  prepareNodeUplink,
} from "./network.ts";
import { checkOvsDirLength, startOvs, stopOvs } from "./ovs.ts";
import { checkPreconditions } from "./preconditions.ts";
import { listLabStates, readLabState, resolveStateRoot, stateFileName, stateNamespaces, stateVersion, writeLabState } from "./state.ts";
import type { LabState, NodeState } from "./state.ts";

export interface LabLocation {
  /** Lab name; default "lab". */
  name?: string;
  /** Folder holding lab folders; default $SWITCHYARD_LAB_DIR, else /var/run/switchyard-lab. */
  stateDir?: string;
}

export interface UpLabOptions extends LabLocation {
  name: string;
  /** Number of nodes, 1 to 16. */
  nodes: number;
  /** One shared segment (default) or two segments joined by a router. */
  subnets?: 1 | 2;
  /** Underlay block; split into two halves with two subnets. Default: derived from the name. */
  underlayCidr?: string;
  /** On failure, keep what was created (for reading the logs) instead of removing it. */
  keepOnFailure?: boolean;
  /** Progress lines, one per step. */
  log?: (line: string) => void;
}

export interface DownLabResult {
  /** Whether a state file or lab folder existed. */
  existed: boolean;
  stoppedPids: number[];
  deletedNamespaces: string[];
}

/**
 * Creates a lab and resolves once every node's OVS responds and its underlay address is up.
 * All-or-nothing unless `keepOnFailure`: on failure it removes everything it created and
 * raises. Raises LAB_EXISTS when a lab of that name is recorded, and RESOURCE_CONFLICT when
 * one of its namespaces exists without a state file. Labs with different names may be
 * brought up concurrently; the same name may not.
 */
export async function upLab(options: UpLabOptions): Promise<Lab> {
  const startedAt = performance.now();
  const log = options.log ?? (() => {});
  const { dir, state } = await planLab(options);

  await claimLabDir({ dir, name: options.name, stateDir: options.stateDir });
  try {
    await checkNamespacesFree(stateNamespaces(state));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const recorder = new StateRecorder(join(dir, stateFileName), state);
  await recorder.save();
  log(`lab ${state.name}: ${state.nodes.length} node(s), underlay ${state.segments.map((s) => s.cidr).join(" + ")}, state in ${dir}`);

  try {
    await createResources(recorder, log);
  } catch (error) {
    throw await failUp({ error, recorder, options, log });
  }

  state.phase = "ready";
  await recorder.save();
  log(`lab ${state.name} is up in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  return labFromState(state, { dir, stateFile: recorder.path });
}

/** Validates the options and computes the lab's folder and full state; creates nothing but the state root. */
async function planLab(options: UpLabOptions): Promise<{ dir: string; state: LabState }> {
  const subnets = options.subnets ?? 1;
  validateLabName(options.name);
  validateNodeCount(options.nodes);
  validateSubnetCount(subnets);
  await checkPreconditions();

  const root = resolveStateRoot(options.stateDir);
  const dir = join(root, options.name);
  checkOvsDirLength(join(dir, nodeName(options.nodes)));
  await mkdir(root, { recursive: true });

  const takenBlocks = (await listLabStates(root)).filter((state) => state.name !== options.name).map((state) => state.block);
  const block = options.underlayCidr ?? deriveUnderlayBlock({ name: options.name, subnets, taken: takenBlocks });
  const plan = planAddresses({ block, subnets, nodes: options.nodes });
  return { dir, state: initialState({ name: options.name, dir, subnets, plan }) };
}

/**
 * Removes everything a lab's state file records: stops its OVS daemons by PID (each checked
 * against /proc/PID/cmdline first), deletes its namespaces (and with them every link and tap
 * inside), then deletes the lab folder. Works on a lab whose `up` crashed halfway.
 * Idempotent: on a missing lab it returns `existed: false`. Do not run it while `up` for
 * the same lab is still running.
 */
export async function downLab(options: LabLocation & { log?: (line: string) => void }): Promise<DownLabResult> {
  const name = options.name ?? defaultLabName;
  validateLabName(name);
  const log = options.log ?? (() => {});
  const dir = join(resolveStateRoot(options.stateDir), name);
  const state = await readLabState(join(dir, stateFileName));

  if (state === undefined) {
    // A folder without a state file is what a crash between claiming the folder and the
    // first state write leaves: it contains nothing else.
    const existed = await pathExists(dir);
    await rm(dir, { recursive: true, force: true });
    return { existed, stoppedPids: [], deletedNamespaces: [] };
  }

  const namespaces = stateNamespaces(state).filter((netns) => netns.startsWith(`${name}-`));
  const nodes = state.nodes.filter((node) => node.ovsDir.startsWith(`${dir}/`));
  const stopDaemons = async (): Promise<number[]> => {
    const perNode = await Promise.all(
      nodes.map((node) => stopOvs({ dir: node.ovsDir, pids: [node.pids.ovsdbServer, node.pids.vswitchd].filter(isNumber) })),
    );
    return perNode.flat();
  };

  const stoppedPids = await stopDaemons();
  if (stoppedPids.length > 0) log(`stopped ${stoppedPids.length} OVS daemon(s): PID ${stoppedPids.join(", ")}`);
  const deletedNamespaces = await deleteNamespaces(namespaces);
  if (deletedNamespaces.length > 0) log(`deleted ${deletedNamespaces.length} namespace(s): ${deletedNamespaces.join(", ")}`);

  // When `up` crashed while an `ovs-vswitchd --detach` was starting, that daemon may have
  // written its pid file only after the first pass.
  const late = await stopDaemons();
  if (late.length > 0) log(`stopped ${late.length} late OVS daemon(s): PID ${late.join(", ")}`);

  await rm(dir, { recursive: true, force: true });
  return { existed: true, stoppedPids: [...stoppedPids, ...late], deletedNamespaces };
}

/** Returns the lab recorded under this name, or undefined when there is none. Reads only. */
export async function readLab(options: LabLocation = {}): Promise<Lab | undefined> {
  const name = options.name ?? defaultLabName;
  validateLabName(name);
  const dir = join(resolveStateRoot(options.stateDir), name);
  const stateFile = join(dir, stateFileName);
  const state = await readLabState(stateFile);
  return state === undefined ? undefined : labFromState(state, { dir, stateFile });
}

function initialState(input: { name: string; dir: string; subnets: 1 | 2; plan: AddressPlan }): LabState {
  const { name, dir, subnets, plan } = input;
  const segments = plan.segments.map((segment) => ({
    name: segment.name,
    cidr: segment.cidr,
    prefixLength: segment.prefixLength,
    gateway: segment.gateway,
    bridge: labInterfaces.segmentBridge(segment.name),
  }));
  const nodes: NodeState[] = plan.nodes.map((address) => {
    const segment = segments.find((candidate) => candidate.name === address.segment);
    if (segment === undefined) throw new Error(`unreachable: address plan put ${address.ip} on unknown segment ${address.segment}`);
    return {
      name: nodeName(address.index),
      index: address.index,
      netns: labNetns.node(name, address.index),
      segment: address.segment,
      underlayIp: address.ip,
      underlayPrefixLength: segment.prefixLength,
      gateway: segment.gateway,
      mac: macFromIpv4(address.ip),
      ovsDir: join(dir, nodeName(address.index)),
      pids: {},
    };
  });
  return {
    version: stateVersion,
    name,
    phase: "creating",
    upPid: process.pid,
    createdAt: new Date().toISOString(),
    subnets,
    block: plan.block,
    segments,
    underlayNetns: labNetns.underlay(name),
    router: subnets === 2 ? { netns: labNetns.router(name) } : undefined,
    outside: { netns: labNetns.outside(name), ip: plan.outside.ip, segment: plan.outside.segment },
    nodes,
  };
}

/** Creates the lab folder; its existence is the lock that keeps two `up` of one name apart. */
async function claimLabDir(input: { dir: string; name: string; stateDir: string | undefined }): Promise<void> {
  try {
    await mkdir(input.dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const stateOption = input.stateDir === undefined ? "" : ` --state-dir ${input.stateDir}`;
    throw new LabError(
      LabErrorCode.LabExists,
      `lab ${input.name} already exists (${input.dir}): run switchyard-lab down --name ${input.name}${stateOption}`,
      { cause: error },
    );
  }
}

async function checkNamespacesFree(names: readonly string[]): Promise<void> {
  const existing = await listNetns();
  const clashing = names.filter((name) => existing.has(name));
  if (clashing.length > 0) {
    throw new LabError(
      LabErrorCode.ResourceConflict,
      `namespace(s) ${clashing.join(", ")} already exist but no lab state in this folder records them: ` +
        `they may belong to a running lab under another state folder (--state-dir or SWITCHYARD_LAB_DIR), so choose another --name; ` +
        `only if they are left over from an old lab, remove them with ip netns del NAME`,
    );
  }
}

async function createResources(recorder: StateRecorder, log: (line: string) => void): Promise<void> {
  const state = recorder.state;
  const namespaces = stateNamespaces(state);
  log(`creating ${namespaces.length} namespaces: ${namespaces.join(" ")}`);
  await createNamespaces(namespaces);

  log(`building the underlay in ${state.underlayNetns}`);
  await buildUnderlay(state);

  const steps = [configureRouter(state), configureOutside(state), ...state.nodes.map((node) => bringUpNode({ node, recorder, log }))];
  // Wait for every step, also after a failure, so a rollback never races a running step.
  const results = await Promise.allSettled(steps);
  const failures = results.flatMap((result) => (result.status === "rejected" ? [result.reason as unknown] : []));
  if (failures.length > 0) throw failures[0];
}

async function bringUpNode(input: { node: NodeState; recorder: StateRecorder; log: (line: string) => void }): Promise<void> {
  const { node, recorder, log } = input;
  await prepareNodeUplink(node);
  const ovs = await startOvs({
    dir: node.ovsDir,
    netns: node.netns,
    log: (line) => log(`${node.name}: ${line}`),
    onPid: async (daemon, pid) => {
      if (daemon === "ovsdb-server") node.pids.ovsdbServer = pid;
      else node.pids.vswitchd = pid;
      await recorder.save();
    },
  });
  await configureNodeBridge(recorder.state, node, ovs.dbSocket);
  log(`${node.name}: ${node.underlayIp}/${node.underlayPrefixLength} on ${labInterfaces.physicalBridge} in ${node.netns}`);
}

async function failUp(input: { error: unknown; recorder: StateRecorder; options: UpLabOptions; log: (line: string) => void }): Promise<LabError> {
  const { error, recorder, options, log } = input;
  const name = options.name;
  const reason = error instanceof Error ? error.message : String(error);
  const code = error instanceof LabError ? error.code : LabErrorCode.CommandFailed;
  const stateOption = options.stateDir === undefined ? "" : ` --state-dir ${options.stateDir}`;

  if (options.keepOnFailure === true) {
    recorder.state.phase = "failed";
    await recorder.save();
    return new LabError(code, `lab ${name} failed to come up: ${reason}\nits resources are kept: run switchyard-lab down --name ${name}${stateOption} when done`, {
      cause: error,
    });
  }

  log(`lab ${name} failed to come up; removing what was created`);
  try {
    await downLab({ name, stateDir: options.stateDir, log });
  } catch (cleanupError) {
    return new LabError(
      code,
      `lab ${name} failed to come up: ${reason}\nremoving it failed too (${(cleanupError as Error).message}): run switchyard-lab down --name ${name}${stateOption}`,
      { cause: new AggregateError([error, cleanupError]) },
    );
  }
  return new LabError(code, `lab ${name} failed to come up and was removed again: ${reason}\n(pass --keep-on-failure to keep its logs)`, { cause: error });
}

/** Owns a lab's in-memory state and writes it to disk one write at a time. */
class StateRecorder {
  readonly path: string;
  readonly state: LabState;
  #last: Promise<void> = Promise.resolve();

  constructor(path: string, state: LabState) {
    this.path = path;
    this.state = state;
  }

  /** Writes the current state after any earlier write finished; resolves when it is on disk. */
  save(): Promise<void> {
    const snapshot = structuredClone(this.state);
    const write = this.#last.then(() => writeLabState(this.path, snapshot));
    this.#last = write.catch(() => {});
    return write;
  }
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function isNumber(value: number | undefined): value is number {
  return value !== undefined;
}
