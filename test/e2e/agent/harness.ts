// A lab cluster for agent end-to-end tests. It contains the lab's nodes, the local API server
// with one Node object per lab node, and one agent per node. The agents run in this process
// and send their host commands into the node's namespace. Pod namespaces are attached the
// way the CNI server attaches them.
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { startApiServer, type ApiServer } from "../../apiserver/index.ts";
import { deleteNamespaces, createNamespaces, disableTxChecksumOffload, downLab, run, spawnInNetns, upLab, type Lab, type LabNode } from "../../lab/index.ts";
import { createSilentLogger } from "../../../common/log/logger.ts";
import { validateAgentConfig } from "../../../agent/config/validate.ts";
import { AgentDaemon } from "../../../agent/daemon.ts";
import { AgentMetrics } from "../../../agent/metrics.ts";
import type { HostRunner } from "../../../agent/host/command.ts";
import type { EncapMode, TunnelType } from "../../../agent/forwarding/modes.ts";
import { podMtu } from "../../../agent/forwarding/mtu.ts";
import { PipelinePodFlowInstaller } from "../../../agent/pipeline/pod-flow-installer.ts";

export interface E2ePod {
  readonly name: string;
  readonly node: LabNode;
  readonly netns: string;
  readonly port: string;
  readonly ip: string;
  readonly mac: string;
  ofport: number;
}

export interface ClusterOptions {
  readonly labName: string;
  readonly subnets: 1 | 2;
  readonly mode: EncapMode;
  readonly tunnelType: TunnelType;
  readonly podsPerNode: number;
}

const BRIDGE = "br-int";
const GATEWAY = "sya-gw0";
const TUNNEL = "sya-tun0";
/** TCP port of the echo listener in every pod. */
export const LISTEN_PORT = 8080;

/** Python program that accepts TCP connections forever and sends "ok" on each. */
const LISTENER = `
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", ${LISTEN_PORT}))
s.listen(64)
while True:
    c, _ = s.accept()
    c.sendall(b"ok")
    c.close()
`;

export class E2eCluster {
  readonly options: ClusterOptions;
  lab!: Lab;
  api!: ApiServer;
  core!: CoreV1Api;
  kubeConfig!: KubeConfig;
  readonly agents = new Map<string, AgentDaemon>();
  readonly pods: E2ePod[] = [];
  readonly #listeners: ChildProcess[] = [];
  #dir = "";

  constructor(options: ClusterOptions) {
    this.options = options;
  }

  /** Brings up lab, API server, Node objects, agents and pods. Call stop() in t.after() even when it fails. */
  async start(): Promise<void> {
    this.#dir = await mkdtemp("/tmp/syae2e");
    await downLab({ name: this.options.labName }).catch(() => undefined);
    this.lab = await upLab({ name: this.options.labName, nodes: 3, subnets: this.options.subnets });
    this.api = await startApiServer({ port: 0 });
    const kubeconfig = join(this.#dir, "kubeconfig");
    await this.api.writeKubeconfig(kubeconfig);
    this.kubeConfig = new KubeConfig();
    this.kubeConfig.loadFromFile(kubeconfig);
    this.core = this.kubeConfig.makeApiClient(CoreV1Api);
    for (const node of this.lab.nodes) {
      await this.core.createNode({
        body: { metadata: { name: node.name }, spec: { podCIDR: podCidr(node), podCIDRs: [podCidr(node)] }, status: { addresses: [{ type: "InternalIP", address: node.underlayIp }] } },
      });
    }
    for (const node of this.lab.nodes) await this.startAgent(node);
    for (const node of this.lab.nodes) {
      for (let index = 1; index <= this.options.podsPerNode; index++) await this.addPod(node, index);
    }
  }

  /** Starts (or restarts) the agent of `node`. */
  async startAgent(node: LabNode): Promise<AgentDaemon> {
    const config = validateAgentConfig(
      {
        nodeName: node.name,
        trafficEncapMode: this.options.mode,
        ovs: { bridge: BRIDGE, datapathType: "netdev", dbSocket: node.dbSocket, runDir: node.ovsDir },
        gateway: { name: GATEWAY },
        tunnel: { name: TUNNEL, type: this.options.tunnelType },
        metrics: { enabled: false },
        informers: { backoffInitialMs: 100, backoffMaxMs: 1000 },
        cni: { socketPath: join(this.#dir, node.name, "cni.sock"), stateDir: join(this.#dir, node.name, "cni") },
      },
      `agent config of ${node.name}`,
    );
    const runner: HostRunner = (argv, options) => run(argv, { netns: node.netns, input: options?.input });
    const agent = await AgentDaemon.start({ config, logger: createSilentLogger(), kubeConfig: this.kubeConfig, run: runner, metrics: new AgentMetrics({ processMetrics: false }), nodeWaitMs: 10_000 });
    this.agents.set(node.name, agent);
    return agent;
  }

  async stopAgent(node: LabNode): Promise<void> {
    await this.agents.get(node.name)?.stop();
    this.agents.delete(node.name);
  }

  /** Creates pod `index` of `node` as the CNI server would: namespace, veth, OVS port with external_ids, flows, Pod object. */
  async addPod(node: LabNode, index: number): Promise<E2ePod> {
    const name = `p${node.index}${index}`;
    const netns = `sya-${this.options.labName}-${name}`;
    const port = `sya${node.index}${index}h`;
    const ip = `10.244.${node.index}.${10 + index}`;
    const mac = `0a:00:0a:f4:${node.index.toString(16).padStart(2, "0")}:${(10 + index).toString(16).padStart(2, "0")}`;
    const mtu = podMtu({ mode: this.options.mode, tunnelType: this.options.tunnelType, transportMtu: 1500, underlayFamily: "IPv4" });

    await createNamespaces([netns]);
    const pod: E2ePod = { name, node, netns, port, ip, mac, ofport: 0 };
    this.pods.push(pod);

    await node.exec(["ip", "link", "add", port, "mtu", String(mtu), "type", "veth", "peer", "name", "eth0", "netns", netns]);
    await run(["ip", "link", "set", "eth0", "address", mac, "mtu", String(mtu), "up"], { netns });
    await run(["ip", "link", "set", "lo", "up"], { netns });
    await run(["ip", "addr", "add", `${ip}/24`, "dev", "eth0"], { netns });
    await run(["ip", "route", "add", "default", "via", `10.244.${node.index}.1`], { netns });
    // With the userspace datapath the node's kernel also receives what the pod sends on the
    // host end. Without "arp off" it answers the pod's ARP for the gateway IP with the veth's
    // own MAC, then routes a second copy of every packet sent to that MAC.
    await node.exec(["ip", "link", "set", port, "arp", "off", "up"]);
    await disableTxChecksumOffload({ netns, devices: ["eth0"] });
    await disableTxChecksumOffload({ netns: node.netns, devices: [port] });

    await node.vsctl([
      "add-port", BRIDGE, port, "--", "set", "interface", port,
      `external_ids:switchyard-attachment=e2e/${name}/eth0`, `external_ids:ip=${ip}`, `external_ids:attached-mac=${mac}`,
      `external_ids:pod-name=${name}`, "external_ids:pod-namespace=default",
    ]);
    pod.ofport = Number((await node.vsctl(["get", "interface", port, "ofport"])).trim());
    const network = this.agents.get(node.name)?.network;
    if (network === undefined) throw new Error(`agent of ${node.name} is not running`);
    await new PipelinePodFlowInstaller(network).installPodFlows({ ofport: pod.ofport, mac, ips: [ip] });

    await this.core.createNamespacedPod({ namespace: "default", body: { metadata: { name, namespace: "default" }, spec: { nodeName: node.name, containers: [{ name: "c", image: "none" }] } } });
    const listener = spawnInNetns(["python3", "-c", LISTENER], { netns, spawnOptions: { stdio: "ignore" } });
    this.#listeners.push(listener);
    return pod;
  }

  /** Runs `argv` inside the pod's namespace. */
  exec(pod: E2ePod, argv: readonly string[]): Promise<string> {
    return run(argv, { netns: pod.netns });
  }

  async stop(): Promise<void> {
    for (const listener of this.#listeners) if (listener.pid !== undefined) listener.kill("SIGTERM");
    for (const agent of this.agents.values()) await agent.stop().catch(() => undefined);
    this.agents.clear();
    await deleteNamespaces(this.pods.map((pod) => pod.netns));
    await this.api?.close();
    await downLab({ name: this.options.labName }).catch(() => undefined);
    if (this.#dir !== "") await rm(this.#dir, { recursive: true, force: true });
  }
}

export function podCidr(node: LabNode): string {
  return `10.244.${node.index}.0/24`;
}

/** Resolves true when one ICMP echo from `pod` to `target` gets a reply within the retries. */
export async function pings(cluster: E2eCluster, pod: E2ePod, target: string, options: { attempts?: number } = {}): Promise<boolean> {
  const attempts = options.attempts ?? 3;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      await cluster.exec(pod, ["ping", "-c", "1", "-W", "1", target]);
      return true;
    } catch {
      // The first packet toward a new peer may be lost while ARP (or OVS's tunnel neighbour) resolves.
    }
  }
  return false;
}

/** Resolves true when a TCP connection from `pod` to target:LISTEN_PORT returns "ok". */
export async function connects(cluster: E2eCluster, pod: E2ePod, target: string): Promise<boolean> {
  const program = `import socket,sys\ns=socket.create_connection((sys.argv[1], ${LISTEN_PORT}), timeout=3)\nsys.stdout.write(s.recv(2).decode())`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      if ((await cluster.exec(pod, ["python3", "-c", program, target])) === "ok") return true;
    } catch {
      // Retried once: a listener may still be starting.
    }
  }
  return false;
}
