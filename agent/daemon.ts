// The node agent: connects to the local Open vSwitch and the Kubernetes API, bootstraps the
// bridge, installs the pipeline, and keeps peers, pods, flows and host routes in step with
// Node and Pod objects.
//
// Start-up order (each step needs the previous one):
//   1. own Node with a pod CIDR (waits until the controller has assigned one)
//   2. OVSDB, transport interface and MTU, bridge bootstrap, gateway address
//   3. restart round: the previous run's round is read from the bridge, this run uses the next
//   4. OpenFlow connection, pipeline and local flows, pod flows rebuilt from OVSDB in one bundle
//   5. CNI server: node IPAM on the pod CIDR, attachments rebuilt from OVSDB, the socket
//      opened (ADD returns "try again later" until step 7)
//   6. NetworkPolicy, when a controller is configured: policy client (slice cache first),
//      enforcer on this run's round, realization reports back to the controller
//   7. Node and Pod informers; once both have listed, stale pod ports are removed, the
//      previous round's flows are deleted and flow-restore-wait is cleared; ready
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { CoreV1Api, type KubeConfig, type V1Node, type V1Pod } from "@kubernetes/client-node";
import { loadKubeConfig } from "../common/kube/kubeconfig.ts";
import { ResilientInformer } from "../common/informers/resilient-informer.ts";
import { formatCidr, type Cidr } from "../common/net/cidr.ts";
import { errorMessage, type Logger } from "../common/log/logger.ts";
import { OpenFlowConnection } from "../openflow/index.ts";
import { OvsdbClient, Vswitch } from "../ovsdb/index.ts";
import { bootstrapBridge, stableMac, storedRound, storeRound, type BridgeLayout, type BridgePorts } from "./bridge/bootstrap.ts";
import { startCniService, type CniService } from "./cniserver/agent.ts";
import type { AgentConfig } from "./config/types.ts";
import { podMtu } from "./forwarding/mtu.ts";
import { readPeerNode } from "./forwarding/node-info.ts";
import { runHostCommand, type HostRunner } from "./host/command.ts";
import { configureGateway, enableForwarding, findTransportInterface, type TransportInterface } from "./host/routes.ts";
import { detectSnatBackend, type SnatBackend } from "./host/snat.ts";
import { NodeIpam } from "./ipam/allocator.ts";
import { AgentMetrics, ownerKind } from "./metrics.ts";
import { startMetricsServer, stopMetricsServer } from "./metrics-server.ts";
import { NodeNetwork } from "./node-network.ts";
import { nextRound } from "./pipeline/cookie.ts";
import { FlowSync } from "./pipeline/flow-sync.ts";
import { PipelinePodFlowInstaller } from "./pipeline/pod-flow-installer.ts";
import { followPolicyClient, PolicyEnforcer, type ApplyResult } from "./policy/index.ts";
import { policyIdMapPath, writePolicyIdMap } from "./policy/id-map.ts";
import { PolicyClient } from "./policyclient/client.ts";
import { recordedPodPorts, stalePodPorts } from "./pod-ports.ts";

export interface AgentDaemonOptions {
  readonly config: AgentConfig;
  readonly logger: Logger;
  /** Node name; default config.nodeName, else the NODE_NAME environment variable. */
  readonly nodeName?: string;
  /** Default: loaded from config.kubeconfig. */
  readonly kubeConfig?: KubeConfig;
  /** Default: runs commands on this machine. */
  readonly run?: HostRunner;
  readonly metrics?: AgentMetrics;
  /** How long to wait for the Node to have a pod CIDR, in milliseconds. Default 300000. */
  readonly nodeWaitMs?: number;
}

export class AgentStartError extends Error {
  readonly code = "AGENT_START_FAILED";
}

const OVS_TIMEOUT_MS = 10_000;

/** One running agent. start() resolves once every flow is installed; stop() is idempotent. */
export class AgentDaemon {
  readonly metrics: AgentMetrics;
  readonly nodeName: string;
  readonly #options: AgentDaemonOptions;
  readonly #logger: Logger;
  readonly #run: HostRunner;
  #client: OvsdbClient | undefined;
  #vswitch: Vswitch | undefined;
  #connection: OpenFlowConnection | undefined;
  #network: NodeNetwork | undefined;
  #nodeInformer: ResilientInformer<V1Node> | undefined;
  #podInformer: ResilientInformer<V1Pod> | undefined;
  #metricsServer: Server | undefined;
  #metricsPort: number | undefined;
  #cni: CniService | undefined;
  #policy: { client: PolicyClient; enforcer: PolicyEnforcer; unfollow: () => void } | undefined;
  #round = 0;
  #ready = false;
  #stopped = false;

  private constructor(options: AgentDaemonOptions, nodeName: string) {
    this.#options = options;
    this.#logger = options.logger.child({ node: nodeName });
    this.#run = options.run ?? runHostCommand;
    this.metrics = options.metrics ?? new AgentMetrics();
    this.nodeName = nodeName;
  }

  /** Starts the agent; on failure everything opened so far is closed again before it rejects. */
  static async start(options: AgentDaemonOptions): Promise<AgentDaemon> {
    const nodeName = options.nodeName ?? (options.config.nodeName !== "" ? options.config.nodeName : (process.env["NODE_NAME"] ?? ""));
    if (nodeName === "") throw new AgentStartError("node name is missing: set nodeName in the configuration file or the NODE_NAME environment variable");
    const daemon = new AgentDaemon(options, nodeName);
    try {
      await daemon.#start();
    } catch (error) {
      await daemon.stop();
      throw error;
    }
    return daemon;
  }

  /** The restart round of this run. */
  get round(): number {
    return this.#round;
  }

  get metricsPort(): number | undefined {
    return this.#metricsPort;
  }

  get network(): NodeNetwork | undefined {
    return this.#network;
  }

  /** The NetworkPolicy enforcer; undefined when the configuration names no controller. */
  get policyEnforcer(): PolicyEnforcer | undefined {
    return this.#policy?.enforcer;
  }

  /**
   * Whether the agent serves CNI ADD: start-up has finished and both OVS connections are up.
   * The CNI server's STATUS reports it.
   */
  get ready(): boolean {
    return this.#ready && !this.#stopped && this.#client?.connected === true && this.#connection?.isConnected === true;
  }

  async #start(): Promise<void> {
    const { config } = this.#options;
    const kubeConfig = this.#options.kubeConfig ?? loadKubeConfig(config.kubeconfig);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const self = await this.#waitForPodCidr(core);
    const podCIDR = self.podCIDR;
    this.#logger.info("node pod CIDR found", { cidr: self.podCIDRText, ip: self.transportIP });

    this.#client = await OvsdbClient.connect(`unix:${config.ovs.dbSocket}`, { defaultTimeoutMs: OVS_TIMEOUT_MS });
    this.#vswitch = await Vswitch.open(this.#client);
    const transport = await this.#transportInterface(self.transportIP);
    const mtu = config.mtu !== 0 ? config.mtu : podMtu({ mode: config.trafficEncapMode, tunnelType: config.tunnel.type, transportMtu: transport.mtu, underlayFamily: transport.subnet.family });
    const layout = this.#layout(mtu);
    const ports = await bootstrapBridge(this.#vswitch, layout, { timeoutMs: OVS_TIMEOUT_MS });
    this.#logger.info("bridge ready", { bridge: config.ovs.bridge, ofport: ports.gateway.ofport, mtu });
    const gatewayIP = await configureGateway(this.#run, { name: config.gateway.name, podCIDR, mtu });
    await enableForwarding(this.#run);

    const previousRound = storedRound(this.#vswitch, config.ovs.bridge);
    this.#round = nextRound(previousRound);
    this.#logger.info("flow round chosen", { round: this.#round, previousRound });

    this.#connection = await OpenFlowConnection.connect({ address: `unix:${config.ovs.runDir}/${config.ovs.bridge}.mgmt` });
    const flowSync = new FlowSync({
      connection: this.#connection,
      onSync: (event) => this.metrics.flowSyncDuration.observe({ owner: ownerKind(event.owner) }, event.seconds),
    });
    this.#watchConnections(flowSync, layout, { podCIDR, mtu });
    this.metrics.onScrape(() => this.#refreshGauges(flowSync));

    const snatBackend = await this.#snatBackend();
    this.#network = new NodeNetwork({
      nodeName: this.nodeName,
      mode: config.trafficEncapMode,
      podCIDR,
      localSubnets: [transport.subnet],
      gatewayName: config.gateway.name,
      flowContext: flowContextOf(this.#round, ports, gatewayIP),
      flowSync,
      run: this.#run,
      snatBackend,
      logger: this.#logger,
    });
    await this.#network.start();
    const restored = await this.#restorePods();
    this.#logger.info("pod flows rebuilt from OVSDB", { count: restored });
    await this.#startCni({ podCIDR, mtu, network: this.#network });
    await this.#startPolicy();

    await this.#startInformers(kubeConfig, core);
    await this.#removeStalePorts();
    if (previousRound !== 0 && previousRound !== this.#round) await flowSync.deleteRound(previousRound);
    await storeRound(this.#vswitch, config.ovs.bridge, this.#round);
    await this.#vswitch.setOpenVSwitchOtherConfig({ "flow-restore-wait": null });
    if (config.metrics.enabled) {
      const { server, port } = await startMetricsServer(this.metrics, config.metrics);
      this.#metricsServer = server;
      this.#metricsPort = port;
    }
    this.#ready = true;
    this.#logger.info("agent ready", { round: this.#round, metricsPort: this.#metricsPort });
  }

  /**
   * Opens the node IPAM on the pod CIDR and the CNI socket. Only the CIDR the pipeline uses
   * (IPv4 when the Node has one) is given to the IPAM, because the gateway and the pipeline
   * are single-family.
   */
  async #startCni(options: { podCIDR: Cidr; mtu: number; network: NodeNetwork }): Promise<void> {
    const { config } = this.#options;
    const vswitch = this.#vswitch;
    if (vswitch === undefined) return;
    const ipam = NodeIpam.open({ podCidrs: [formatCidr(options.podCIDR)], storePath: join(config.cni.stateDir, "ipam.json") });
    this.#cni = await startCniService({
      vswitch,
      bridge: config.ovs.bridge,
      flows: new PipelinePodFlowInstaller(options.network),
      ipam,
      stateDir: config.cni.stateDir,
      mtu: options.mtu,
      socketPath: config.cni.socketPath,
      logger: this.#logger,
      isReady: () => this.ready,
      disableTxChecksumOffload: config.cni.disableTxChecksumOffload,
      onRequest: (event) => {
        this.metrics.cniRequests.inc({ command: event.command, result: event.result });
        this.metrics.cniLatency.observe({ command: event.command, result: event.result }, event.seconds);
      },
    });
  }

  /**
   * Starts NetworkPolicy enforcement when the configuration names a controller: the policy
   * client (which loads its slice cache first), the enforcer on this run's round, and the
   * realization reports. Without a controller the policy tables keep their allow-all flows.
   */
  async #startPolicy(): Promise<void> {
    const { controller } = this.#options.config;
    const connection = this.#connection;
    if (connection === undefined) return;
    if (controller.url === "") {
      this.#logger.warn("no controller configured: NetworkPolicy is not enforced on this node; set controller.url, caFile, certFile and keyFile to enforce it");
      return;
    }
    const client = new PolicyClient({
      nodeName: this.nodeName,
      controllerUrl: controller.url,
      tls: { ca: readPemFile("controller.caFile", controller.caFile), cert: readPemFile("controller.certFile", controller.certFile), key: readPemFile("controller.keyFile", controller.keyFile) },
      cacheFile: controller.cacheFile,
      logger: this.#logger,
    });
    const enforcer = new PolicyEnforcer({ sender: connection, round: this.#round, logger: this.#logger });
    const idMapPath = policyIdMapPath(controller.cacheFile);
    const unfollow = followPolicyClient({
      client,
      enforcer,
      onApplied: (outcome) => {
        if (outcome.error === undefined) this.#writePolicyIdMap(idMapPath, enforcer, outcome.generation);
        this.#reportRealization(client, outcome);
      },
    });
    this.#policy = { client, enforcer, unfollow };
    await client.start();
    this.#logger.info("NetworkPolicy enforcement started", { controller: controller.url });
  }

  /** Writes which rule or pod each installed policy id belongs to; a failed write is logged, enforcement goes on. */
  #writePolicyIdMap(path: string, enforcer: PolicyEnforcer, generation: number): void {
    try {
      writePolicyIdMap(path, { generation, owners: enforcer.owners() });
    } catch (error) {
      this.#logger.warn("policy id map not written", { file: path, generation, error: errorMessage(error) });
    }
  }

  /** Reports the applied slice's policies to the controller; a report for a superseded generation is skipped. */
  #reportRealization(client: PolicyClient, outcome: { generation: number; result?: ApplyResult; error?: unknown }): void {
    const slice = client.slice;
    if (slice.generation !== outcome.generation) return;
    const ids = slice.policies.map((policy) => policy.id);
    // The enforcer logs each successful install itself.
    if (outcome.error !== undefined) {
      this.#logger.error("NetworkPolicy slice not installed", { generation: outcome.generation, policies: ids.length, error: errorMessage(outcome.error) });
    }
    const report =
      outcome.error === undefined
        ? { generation: outcome.generation, realized: ids, failed: [] }
        : { generation: outcome.generation, realized: [], failed: ids.map((policyId) => ({ policyId, message: errorMessage(outcome.error) })) };
    client.reportStatus(report).catch((error: unknown) => this.#logger.warn("NetworkPolicy status report failed", { generation: outcome.generation, error: errorMessage(error) }));
  }

  /** Polls the own Node until it has a pod CIDR and an InternalIP. */
  async #waitForPodCidr(core: CoreV1Api): Promise<{ podCIDR: Cidr; podCIDRText: string; transportIP: string }> {
    const deadline = Date.now() + (this.#options.nodeWaitMs ?? 300_000);
    let lastReason = "";
    while (!this.#stopped) {
      try {
        const node = await core.readNode({ name: this.nodeName });
        const read = readPeerNode(node);
        if (read.ok) {
          const cidr = read.node.podCIDRs.find((entry) => entry.family === "IPv4") ?? read.node.podCIDRs[0];
          if (cidr !== undefined) return { podCIDR: cidr, podCIDRText: node.spec?.podCIDR ?? "", transportIP: read.node.transportIP };
        }
        lastReason = read.ok ? "no pod CIDR" : read.detail;
      } catch (error) {
        lastReason = errorMessage(error);
      }
      if (Date.now() > deadline) throw new AgentStartError(`node ${this.nodeName} is not usable: ${lastReason}; check that the Node exists and the controller assigned spec.podCIDR`);
      this.#logger.info("waiting for the node's pod CIDR", { reason: lastReason });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    throw new AgentStartError("agent stopped while waiting for the node's pod CIDR");
  }

  async #transportInterface(address: string): Promise<TransportInterface> {
    const found = await findTransportInterface(this.#run, { address, name: this.#options.config.transportInterface });
    if (found === undefined) {
      throw new AgentStartError(`no interface found with the node's InternalIP ${address}: set transportInterface, or fix the Node's status.addresses`);
    }
    return found;
  }

  #layout(mtu: number): BridgeLayout {
    const { config } = this.#options;
    const gateway = { name: config.gateway.name, ofport: config.gateway.ofport, mtu, mac: stableMac(this.nodeName) };
    if (config.trafficEncapMode === "noEncap") return { bridge: config.ovs.bridge, datapathType: config.ovs.datapathType, gateway };
    return { bridge: config.ovs.bridge, datapathType: config.ovs.datapathType, gateway, tunnel: { ...config.tunnel } };
  }

  async #snatBackend(): Promise<SnatBackend | undefined> {
    const snat = this.#options.config.snat;
    if (!snat.enabled) return undefined;
    return snat.backend === "auto" ? detectSnatBackend(this.#run) : snat.backend;
  }

  /** Replays flows after ovs-vswitchd restarts and re-bootstraps after ovsdb-server restarts. */
  #watchConnections(flowSync: FlowSync, layout: BridgeLayout, gateway: { podCIDR: Cidr; mtu: number }): void {
    const connection = this.#connection;
    const client = this.#client;
    const vswitch = this.#vswitch;
    if (connection === undefined || client === undefined || vswitch === undefined) return;
    connection.on("disconnected", ({ error }) => {
      this.metrics.ovsConnected.set({ protocol: "openflow" }, 0);
      this.#logger.warn("OpenFlow connection lost", { error: error === undefined ? undefined : errorMessage(error) });
    });
    connection.on("reconnected", () => {
      this.metrics.ovsConnected.set({ protocol: "openflow" }, 1);
      this.metrics.ovsReconnects.inc({ protocol: "openflow" });
      this.#logger.info("OpenFlow connection back, replaying flows");
      // A restarted ovs-vswitchd also recreated the gateway device, which lost its address
      // and the routes through it.
      flowSync
        .replay()
        .then(() => this.#policy?.enforcer.replay())
        .then(() => configureGateway(this.#run, { name: layout.gateway.name, podCIDR: gateway.podCIDR, mtu: gateway.mtu }))
        .then(() => this.#network?.resync())
        .then(() => vswitch.setOpenVSwitchOtherConfig({ "flow-restore-wait": null }))
        .then(() => this.#logger.info("flows replayed"))
        .catch((error: unknown) => this.#logger.error("flow replay failed", { error: errorMessage(error) }));
    });
    client.on("disconnect", () => {
      this.metrics.ovsConnected.set({ protocol: "ovsdb" }, 0);
      this.#logger.warn("OVSDB connection lost");
    });
    client.on("reconnect", () => {
      this.metrics.ovsReconnects.inc({ protocol: "ovsdb" });
      this.#logger.info("OVSDB connection back");
    });
    vswitch.replica.on("synced", () => {
      if (this.#stopped || this.#network === undefined) return;
      this.metrics.ovsConnected.set({ protocol: "ovsdb" }, 1);
      // After a reconnect the database may be new or old: ensure the bridge again. The
      // ensure calls find existing rows through the replica, so nothing is duplicated.
      bootstrapBridge(vswitch, layout, { timeoutMs: OVS_TIMEOUT_MS })
        .then(() => this.#logger.info("bridge checked after OVSDB resync"))
        .catch((error: unknown) => this.#logger.error("bridge check after OVSDB resync failed", { error: errorMessage(error) }));
    });
    this.metrics.ovsConnected.set({ protocol: "openflow" }, 1);
    this.metrics.ovsConnected.set({ protocol: "ovsdb" }, 1);
  }

  #refreshGauges(flowSync: FlowSync): void {
    this.metrics.flows.reset();
    for (const [table, count] of flowSync.countByTable()) this.metrics.flows.set({ table }, count);
    const routes = this.#network?.routes() ?? [];
    this.metrics.peerRoutes.set({ via: "tunnel" }, routes.filter((route) => route.via === "tunnel").length);
    this.metrics.peerRoutes.set({ via: "underlay" }, routes.filter((route) => route.via === "underlay").length);
  }

  /**
   * Installs the flows of every pod port recorded in OVSDB in one bundle and returns their
   * number. All-or-nothing: when the switch rejects the bundle, no pod flow of this round is
   * installed (the previous run's stay) and the start fails with AgentStartError naming the
   * count and the cause.
   */
  async #restorePods(): Promise<number> {
    const vswitch = this.#vswitch;
    const network = this.#network;
    if (vswitch === undefined || network === undefined) return 0;
    const ports = recordedPodPorts(vswitch, this.#options.config.ovs.bridge);
    try {
      await network.setPods(ports);
    } catch (error) {
      throw new AgentStartError(
        `failed to install the flows of ${ports.length} pod ports recorded in OVSDB (one bundle, so none was installed): ${errorMessage(error)}; ` +
          "if the error names a flow, decode its cookie with switchyard-agent --decode-cookie to find the pod's ofport, then fix or delete that port and restart the agent",
        { cause: error },
      );
    }
    return ports.length;
  }

  /**
   * Deletes pod ports whose Pod no longer exists on this node: first their flows, all in one
   * bundle, then the ports one OVSDB transaction each.
   */
  async #removeStalePorts(): Promise<void> {
    const vswitch = this.#vswitch;
    const network = this.#network;
    const pods = this.#podInformer;
    if (vswitch === undefined || network === undefined || pods === undefined) return;
    const live = new Set(
      pods.list().filter((pod) => pod.spec?.nodeName === this.nodeName).map((pod) => `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`),
    );
    const stale = stalePodPorts(recordedPodPorts(vswitch, this.#options.config.ovs.bridge), live);
    await network.removePods(stale.map((port) => port.ofport));
    for (const port of stale) {
      await vswitch.deletePort({ bridge: this.#options.config.ovs.bridge, name: port.portName });
      this.#logger.info("stale pod port removed", { namespace: port.podNamespace, pod: port.podName, ofport: port.ofport });
    }
  }

  async #startInformers(kubeConfig: KubeConfig, core: CoreV1Api): Promise<void> {
    const { config } = this.#options;
    const common = {
      kubeConfig,
      backoffInitialMs: config.informers.backoffInitialMs,
      backoffMaxMs: config.informers.backoffMaxMs,
      resyncMs: config.informers.resyncSeconds * 1000,
      logger: this.#logger,
      metrics: this.metrics.informers,
    };
    const nodes = new ResilientInformer<V1Node>({
      ...common,
      kind: "Node",
      path: "/api/v1/nodes",
      list: (selectors) => core.listNode(selectors),
      handlers: { upsert: (node) => this.#onNode(node), delete: (node) => this.#onNodeDeleted(node) },
    });
    // Only this node's Pods, because the cache only feeds the stale port removal. A Pod created
    // unscheduled enters the selector as an add once the scheduler binds it here, and the API
    // server rejects any later change of spec.nodeName.
    const pods = new ResilientInformer<V1Pod>({
      ...common,
      kind: "Pod",
      path: "/api/v1/pods",
      fieldSelector: `spec.nodeName=${this.nodeName}`,
      list: (selectors) => core.listPodForAllNamespaces(selectors),
      handlers: { upsert: () => undefined, delete: () => undefined },
    });
    this.#nodeInformer = nodes;
    this.#podInformer = pods;
    await Promise.all([nodes.start(), pods.start()]);
    await this.#network?.peersComplete();
  }

  #onNode(node: V1Node): void {
    const network = this.#network;
    if (network === undefined || node.metadata?.name === this.nodeName) return;
    const read = readPeerNode(node);
    if (!read.ok) {
      this.#logger.debug("node skipped", { peer: node.metadata?.name, reason: read.detail });
      return;
    }
    network.upsertPeer(read.node).catch((error: unknown) => this.#logger.error("peer update failed", { peer: read.node.name, error: errorMessage(error) }));
  }

  #onNodeDeleted(node: V1Node): void {
    const name = node.metadata?.name;
    if (name === undefined || this.#network === undefined) return;
    this.#network.deletePeer(name).catch((error: unknown) => this.#logger.error("peer removal failed", { peer: name, error: errorMessage(error) }));
  }

  /** Stops informers and closes connections. Flows, ports and routes stay, so pod traffic keeps flowing. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#ready = false;
    this.#policy?.unfollow();
    await this.#policy?.client.stop().catch(() => undefined);
    await this.#cni?.server.close().catch(() => undefined);
    await this.#nodeInformer?.stop().catch(() => undefined);
    await this.#podInformer?.stop().catch(() => undefined);
    if (this.#metricsServer !== undefined) await stopMetricsServer(this.#metricsServer);
    await this.#connection?.close();
    await this.#vswitch?.close().catch(() => undefined);
    this.#client?.close();
    this.#logger.info("agent stopped");
  }
}

/** Reads one of the controller's TLS files; the error names the configuration field. */
function readPemFile(field: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new AgentStartError(`failed to read ${field} ${path}: ${errorMessage(error)}; fix the path, or issue the files with switchyard-controller issue-cert`, { cause: error });
  }
}

function flowContextOf(round: number, ports: BridgePorts, gatewayIP: string) {
  return { round, gateway: { ofport: ports.gateway.ofport, mac: ports.gateway.mac, ip: gatewayIP }, tunnel: ports.tunnel };
}
