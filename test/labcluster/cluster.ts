// Bringing a local cluster up and down: the lab, the API server with its relay into the lab,
// the Node objects, the controller, and per node an agent, the CNI plugin and a pod runner.
//
// Where each process runs, and why:
//   root namespace     API server on 127.0.0.1:PORT (kubectl, pod runners, the scheduler),
//                      relay half "unix socket -> 127.0.0.1:PORT"
//   outside namespace  relay half "OUTSIDE-IP:6443 -> unix socket", the controller
//                      (distribution API on OUTSIDE-IP:10351)
//   node namespaces    one agent each, talking to the API server at OUTSIDE-IP:6443
// A node namespace cannot reach the root namespace's loopback, and the root namespace has no
// address on the underlay. The relay's unix socket is a file, which both namespaces can
// open, so nothing is added to the root namespace and all traffic stays on loopback or
// inside the lab's namespaces.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

import { renderKubeconfig } from "../apiserver/kubeconfig.ts";
import { registerNode } from "../cluster/node-registration.ts";
import { downLab, readLab, resolveStateRoot, run, upLab } from "../lab/index.ts";
import type { Lab, LabLocation } from "../lab/index.ts";
import { agentConfig, clusterPaths, cniConflist, controllerConfig, inLabApiPort, subnetsForMode } from "./config.ts";
import type { ClusterMode, ClusterPaths } from "./config.ts";
import { startDaemon, stopDaemon, waitFor } from "./daemons.ts";
import type { DaemonRecord } from "./daemons.ts";
import { ClusterUpError, ClusterUpErrorCode } from "./errors.ts";
import { readClusterState, writeClusterState } from "./state.ts";
import type { ClusterState } from "./state.ts";
import { tearDownCluster } from "./teardown.ts";

const execFileAsync = promisify(execFile);

/** Root of the checkout: every daemon runs from its sources. */
export const repoRoot = join(import.meta.dirname, "..", "..");

/** The checkout's Node 24, which runs every daemon. */
export const nodeBinary = join(repoRoot, "node_modules", ".bin", "node");

/** Default cluster (and lab) name. */
export const defaultClusterName = "cluster";

export interface UpClusterOptions extends LabLocation {
  name: string;
  nodes: number;
  mode: ClusterMode;
  /** On failure, keep what was started (to read the logs) instead of tearing it down. */
  keepOnFailure?: boolean;
  /** Progress lines, one per step. */
  log?: (line: string) => void;
  /** Time limit for each agent to report ready, in milliseconds. Default 90000. */
  agentTimeoutMs?: number;
}

/** Everything a caller needs to use a running cluster. */
export interface RunningCluster {
  state: ClusterState;
  lab: Lab;
  paths: ClusterPaths;
}

/** Loads the cluster's kubeconfig for client-node. */
export function loadClusterKubeConfig(state: ClusterState): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(state.kubeconfig);
  return kubeConfig;
}

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new ClusterUpError(ClusterUpErrorCode.DaemonFailed, "could not pick a free port on 127.0.0.1");
  return address.port;
}

/** One step of `up`, with access to what earlier steps produced. */
interface UpContext {
  lab: Lab;
  paths: ClusterPaths;
  state: ClusterState;
  log: (line: string) => void;
  options: UpClusterOptions;
}

async function recordDaemon(context: UpContext, daemon: DaemonRecord): Promise<DaemonRecord> {
  context.state.daemons.push(daemon);
  await writeClusterState(context.paths.stateFile, context.state);
  return daemon;
}

async function startApiServerStep(context: UpContext): Promise<void> {
  const { paths, state } = context;
  context.log(`starting the API server on 127.0.0.1:${state.apiPort}`);
  const daemon = await recordDaemon(
    context,
    startDaemon({
      name: "apiserver",
      argv: [nodeBinary, join(repoRoot, "test/apiserver/main.ts"), "--port", String(state.apiPort), "--state-file", paths.apiServerState, "--kubeconfig", paths.kubeconfig],
      logFile: paths.apiServerLog,
    }),
  );
  await waitFor(
    async () => {
      const response = await fetch(`http://127.0.0.1:${state.apiPort}/version`);
      return response.ok && existsSync(paths.kubeconfig) ? true : undefined;
    },
    { what: "the API server to answer /version", timeoutMs: 20_000, daemon },
  );
}

async function startRelayStep(context: UpContext): Promise<void> {
  const { paths, state, lab } = context;
  const relay = join(repoRoot, "test/labcluster/relay.ts");
  context.log(`relaying ${lab.outside.ip}:${inLabApiPort} in ${lab.outside.netns} to the API server`);
  const root = await recordDaemon(
    context,
    startDaemon({ name: "relay root", argv: [nodeBinary, relay, "--listen", `unix:${paths.relaySocket}`, "--connect", `tcp:127.0.0.1:${state.apiPort}`], logFile: paths.rootRelayLog }),
  );
  await waitFor(async () => (existsSync(paths.relaySocket) ? true : undefined), { what: "the relay socket", timeoutMs: 10_000, daemon: root });
  const outside = await recordDaemon(
    context,
    startDaemon({
      name: "relay outside",
      argv: [nodeBinary, relay, "--listen", `tcp:0.0.0.0:${inLabApiPort}`, "--connect", `unix:${paths.relaySocket}`],
      netns: lab.outside.netns,
      logFile: paths.outsideRelayLog,
    }),
  );
  await writeFile(paths.inLabKubeconfig, renderKubeconfig({ serverUrl: `http://${lab.outside.ip}:${inLabApiPort}` }), { mode: 0o600 });
  await waitFor(
    async () => {
      const { stdout } = await execFileAsync("ip", ["netns", "exec", lab.outside.netns, "curl", "-sf", "--max-time", "2", `http://127.0.0.1:${inLabApiPort}/version`]);
      return stdout.includes("gitVersion") ? true : undefined;
    },
    { what: "the API server through the relay in the outside namespace", timeoutMs: 10_000, daemon: outside },
  );
}

async function registerNodesStep(context: UpContext): Promise<void> {
  const kubeConfig = loadClusterKubeConfig(context.state);
  for (const node of context.lab.nodes) {
    context.log(`registering Node ${node.name} (InternalIP ${node.underlayIp})`);
    await registerNode({ kubeConfig, nodeName: node.name, hostIp: node.underlayIp });
  }
}

async function startControllerStep(context: UpContext): Promise<void> {
  const { paths, lab } = context;
  context.log(`starting the controller in ${lab.outside.netns} (distribution API on ${lab.outside.ip})`);
  const config = controllerConfig({ inLabKubeconfig: paths.inLabKubeconfig, outsideIp: lab.outside.ip, tlsDir: paths.controllerTlsDir });
  await writeFile(paths.controllerConfig, `${JSON.stringify(config, null, 2)}\n`);
  const daemon = await recordDaemon(
    context,
    startDaemon({ name: "controller", argv: [nodeBinary, join(repoRoot, "controller/main.ts"), "--config", paths.controllerConfig], netns: lab.outside.netns, logFile: paths.controllerLog }),
  );
  const core = loadClusterKubeConfig(context.state).makeApiClient(CoreV1Api);
  const cidrs = await waitFor(
    async () => {
      const list = await core.listNode();
      const assigned = list.items.filter((node) => (node.spec?.podCIDR ?? "") !== "");
      return assigned.length === lab.nodes.length ? assigned.map((node) => `${node.metadata?.name ?? "?"}=${node.spec?.podCIDR ?? ""}`) : undefined;
    },
    { what: "the controller to assign every Node a pod CIDR", timeoutMs: 30_000, daemon },
  );
  context.log(`pod CIDRs: ${cidrs.join(", ")}`);
}

async function issueCertificatesStep(context: UpContext): Promise<void> {
  for (const node of context.lab.nodes) {
    const nodePaths = context.paths.node(node.name);
    await mkdir(nodePaths.certDir, { recursive: true });
    await execFileAsync(nodeBinary, [join(repoRoot, "controller/main.ts"), "issue-cert", "--config", context.paths.controllerConfig, "--node", node.name, "--out", nodePaths.certDir]);
  }
  context.log(`issued controller client certificates for ${context.lab.nodes.map((node) => node.name).join(", ")}`);
}

async function installCniStep(context: UpContext): Promise<void> {
  for (const node of context.lab.nodes) {
    const nodePaths = context.paths.node(node.name);
    await mkdir(nodePaths.cniConfDir, { recursive: true });
    await execFileAsync("bash", [join(repoRoot, "build/install-cni.sh"), nodePaths.cniBinDir]);
    await writeFile(nodePaths.cniConflist, `${JSON.stringify(cniConflist({ paths: nodePaths }), null, 2)}\n`);
  }
  context.log(`installed the CNI plugin and a conflist for each node under ${context.paths.dir}`);
}

/**
 * Pings every other node's underlay address from each node once. The userspace datapath
 * drops a tunnelled packet while it resolves the remote node's MAC address (it learns it
 * from the ARP reply), so without this the first probe between two nodes can time out
 * although nothing blocks it. A failed ping is logged, not raised: probes show the fault.
 */
async function resolvePeerAddresses(context: UpContext): Promise<void> {
  const { nodes } = context.lab;
  const pings = nodes.flatMap((from) => nodes.filter((to) => to !== from).map((to) => ({ from, to })));
  await Promise.all(
    pings.map(({ from, to }) =>
      run(["ping", "-c", "1", "-W", "1", to.underlayIp], { netns: from.netns, timeoutMs: 5_000 }).catch(() =>
        context.log(`${from.name} got no ping reply from ${to.name} at ${to.underlayIp}; its first packets may be lost`),
      ),
    ),
  );
}

async function startAgentsStep(context: UpContext): Promise<void> {
  const { lab, paths } = context;
  const started: DaemonRecord[] = [];
  for (const node of lab.nodes) {
    const nodePaths = paths.node(node.name);
    await mkdir(nodePaths.agentStateDir, { recursive: true });
    const config = agentConfig({
      nodeName: node.name,
      mode: context.state.mode,
      inLabKubeconfig: paths.inLabKubeconfig,
      dbSocket: node.dbSocket,
      ovsDir: node.ovsDir,
      paths: nodePaths,
      outsideIp: lab.outside.ip,
    });
    await writeFile(nodePaths.agentConfig, `${JSON.stringify(config, null, 2)}\n`);
    context.log(`starting the agent of ${node.name} in ${node.netns}`);
    started.push(
      await recordDaemon(
        context,
        startDaemon({ name: `agent ${node.name}`, argv: [nodeBinary, join(repoRoot, "agent/main.ts"), "--config", nodePaths.agentConfig], netns: node.netns, logFile: nodePaths.agentLog }),
      ),
    );
  }
  await Promise.all(started.map((daemon) => waitForAgentReady(daemon, context.options.agentTimeoutMs ?? 90_000)));
  context.log("every agent reports ready");
  await resolvePeerAddresses(context);
}

/** Waits for the agent's "agent ready" log line, written once its flows are installed. */
export async function waitForAgentReady(daemon: DaemonRecord, timeoutMs: number, options: { after?: number } = {}): Promise<void> {
  await waitFor(
    async () => {
      const text = await readFile(daemon.logFile, "utf8");
      return text.slice(options.after ?? 0).includes('"agent ready"') ? true : undefined;
    },
    { what: `${daemon.name} to log "agent ready"`, timeoutMs, daemon, intervalMs: 300 },
  );
}

/** Returns the argv of one node's pod runner. */
export function runnerArgv(options: { state: ClusterState; paths: ClusterPaths; node: { name: string; netns: string; underlayIp: string } }): string[] {
  const nodePaths = options.paths.node(options.node.name);
  return [
    nodeBinary,
    join(repoRoot, "test/cluster/cli.ts"),
    "run",
    "--kubeconfig",
    options.state.kubeconfig,
    "--node",
    options.node.name,
    "--node-netns",
    options.node.netns,
    "--host-ip",
    options.node.underlayIp,
    "--cni-conf-dir",
    nodePaths.cniConfDir,
    "--cni-bin-dir",
    nodePaths.cniBinDir,
    "--state-dir",
    nodePaths.runnerStateDir,
    "--netns-prefix",
    options.state.netnsPrefix,
  ];
}

async function startRunnersStep(context: UpContext): Promise<void> {
  const { lab, paths, state } = context;
  for (const node of lab.nodes) {
    const nodePaths = paths.node(node.name);
    await mkdir(nodePaths.runnerStateDir, { recursive: true });
    const daemon = await recordDaemon(context, startDaemon({ name: `runner ${node.name}`, argv: runnerArgv({ state, paths, node }), logFile: nodePaths.runnerLog }));
    await waitFor(async () => ((await readFile(daemon.logFile, "utf8")).includes("pod runner starting") ? true : undefined), {
      what: `${daemon.name} to start`,
      timeoutMs: 20_000,
      daemon,
    });
  }
  const nodes = lab.nodes.map((node) => node.name).join(",");
  await recordDaemon(
    context,
    startDaemon({
      name: "scheduler",
      argv: [nodeBinary, join(repoRoot, "test/cluster/cli.ts"), "schedule", "--kubeconfig", state.kubeconfig, "--nodes", nodes],
      logFile: paths.schedulerLog,
    }),
  );
  context.log(`started a pod runner per node and the round-robin scheduler over ${nodes}`);
}

/**
 * Starts a cluster and resolves once every daemon runs and every agent reports ready.
 * All-or-nothing unless `keepOnFailure`: on failure it stops what it started, removes the
 * lab and raises. Raises CLUSTER_EXISTS when a lab of that name exists.
 */
export async function upCluster(options: UpClusterOptions): Promise<RunningCluster> {
  const log = options.log ?? (() => {});
  if ((await readLab({ name: options.name, stateDir: options.stateDir })) !== undefined) {
    throw new ClusterUpError(ClusterUpErrorCode.ClusterExists, `cluster ${options.name} already exists: remove it with bin/switchyard-cluster down --name ${options.name}`);
  }
  const lab = await upLab({ name: options.name, nodes: options.nodes, subnets: subnetsForMode(options.mode), stateDir: options.stateDir, log });
  const paths = clusterPaths(lab.dir);
  const state: ClusterState = {
    version: 1,
    name: options.name,
    mode: options.mode,
    ready: false,
    apiPort: await freeLoopbackPort(),
    kubeconfig: paths.kubeconfig,
    netnsPrefix: `${options.name}-p-`,
    outsideIp: lab.outside.ip,
    nodes: lab.nodes.map((node) => ({ name: node.name, netns: node.netns, underlayIp: node.underlayIp })),
    daemons: [],
  };
  const context: UpContext = { lab, paths, state, log, options };
  try {
    await mkdir(paths.dir, { recursive: true });
    await writeClusterState(paths.stateFile, state);
    await startApiServerStep(context);
    await startRelayStep(context);
    await registerNodesStep(context);
    await startControllerStep(context);
    await issueCertificatesStep(context);
    await installCniStep(context);
    await startAgentsStep(context);
    await startRunnersStep(context);
    state.ready = true;
    await writeClusterState(paths.stateFile, state);
    return { state, lab, paths };
  } catch (error) {
    if (options.keepOnFailure !== true) {
      log(`up failed; tearing down cluster ${options.name}`);
      await downCluster({ name: options.name, stateDir: options.stateDir, log });
    }
    throw error;
  }
}

/** Reads a running cluster; undefined when no lab of that name exists. */
export async function readCluster(options: LabLocation & { name: string }): Promise<RunningCluster | undefined> {
  const lab = await readLab({ name: options.name, stateDir: options.stateDir });
  if (lab === undefined) return undefined;
  const paths = clusterPaths(lab.dir);
  const state = await readClusterState(paths.stateFile);
  if (state === undefined) return undefined;
  return { state, lab, paths };
}

/** Like readCluster, but raises CLUSTER_NOT_FOUND naming the fix. */
export async function requireCluster(options: LabLocation & { name: string }): Promise<RunningCluster> {
  const cluster = await readCluster(options);
  if (cluster === undefined) {
    throw new ClusterUpError(
      ClusterUpErrorCode.ClusterNotFound,
      `no cluster named ${options.name} under ${resolveStateRoot(options.stateDir)}: start one with switchyard-cluster up --name ${options.name}, or pass the --state-dir it was started with`,
    );
  }
  return cluster;
}

/**
 * Stops every recorded process (pods first, while the agents can still serve CNI DEL), then
 * removes the lab. Idempotent: a second call finds nothing and returns `existed: false`.
 */
export async function downCluster(options: LabLocation & { name: string; log?: (line: string) => void }): Promise<{ existed: boolean; stoppedPids: number[] }> {
  const log = options.log ?? (() => {});
  const lab = await readLab({ name: options.name, stateDir: options.stateDir });
  const stoppedPids: number[] = [];
  if (lab !== undefined) {
    const state = await readClusterState(clusterPaths(lab.dir).stateFile);
    if (state !== undefined) stoppedPids.push(...(await tearDownCluster({ state, paths: clusterPaths(lab.dir), log })));
  }
  const result = await downLab({ name: options.name, stateDir: options.stateDir, log });
  return { existed: result.existed || lab !== undefined, stoppedPids: [...stoppedPids, ...result.stoppedPids] };
}

/**
 * Stops a node's agent by PID and starts it again with the same configuration, then waits
 * for it to report ready. The cluster state records the new PID.
 */
export async function restartAgent(cluster: RunningCluster, nodeName: string, options: { timeoutMs?: number } = {}): Promise<DaemonRecord> {
  const { state, paths } = cluster;
  const index = state.daemons.findIndex((daemon) => daemon.name === `agent ${nodeName}`);
  const old = state.daemons[index];
  if (old === undefined) throw new ClusterUpError(ClusterUpErrorCode.ClusterNotFound, `cluster ${state.name} has no agent on ${nodeName}; nodes: ${state.nodes.map((node) => node.name).join(", ")}`);
  await stopDaemon(old);
  const logOffset = (await readFile(old.logFile, "utf8").catch(() => "")).length;
  const daemon = startDaemon({ name: old.name, argv: old.argv, netns: old.netns, logFile: old.logFile });
  state.daemons[index] = daemon;
  await writeClusterState(paths.stateFile, state);
  await waitForAgentReady(daemon, options.timeoutMs ?? 90_000, { after: logOffset });
  return daemon;
}
