// The controller process: informers feed the NetworkPolicy computer and node IPAM, and the
// distribution API streams each node's slice to its agent.
//
// Start-up order matters twice. First, a controller whose ports are taken must fail before
// its IPAM patches any Node, so start() reserves the API port and binds the metrics port
// before any informer starts. Second, agents must receive a complete first snapshot: the
// API serves requests only after every informer has listed its objects and the computer has
// seen all of them. An early, partial snapshot would make agents drop policies for a moment
// after each controller restart. The reservation is handed to the API server just before it
// listens.
import { randomUUID } from "node:crypto";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from "node:net";
import type { KubeConfig, V1Namespace, V1NetworkPolicy, V1Node, V1Pod } from "@kubernetes/client-node";
import { loadKubeConfig } from "../common/kube/kubeconfig.ts";
import { ensureServerCredentials } from "./certs/openssl.ts";
import type { ControllerConfig } from "./config/types.ts";
import { DistributionServer } from "./distribution/server.ts";
import { ClusterInformers } from "./informers/cluster-informers.ts";
import { NodeCidrAllocator } from "./ipam/allocator.ts";
import { NodeIpamController } from "./ipam/node-ipam.ts";
import { KubeNodeWriter } from "./kube/node-writer.ts";
import { errorMessage, type Logger } from "../common/log/logger.ts";
import { ControllerMetrics } from "./metrics.ts";
import { NetworkPolicyComputer } from "./networkpolicy/index.ts";

export interface ControllerDaemonOptions {
  readonly config: ControllerConfig;
  readonly logger: Logger;
  /** Overrides config.kubeconfig (tests build one in memory). */
  readonly kubeConfig?: KubeConfig;
  /** Default: a random UUID, new for every process. */
  readonly instanceId?: string;
  /** Default: a new registry with Node.js process metrics. */
  readonly metrics?: ControllerMetrics;
}

/** A running controller. Create with ControllerDaemon.start(); stop() is idempotent. */
export class ControllerDaemon {
  readonly instanceId: string;
  readonly computer: NetworkPolicyComputer;
  readonly server: DistributionServer;
  readonly metrics: ControllerMetrics;
  readonly ipam: NodeIpamController | undefined;
  private readonly informers: ClusterInformers;
  private readonly logger: Logger;
  private metricsServer: HttpServer | undefined;
  private live = false;
  private stopped = false;
  private boundApiPort = 0;
  private boundMetricsPort: number | undefined;

  private constructor(options: { daemon: ControllerDaemonOptions; kubeConfig: KubeConfig; tls: { ca: Buffer; cert: Buffer; key: Buffer } }) {
    const { config, logger } = options.daemon;
    this.logger = logger;
    this.instanceId = options.daemon.instanceId ?? randomUUID();
    this.metrics = options.daemon.metrics ?? new ControllerMetrics();
    this.computer = new NetworkPolicyComputer();
    this.server = new DistributionServer({
      source: this.computer,
      tls: options.tls,
      bindAddress: config.api.bindAddress,
      port: config.api.port,
      eventLogSize: config.api.eventLogSize,
      heartbeatMs: config.api.heartbeatSeconds * 1000,
      maxBufferedBytes: config.api.maxBufferedBytes,
      instanceId: this.instanceId,
      logger,
      metrics: this.metrics,
    });
    // Subscribed before the first input, so the server's event logs see every generation.
    this.computer.onUpdate((node, events) => this.server.publish(node, events));
    this.ipam = config.allocateNodeCIDRs
      ? new NodeIpamController({
          allocator: new NodeCidrAllocator(config),
          writer: new KubeNodeWriter(options.kubeConfig),
          logger,
          metrics: this.metrics,
          retryInitialMs: config.informers.backoffInitialMs,
          retryMaxMs: config.informers.backoffMaxMs,
        })
      : undefined;
    this.informers = new ClusterInformers({
      kubeConfig: options.kubeConfig,
      backoffInitialMs: config.informers.backoffInitialMs,
      backoffMaxMs: config.informers.backoffMaxMs,
      resyncMs: config.informers.resyncSeconds * 1000,
      logger,
      metrics: this.metrics,
      handlers: {
        namespaces: { upsert: (ns) => this.whenLive(() => this.computer.upsertNamespace(ns)), delete: (ns) => this.whenLive(() => this.computer.deleteNamespace(nameOf(ns))) },
        pods: { upsert: (pod) => this.whenLive(() => this.computer.upsertPod(pod)), delete: (pod) => this.whenLive(() => this.computer.deletePod(namespaceOf(pod), nameOf(pod))) },
        policies: { upsert: (policy) => this.whenLive(() => this.upsertPolicy(policy)), delete: (policy) => this.whenLive(() => this.computer.deletePolicy(namespaceOf(policy), nameOf(policy))) },
        nodes: { upsert: (node) => this.ipam?.upsert(node), delete: (node) => this.deleteNode(node) },
      },
    });
  }

  /**
   * Loads credentials, lists the cluster, then starts the distribution API and metrics
   * endpoint. Resolves once agents can connect. Waits (retrying with backoff) while the
   * Kubernetes API is unreachable.
   */
  static async start(options: ControllerDaemonOptions): Promise<ControllerDaemon> {
    const { config, logger } = options;
    const kubeConfig = options.kubeConfig ?? loadKubeConfig(config.kubeconfig);
    const credentials = await ensureServerCredentials(config.tls);
    if (credentials.generated.length > 0) logger.info("generated TLS files", { dir: config.tls.dir, files: credentials.generated });
    const daemon = new ControllerDaemon({ daemon: options, kubeConfig, tls: credentials });
    try {
      await daemon.run(config);
    } catch (error) {
      // Informers and IPAM retries would otherwise keep running, and keep patching Nodes,
      // in a process that reported a failed start.
      await daemon.stop();
      throw error;
    }
    return daemon;
  }

  get apiPort(): number {
    return this.boundApiPort;
  }

  get metricsPort(): number | undefined {
    return this.boundMetricsPort;
  }

  /** Stops informers, IPAM retries and both servers. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ipam?.stop();
    await this.informers.stop();
    await this.server.close();
    const metricsServer = this.metricsServer;
    if (metricsServer !== undefined) {
      metricsServer.closeAllConnections();
      await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
    }
    this.logger.info("controller stopped", { instance: this.instanceId });
  }

  private async run(config: ControllerConfig): Promise<void> {
    this.logger.info("controller starting", { instance: this.instanceId });
    const reservation = await reservePort({ port: config.api.port, bindAddress: config.api.bindAddress });
    try {
      if (config.metrics.enabled) this.boundMetricsPort = await this.startMetrics(config.metrics);
      this.throwIfStopped();
      await this.informers.start();
      this.throwIfStopped();
      this.feedInitialState();
      await this.ipam?.rebuild(this.informers.nodes.list());
      this.throwIfStopped();
    } finally {
      await closeServer(reservation);
    }
    this.boundApiPort = await this.server.listen();
    this.logger.info("controller ready", { instance: this.instanceId, apiPort: this.boundApiPort, metricsPort: this.boundMetricsPort });
  }

  private throwIfStopped(): void {
    if (this.stopped) throw new Error("controller stopped while starting");
  }

  /** Gives the computer every listed object in one batch, then lets informer events through. */
  private feedInitialState(): void {
    this.computer.runBatch(() => {
      for (const ns of this.informers.namespaces.list()) this.applyLogged(() => this.computer.upsertNamespace(ns), { namespace: nameOf(ns) });
      for (const pod of this.informers.pods.list()) this.applyLogged(() => this.computer.upsertPod(pod), { namespace: namespaceOf(pod), pod: nameOf(pod) });
      for (const policy of this.informers.policies.list()) this.upsertPolicy(policy);
    });
    this.live = true;
    const stats = this.computer.stats();
    this.logger.info("initial policy computation done", { pods: stats.pods, policies: stats.policies, groups: stats.groups });
  }

  /** Runs one input of the initial batch; a failure is logged so the other objects still load. */
  private applyLogged(apply: () => void, fields: Record<string, string>): void {
    try {
      apply();
    } catch (error) {
      this.logger.error("failed to apply object to the policy computation", { ...fields, error: errorMessage(error) });
    }
  }

  private whenLive(apply: () => void): void {
    if (this.live) apply();
  }

  private upsertPolicy(policy: V1NetworkPolicy): void {
    try {
      this.computer.upsertPolicy(policy);
    } catch (error) {
      // The computer keeps the policy's previous valid version, if any, until a valid update arrives.
      this.logger.error("NetworkPolicy rejected", { namespace: namespaceOf(policy), policy: nameOf(policy), error: errorMessage(error) });
    }
  }

  private deleteNode(node: V1Node): void {
    this.ipam?.delete(node);
    this.server.forgetNode(nameOf(node));
  }

  private async startMetrics(options: { bindAddress: string; port: number }): Promise<number> {
    const server = createHttpServer((request, response) => {
      if (request.url === "/metrics" && request.method === "GET") {
        this.metrics
          .render()
          .then((text) => {
            response.writeHead(200, { "Content-Type": this.metrics.registry.contentType });
            response.end(text);
          })
          .catch((error: unknown) => {
            response.writeHead(500, { "Content-Type": "text/plain" });
            response.end(`failed to render metrics: ${errorMessage(error)}\n`);
          });
        return;
      }
      response.writeHead(404, { "Content-Type": "text/plain" });
      response.end("only GET /metrics is served here\n");
    });
    this.metricsServer = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error) => reject(new Error(`cannot listen on metrics.bindAddress ${options.bindAddress} metrics.port ${options.port}: ${errorMessage(error)}`, { cause: error })));
      server.listen(options.port, options.bindAddress, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }
}

/**
 * Binds a plain TCP socket to the API address, so a port in use by another process fails the
 * start before any informer runs. Port 0 needs no reservation and returns undefined.
 */
async function reservePort(options: { port: number; bindAddress: string }): Promise<NetServer | undefined> {
  if (options.port === 0) return undefined;
  const server = createNetServer();
  // A connection that reaches the reservation is closed at once; agents retry with backoff.
  server.on("connection", (socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(new Error(`cannot listen on api.bindAddress ${options.bindAddress} api.port ${options.port}: ${errorMessage(error)}`, { cause: error })));
    server.listen(options.port, options.bindAddress, () => resolve());
  });
  return server;
}

// NOTE: between closing the reservation and DistributionServer.listen() another process
// could take the port; start() then still fails and stops, but IPAM may have patched Nodes.
async function closeServer(server: NetServer | undefined): Promise<void> {
  if (server === undefined) return;
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function nameOf(object: V1Pod | V1Namespace | V1NetworkPolicy | V1Node): string {
  return object.metadata?.name ?? "";
}

function namespaceOf(object: V1Pod | V1NetworkPolicy): string {
  return object.metadata?.namespace ?? "";
}
