// Shared set-up of the controller integration tests: a local API server, a controller
// daemon in this process, node certificates, and agent clients. Everything lives in one
// temporary folder and listens on 127.0.0.1 only.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import { CoreV1Api, KubeConfig, NetworkingV1Api, type V1NetworkPolicy, type V1Pod } from "@kubernetes/client-node";
import { PolicyClient, type SliceChange } from "../../../agent/policyclient/client.ts";
import { issueClientCertificate } from "../../../controller/certs/openssl.ts";
import { parseConfig } from "../../../controller/config/load.ts";
import type { ControllerConfig } from "../../../controller/config/types.ts";
import { ControllerDaemon } from "../../../controller/daemon.ts";
import { createLogger, createSilentLogger, type Logger } from "../../../common/log/logger.ts";
import { ControllerMetrics } from "../../../controller/metrics.ts";
import type { HelloMessage } from "../../../controller/distribution/protocol.ts";
import { startApiServer, type ApiServer } from "../../apiserver/index.ts";

const run = promisify(execFile);

/** Set SYC_TEST_LOG=debug to see the controller's log lines on stderr. */
function testLogger(): Logger {
  const level = process.env.SYC_TEST_LOG;
  return level === "debug" || level === "info" ? createLogger({ level, format: "text" }) : createSilentLogger();
}

export class ControllerHarness {
  readonly dir: string;
  apiServer: ApiServer | undefined;
  apiPort = 0;
  daemon: ControllerDaemon | undefined;
  config: ControllerConfig | undefined;
  readonly kubeconfigPath: string;
  private readonly clients: PolicyClient[] = [];

  private constructor(dir: string) {
    this.dir = dir;
    this.kubeconfigPath = join(dir, "kubeconfig");
  }

  static async create(): Promise<ControllerHarness> {
    const harness = new ControllerHarness(await mkdtemp(join(tmpdir(), "syc-ctrl-")));
    await harness.startApiServer();
    return harness;
  }

  /** Starts (or restarts, on the same port and state file) the API server. */
  async startApiServer(): Promise<ApiServer> {
    const server = await startApiServer({ port: this.apiPort, stateFile: join(this.dir, "apiserver-state.json"), stateWriteDelayMs: 10, bookmarkIntervalMs: 1000 });
    this.apiServer = server;
    this.apiPort = server.port;
    await server.writeKubeconfig(this.kubeconfigPath);
    await allowPlainHttp(this.kubeconfigPath);
    return server;
  }

  async stopApiServer(): Promise<void> {
    await this.apiServer?.close();
    this.apiServer = undefined;
  }

  get api(): ApiServer {
    if (this.apiServer === undefined) throw new Error("API server is not running");
    return this.apiServer;
  }

  kubeConfig(): KubeConfig {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(this.kubeconfigPath);
    return kubeConfig;
  }

  core(): CoreV1Api {
    return this.kubeConfig().makeApiClient(CoreV1Api);
  }

  networking(): NetworkingV1Api {
    return this.kubeConfig().makeApiClient(NetworkingV1Api);
  }

  /** Starts a controller; the API port stays the same across restarts so agents can reconnect. */
  async startController(extra = ""): Promise<ControllerDaemon> {
    const apiPort = this.daemon?.apiPort ?? this.config?.api.port ?? 0;
    const yaml = [
      `kubeconfig: ${this.kubeconfigPath}`,
      "clusterCIDRs: [10.244.0.0/16, 'fd00:10::/48']",
      `api: {bindAddress: 127.0.0.1, port: ${apiPort}, heartbeatSeconds: 1, eventLogSize: 1000}`,
      `tls: {dir: ${join(this.dir, "tls")}, serverNames: [127.0.0.1]}`,
      "metrics: {bindAddress: 127.0.0.1, port: 0}",
      "informers: {resyncSeconds: 0, backoffInitialMs: 50, backoffMaxMs: 400}",
      extra,
    ].join("\n");
    const config = parseConfig(yaml, "harness.yaml");
    this.daemon = await ControllerDaemon.start({ config, logger: testLogger(), metrics: new ControllerMetrics({ processMetrics: false }) });
    this.config = { ...config, api: { ...config.api, port: this.daemon.apiPort } };
    return this.daemon;
  }

  async stopController(): Promise<void> {
    await this.daemon?.stop();
    this.daemon = undefined;
  }

  get controllerUrl(): string {
    return `https://127.0.0.1:${this.config?.api.port ?? 0}`;
  }

  /** Issues a node certificate with the controller's CA and returns the PEM buffers. */
  async nodeCredentials(node: string, role: "node" | "operator" = "node"): Promise<{ ca: Buffer; cert: Buffer; key: Buffer }> {
    const out = join(this.dir, `cert-${role}-${node}`);
    await issueClientCertificate({ caDir: join(this.dir, "tls"), outDir: out, role, name: node, validityDays: 1 });
    const [ca, cert, key] = await Promise.all([readFile(join(out, "ca.crt")), readFile(join(out, "client.crt")), readFile(join(out, "client.key"))]);
    return { ca, cert, key };
  }

  /** Creates an agent client recording its changes and hellos; stopped by close(). */
  async agent(node: string, options: { cacheFile?: string; credentials?: { ca: Buffer; cert: Buffer; key: Buffer } } = {}): Promise<AgentProbe> {
    const credentials = options.credentials ?? (await this.nodeCredentials(node));
    const client = new PolicyClient({
      nodeName: node,
      controllerUrl: this.controllerUrl,
      tls: credentials,
      cacheFile: options.cacheFile ?? join(this.dir, `cache-${node}.json`),
      backoffInitialMs: 50,
      backoffMaxMs: 300,
      cacheWriteDelayMs: 10,
    });
    this.clients.push(client);
    return new AgentProbe(client);
  }

  async kubectl(args: readonly string[]): Promise<string> {
    const { stdout } = await run("kubectl", ["--kubeconfig", this.kubeconfigPath, ...args], { timeout: 20_000 });
    return stdout;
  }

  async kubectlApply(manifest: string): Promise<void> {
    const path = join(this.dir, `manifest-${Date.now()}-${Math.random().toString(16).slice(2)}.yaml`);
    await writeFile(path, manifest);
    await this.kubectl(["apply", "-f", path]);
  }

  async close(): Promise<void> {
    for (const client of this.clients) await client.stop();
    await this.stopController();
    await this.stopApiServer();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A PolicyClient with a record of what it emitted. */
export class AgentProbe {
  readonly client: PolicyClient;
  readonly changes: SliceChange[] = [];
  readonly hellos: HelloMessage[] = [];

  constructor(client: PolicyClient) {
    this.client = client;
    client.on("change", (change) => this.changes.push(change));
    client.on("connected", (hello) => this.hellos.push(hello));
  }

  async start(): Promise<void> {
    await this.client.start();
  }

  async stop(): Promise<void> {
    await this.client.stop();
  }

  policyNames(): string[] {
    return this.client.slice.policies.map((p) => `${p.namespace}/${p.name}`).sort();
  }

  /** Pod names (namespace/name) the node's applied-to groups hold. */
  appliedPods(): string[] {
    return [...new Set(this.client.slice.appliedToGroups.flatMap((g) => g.members.map((m) => `${m.namespace}/${m.name}`)))].sort();
  }

  /** Peer addresses of all address groups of the slice. */
  peerAddresses(): string[] {
    return [...new Set(this.client.slice.addressGroups.flatMap((g) => g.members.map((m) => m.ip)))].sort();
  }
}

/**
 * Adds `insecure-skip-tls-verify: true` to the cluster entry unless present: client-node 2.x
 * refuses an http:// server without it, and the local API server speaks plain HTTP.
 */
export async function allowPlainHttp(path: string): Promise<void> {
  const text = await readFile(path, "utf8");
  if (text.includes("insecure-skip-tls-verify")) return;
  await writeFile(path, text.replace(/^(\s+)server: (.*)$/m, "$1server: $2\n$1insecure-skip-tls-verify: true"), { mode: 0o600 });
}

/** Polls until `check` returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await delay(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Builds a running pod as kubelet would report it: scheduled, Running, with its addresses. */
export function pod(options: { namespace: string; name: string; node: string; labels: Record<string, string>; ips: string[] }): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { namespace: options.namespace, name: options.name, labels: options.labels },
    spec: { nodeName: options.node, containers: [{ name: "main", image: "registry.example/app:1", ports: [{ name: "http", containerPort: 8080 }] }] },
  };
}

/** Creates a pod through the API and sets its status through the status subresource. */
export async function createRunningPod(core: CoreV1Api, options: { namespace: string; name: string; node: string; labels: Record<string, string>; ips: string[] }): Promise<void> {
  await core.createNamespacedPod({ namespace: options.namespace, body: pod(options) });
  await setPodIps(core, options);
}

export async function setPodIps(core: CoreV1Api, options: { namespace: string; name: string; ips: string[] }): Promise<void> {
  const current = await core.readNamespacedPod({ namespace: options.namespace, name: options.name });
  current.status = { phase: "Running", podIP: options.ips[0], podIPs: options.ips.map((ip) => ({ ip })) };
  await core.replaceNamespacedPodStatus({ namespace: options.namespace, name: options.name, body: current });
}

export function ingressPolicy(options: { namespace: string; name: string; target: Record<string, string>; from: Record<string, string> }): V1NetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { namespace: options.namespace, name: options.name },
    spec: {
      podSelector: { matchLabels: options.target },
      policyTypes: ["Ingress"],
      ingress: [{ _from: [{ podSelector: { matchLabels: options.from } }], ports: [{ protocol: "TCP", port: 8080 }] }],
    },
  };
}
