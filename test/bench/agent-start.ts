// Agent start-up with pods already on the node. measureAgentStart() times an in-process
// AgentDaemon.start() that rebuilds the flows of N pod ports recorded in OVSDB, against
// `ovs-ofctl --bundle add-flows` of the agent's own flow dump into a fresh bridge of the same
// ovs-vswitchd. measureAgentProcess() runs bin/switchyard-agent as its own process and reads
// its memory from its /metrics, so a run with 0 pods and one with N give the per-pod cost.
//
// Each measurement gets its own namespace syb-<tag><pid> and folder /tmp/syb-<tag>*, removed
// at the end. Pod ports are OVS internal ports, not veth pairs into pod namespaces: the agent
// restores them the same way, because it reads only the ports' external_ids and ofports.
import { spawn, type ChildProcess } from "node:child_process";
import { access, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import winston from "winston";
import { validateAgentConfig } from "../../agent/config/validate.ts";
import { AgentDaemon } from "../../agent/daemon.ts";
import type { HostRunner } from "../../agent/host/command.ts";
import { AgentMetrics } from "../../agent/metrics.ts";
import type { Logger } from "../../common/log/logger.ts";
import { startApiServer, type ApiServer } from "../apiserver/index.ts";
import { createNamespaces, deleteNamespaces, run, startOvs, stopOvs, type OvsInstance } from "../lab/index.ts";

const BRIDGE = "br-int";
const REFERENCE_BRIDGE = "syb-ref";
const NODE_NAME = "syb-n1";
const POD_NAMESPACE = "default";
/** A /22 has 1022 host addresses, enough for this benchmark's pods; the gateway takes 10.244.0.1. */
const POD_CIDR = "10.244.0.0/22";
const NODE_IP = "192.168.77.11";
/** Pod ofports start above the gateway (2) and tunnel (1) ports. */
const FIRST_POD_OFPORT = 101;
const AGENT_BIN = join(dirname(fileURLToPath(import.meta.url)), "../../bin/switchyard-agent");
const GC_PRELOAD = join(dirname(fileURLToPath(import.meta.url)), "gc-on-signal.ts");
const API_SERVER_MAIN = join(dirname(fileURLToPath(import.meta.url)), "../apiserver/main.ts");

export interface AgentStartResult {
  readonly pods: number;
  /** From AgentDaemon.start() to its resolution ("agent ready"), in milliseconds. */
  readonly startMs: number;
  /** Each log message of the start-up, in order, with the milliseconds from AgentDaemon.start() to its first occurrence. */
  readonly marks: readonly { readonly message: string; readonly ms: number }[];
  /** Flow count of br-int once the agent is ready, from `ovs-ofctl dump-aggregate`. */
  readonly flowCount: number;
  /** `ovs-ofctl --bundle add-flows` of br-int's dump into a fresh bridge, in milliseconds. */
  readonly referenceMs: number;
  /** Flow count of the fresh bridge after add-flows, from `ovs-ofctl dump-aggregate`. */
  readonly referenceFlowCount: number;
}

/** Pod `index` (0-based): its port, ofport, MAC and address inside POD_CIDR, clear of the gateway. */
function podSpec(index: number) {
  const host = index + 10;
  return {
    name: `pod-${index}`,
    port: `sybp${index}`,
    ofport: FIRST_POD_OFPORT + index,
    mac: `0a:00:00:00:${((index >> 8) & 0xff).toString(16).padStart(2, "0")}:${(index & 0xff).toString(16).padStart(2, "0")}`,
    ip: `10.244.${host >> 8}.${host & 0xff}`,
  };
}

/**
 * Returns the ovs-vsctl arguments that add pod `index` as an internal port with the
 * external_ids the CNI server writes on the Port and Interface rows (agent/cniserver/attachment.ts).
 */
function podPortArgs(index: number): string[] {
  const pod = podSpec(index);
  const containerId = `syb${index.toString().padStart(8, "0")}`;
  const ids = [
    `external_ids:switchyard-attachment=switchyard/${containerId}/eth0`,
    `external_ids:container-id=${containerId}`,
    `external_ids:ip=${pod.ip}`,
    `external_ids:attached-mac=${pod.mac}`,
    `external_ids:netns=/var/run/netns/${containerId}`,
    "external_ids:if-name=eth0",
    "external_ids:cni-network=switchyard",
    "external_ids:pod-mtu=1450",
    `external_ids:pod-namespace=${POD_NAMESPACE}`,
    `external_ids:pod-name=${pod.name}`,
  ];
  return ["--", "add-port", BRIDGE, pod.port, ...ids, "--", "set", "interface", pod.port, "type=internal", `ofport_request=${pod.ofport}`, ...ids];
}

/** Reads flow_count from `ovs-ofctl dump-aggregate`. */
async function flowCount(ovs: OvsInstance, bridge: string): Promise<number> {
  const text = await run(["ovs-ofctl", "-O", "OpenFlow15", "dump-aggregate", ovs.mgmtSocket(bridge)], { netns: ovs.netns });
  const match = /flow_count=(\d+)/.exec(text);
  if (match?.[1] === undefined) throw new Error(`dump-aggregate on ${bridge} printed no flow_count: ${text.trim()}`);
  return Number(match[1]);
}

/** Creates a winston logger that prints nothing and records when each message was first logged. */
function timingLogger(): { logger: Logger; firstSeen: Map<string, bigint> } {
  const firstSeen = new Map<string, bigint>();
  const record = winston.format((entry) => {
    const message = String(entry.message);
    if (!firstSeen.has(message)) firstSeen.set(message, process.hrtime.bigint());
    return false;
  });
  const logger = winston.createLogger({ level: "info", format: record(), transports: [new winston.transports.Console()] });
  return { logger, firstSeen };
}

/** Creates the Node and the pods' Pod objects the agent lists at start, so none of the ports is stale. */
async function seedApiServer(api: ApiServer, options: { kubeconfigPath: string; pods: number }): Promise<KubeConfig> {
  await api.writeKubeconfig(options.kubeconfigPath);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(options.kubeconfigPath);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNode({ body: { metadata: { name: NODE_NAME }, spec: { podCIDR: POD_CIDR, podCIDRs: [POD_CIDR] }, status: { addresses: [{ type: "InternalIP", address: NODE_IP }] } } });
  for (let index = 0; index < options.pods; index++) {
    const pod = podSpec(index);
    const created = await core.createNamespacedPod({
      namespace: POD_NAMESPACE,
      body: { metadata: { name: pod.name, namespace: POD_NAMESPACE }, spec: { nodeName: NODE_NAME, containers: [{ name: "c", image: "none" }] } },
    });
    // Create ignores status, as kube-apiserver does, so the pod's IP goes through the status subresource.
    await core.replaceNamespacedPodStatus({ name: pod.name, namespace: POD_NAMESPACE, body: { ...created, status: { ...created.status, podIP: pod.ip, podIPs: [{ ip: pod.ip }] } } });
  }
  return kubeConfig;
}

/** Creates br-int with `pods` internal pod ports in one transaction, then an uplink with the Node's InternalIP. */
async function seedNode(ovs: OvsInstance, pods: number): Promise<void> {
  const ports = Array.from({ length: pods }, (_, index) => podPortArgs(index)).flat();
  await ovs.vsctl(["--timeout=120", "add-br", BRIDGE, "--", "set", "bridge", BRIDGE, "datapath_type=netdev", ...ports], { timeoutMs: 130_000 });
  // This kernel has no dummy module, so a veth pair whose peer stays in the namespace is the uplink.
  await run(["ip", "link", "add", "syb-eth0", "type", "veth", "peer", "name", "syb-eth0p"], { netns: ovs.netns });
  await run(["ip", "link", "set", "syb-eth0p", "up"], { netns: ovs.netns });
  await run(["ip", "addr", "add", `${NODE_IP}/24`, "dev", "syb-eth0"], { netns: ovs.netns });
  await run(["ip", "link", "set", "syb-eth0", "mtu", "1500", "up"], { netns: ovs.netns });
}

/**
 * Times `ovs-ofctl --bundle add-flows` of br-int's current flows into a fresh bridge, and
 * returns the time and the fresh bridge's flow count.
 */
async function measureReference(ovs: OvsInstance, dir: string): Promise<{ ms: number; flowCount: number }> {
  const dump = await run(["ovs-ofctl", "-O", "OpenFlow15", "--no-stats", "--no-names", "dump-flows", ovs.mgmtSocket(BRIDGE)], { netns: ovs.netns });
  const file = join(dir, "flows.txt");
  await writeFile(file, dump);
  await ovs.vsctl(["add-br", REFERENCE_BRIDGE, "--", "set", "bridge", REFERENCE_BRIDGE, "datapath_type=netdev", "protocols=OpenFlow13,OpenFlow15", "fail_mode=secure"]);
  await run(["ovs-ofctl", "-O", "OpenFlow15", "del-flows", ovs.mgmtSocket(REFERENCE_BRIDGE)], { netns: ovs.netns });
  const started = process.hrtime.bigint();
  await run(["ovs-ofctl", "-O", "OpenFlow15", "--bundle", "add-flows", ovs.mgmtSocket(REFERENCE_BRIDGE), file], { netns: ovs.netns });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { ms, flowCount: await flowCount(ovs, REFERENCE_BRIDGE) };
}

/** One node ready for an agent: OVS with the pod ports, an API server with Node and Pods, and the agent's configuration file. */
interface SeededNode {
  readonly ovs: OvsInstance;
  readonly kubeConfig: KubeConfig;
  readonly configPath: string;
  readonly dir: string;
  readonly api: ApiServer;
  /** The API server's state file, for a second server that serves the same objects. */
  readonly stateFile: string;
}

/**
 * Runs `task` on a fresh node with `pods` pod ports in namespace syb-<tag><pid>, then removes
 * the namespace, the OVS daemons, the API server and the folder, also when `task` rejects.
 */
async function withSeededNode<T>(options: { tag: string; pods: number }, task: (node: SeededNode) => Promise<T>): Promise<T> {
  const netns = `syb-${options.tag}${process.pid}`;
  const dir = await mkdtemp(`/tmp/syb-${options.tag}`);
  let ovs: OvsInstance | undefined;
  let api: ApiServer | undefined;
  try {
    await createNamespaces([netns]);
    ovs = await startOvs({ dir, netns });
    await seedNode(ovs, options.pods);
    const stateFile = join(dir, "api-state.json");
    api = await startApiServer({ port: 0, stateFile });
    const kubeconfigPath = join(dir, "kubeconfig");
    const kubeConfig = await seedApiServer(api, { kubeconfigPath, pods: options.pods });
    const configPath = join(dir, "agent.json");
    const config = {
      nodeName: NODE_NAME,
      kubeconfig: kubeconfigPath,
      ovs: { bridge: BRIDGE, datapathType: "netdev", dbSocket: ovs.dbSocket, runDir: ovs.dir },
      gateway: { name: "syb-gw0" },
      tunnel: { name: "syb-tun0" },
      metrics: { enabled: true, bindAddress: "127.0.0.1", port: 0 },
      cni: { socketPath: join(dir, "cni.sock"), stateDir: join(dir, "cni") },
    };
    await writeFile(configPath, JSON.stringify(config, null, 2));
    return await task({ ovs, kubeConfig, configPath, dir, api, stateFile });
  } finally {
    await api?.close();
    await stopOvs({ dir, pids: ovs === undefined ? [] : [ovs.ovsdbPid, ...(ovs.vswitchdPid === undefined ? [] : [ovs.vswitchdPid])] });
    await deleteNamespaces([netns]);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Starts an in-process AgentDaemon on a node with `pods` pod ports and times start() to its
 * resolution, then checks the flow count and times the add-flows reference. Needs root.
 */
export async function measureAgentStart(options: { pods: number }): Promise<AgentStartResult> {
  return withSeededNode({ tag: "as", pods: options.pods }, async (node) => {
    const config = validateAgentConfig({ ...(JSON.parse(await readFile(node.configPath, "utf8")) as object), metrics: { enabled: false } }, "benchmark");
    const netns = node.ovs.netns;
    const runner: HostRunner = (argv, runOptions) => run(argv, { netns, input: runOptions?.input });
    const { logger, firstSeen } = timingLogger();
    const metrics = new AgentMetrics({ processMetrics: false });

    let daemon: AgentDaemon | undefined;
    try {
      const started = process.hrtime.bigint();
      daemon = await AgentDaemon.start({ config, logger, kubeConfig: node.kubeConfig, run: runner, metrics, nodeWaitMs: 10_000 });
      const readyAt = process.hrtime.bigint();
      const marks = [...firstSeen].map(([message, at]) => ({ message, ms: Number(at - started) / 1e6 }));
      const installed = await flowCount(node.ovs, BRIDGE);
      const reference = await measureReference(node.ovs, node.dir);
      return {
        pods: options.pods,
        startMs: Number(readyAt - started) / 1e6,
        marks,
        flowCount: installed,
        referenceMs: reference.ms,
        referenceFlowCount: reference.flowCount,
      };
    } finally {
      await daemon?.stop();
    }
  });
}

export interface AgentProcessResult {
  readonly pods: number;
  /** From spawning bin/switchyard-agent to its "agent ready" log line, in milliseconds (includes Node.js start-up). */
  readonly readyMs: number;
  /** Flow count of br-int once the agent is ready, from `ovs-ofctl dump-aggregate`. */
  readonly flowCount: number;
  /** The agent's own process_resident_memory_bytes and nodejs_heap_size_used_bytes, scraped after a full GC one second after ready. */
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

/** Returns the value of one sample line `NAME VALUE` of a Prometheus text exposition. */
function sample(text: string, name: string): number {
  const line = text.split("\n").find((entry) => entry.startsWith(`${name} `));
  if (line === undefined) throw new Error(`metric ${name} not found in the agent's /metrics output`);
  return Number(line.slice(name.length + 1));
}

/** Resolves with the metrics port once the agent logs "agent ready"; rejects when it exits first or after `timeoutMs`. */
function waitForReady(agent: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffered = "";
    const timer = setTimeout(() => reject(new Error(`agent not ready within ${timeoutMs} ms; last output: ${buffered.slice(-500)}`)), timeoutMs);
    agent.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with code ${code} before it was ready; last output: ${buffered.slice(-500)}`));
    });
    // The agent logs to stderr.
    agent.stderr?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.includes('"agent ready"')) continue;
        const entry = JSON.parse(line) as { metricsPort?: number };
        clearTimeout(timer);
        resolve(entry.metricsPort ?? 0);
      }
    });
  });
}

/**
 * Runs bin/switchyard-agent in the node's namespace with `pods` pod ports present, times it
 * to "agent ready", reads its memory from its own /metrics, and stops it with SIGTERM. Needs root.
 */
export async function measureAgentProcess(options: { pods: number }): Promise<AgentProcessResult> {
  return withSeededNode({ tag: `ap${options.pods}`, pods: options.pods }, async (node) => {
    const netns = node.ovs.netns;
    const apiServer = await startNamespaceApiServer(node);
    let agent: ChildProcess | undefined;
    try {
      const configPath = join(node.dir, "agent-process.json");
      const config = JSON.parse(await readFile(node.configPath, "utf8")) as object;
      await writeFile(configPath, JSON.stringify({ ...config, kubeconfig: apiServer.kubeconfigPath }));
      const started = process.hrtime.bigint();
      // `ip netns exec` and the bin wrapper both exec, so agent.pid is the agent's Node.js process.
      agent = spawn("ip", ["netns", "exec", netns, AGENT_BIN, "--config", configPath, "--log-format", "json"], {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, NODE_OPTIONS: `--expose-gc --import ${GC_PRELOAD}` },
      });
      const port = await waitForReady(agent, 60_000);
      const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
      const installed = await flowCount(node.ovs, BRIDGE);
      // Let start-up work settle, then have the preload run a full collection before the scrape.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      agent.kill("SIGUSR2");
      await new Promise((resolve) => setTimeout(resolve, 500));
      const text = await run(["curl", "-s", `http://127.0.0.1:${port}/metrics`], { netns });
      return {
        pods: options.pods,
        readyMs,
        flowCount: installed,
        rssBytes: sample(text, "switchyard_agent_process_resident_memory_bytes"),
        heapUsedBytes: sample(text, "switchyard_agent_nodejs_heap_size_used_bytes"),
      };
    } finally {
      if (agent !== undefined) await stopChild(agent);
      await stopChild(apiServer.child);
    }
  });
}

/**
 * Serves the seeded objects to processes inside the node's namespace: the in-process server
 * listens in the benchmark's own namespace, which the agent process cannot reach, so a second
 * server (test/apiserver/main.ts) loads the same state file on the namespace's loopback.
 */
async function startNamespaceApiServer(node: SeededNode): Promise<{ child: ChildProcess; kubeconfigPath: string }> {
  await node.api.flushState();
  const netns = node.ovs.netns;
  await run(["ip", "link", "set", "lo", "up"], { netns });
  const kubeconfigPath = join(node.dir, "kubeconfig-netns");
  const child = spawn("ip", ["netns", "exec", netns, process.execPath, API_SERVER_MAIN, "--port", "0", "--state-file", node.stateFile, "--kubeconfig", kubeconfigPath], { stdio: "ignore" });
  const deadline = Date.now() + 20_000;
  while (!(await exists(kubeconfigPath))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`API server in namespace ${netns} wrote no kubeconfig ${kubeconfigPath} within 20 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, kubeconfigPath };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Sends SIGTERM to the child and waits for it to exit. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}
