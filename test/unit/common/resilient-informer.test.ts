// ResilientInformer against the local API server on loopback: selectors on the list and the
// watch, restarts after a dropped watch, handler errors, stop before the first list, and the
// metrics it records. Expected objects come from what each test created on the server.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from "@kubernetes/client-node";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { ResilientInformer, type ResilientInformerOptions } from "../../../common/informers/resilient-informer.ts";
import type { InformerLogger } from "../../../common/informers/informer-logger.ts";
import type { InformerMetrics } from "../../../common/informers/informer-metrics.ts";
import { startApiServer, type ApiServer } from "../../apiserver/index.ts";

interface Delivered {
  readonly verb: "upsert" | "delete";
  readonly name: string;
}

interface LogEntry {
  readonly level: "debug" | "warn" | "error";
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

interface Cluster {
  readonly server: ApiServer;
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  /** Path and query of every request the server received. */
  readonly requests: { path: string; query: URLSearchParams }[];
}

async function startCluster(t: TestContext): Promise<Cluster> {
  const requests: Cluster["requests"] = [];
  const log = {
    debug: (_message: string, fields?: Record<string, unknown>) => requests.push({ path: String(fields?.["path"]), query: new URLSearchParams(String(fields?.["query"] ?? "")) }),
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
  };
  const server = await startApiServer({ port: 0, log });
  const folder = await mkdtemp(join(tmpdir(), "syi-"));
  t.after(async () => {
    await server.close();
    await rm(folder, { recursive: true, force: true });
  });
  const path = join(folder, "kubeconfig");
  await server.writeKubeconfig(path);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  return { server, kubeConfig, core: kubeConfig.makeApiClient(CoreV1Api), requests };
}

/** Metrics in a registry of the test's own, read back through prom-client. */
function testMetrics(): { metrics: InformerMetrics; scrape: () => Promise<string> } {
  const registry = new Registry();
  const refreshers: (() => void)[] = [];
  const metrics: InformerMetrics = {
    restarts: new Counter({ name: "test_informer_restarts_total", help: "restarts", labelNames: ["kind"] as const, registers: [registry] }),
    cachedObjects: new Gauge({ name: "test_informer_objects", help: "objects", labelNames: ["kind"] as const, registers: [registry] }),
    handlerDuration: new Histogram({ name: "test_informer_handler_seconds", help: "handler time", labelNames: ["kind"] as const, registers: [registry] }),
    onScrape: (refresh) => refreshers.push(refresh),
  };
  const scrape = async (): Promise<string> => {
    for (const refresh of refreshers) refresh();
    return registry.metrics();
  };
  return { metrics, scrape };
}

function recordingLogger(): { logger: InformerLogger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const logger: InformerLogger = {
    debug: (message, fields) => entries.push({ level: "debug", message, fields }),
    warn: (message, fields) => entries.push({ level: "warn", message, fields }),
    error: (message, fields) => entries.push({ level: "error", message, fields }),
  };
  return { logger, entries };
}

function podBody(name: string, nodeName?: string, labels?: Record<string, string>): V1Pod {
  return { metadata: { name, namespace: "default", labels }, spec: { nodeName, containers: [{ name: "c", image: "none" }] } };
}

/** Creates a Pod informer with recording handlers. The caller's options override the defaults. */
function podInformer(
  t: TestContext,
  client: { kubeConfig: KubeConfig; core: CoreV1Api },
  options: Partial<ResilientInformerOptions<V1Pod>> = {},
): { informer: ResilientInformer<V1Pod>; delivered: Delivered[]; entries: LogEntry[]; scrape: () => Promise<string> } {
  const delivered: Delivered[] = [];
  const { logger, entries } = recordingLogger();
  const { metrics, scrape } = testMetrics();
  const informer = new ResilientInformer<V1Pod>({
    kind: "Pod",
    kubeConfig: client.kubeConfig,
    path: "/api/v1/pods",
    list: (selectors) => client.core.listPodForAllNamespaces(selectors),
    handlers: {
      upsert: (pod) => delivered.push({ verb: "upsert", name: pod.metadata?.name ?? "" }),
      delete: (pod) => delivered.push({ verb: "delete", name: pod.metadata?.name ?? "" }),
    },
    backoffInitialMs: 50,
    backoffMaxMs: 200,
    resyncMs: 0,
    logger,
    metrics,
    ...options,
  });
  t.after(() => informer.stop());
  return { informer, delivered, entries, scrape };
}

function cachedNames(informer: ResilientInformer<V1Pod>): string[] {
  return informer.list().map((pod) => pod.metadata?.name ?? "").sort();
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("field selector filters list and watch", async (t) => {
  const cluster = await startCluster(t);
  await cluster.core.createNamespacedPod({ namespace: "default", body: podBody("there", "node-b") });
  await cluster.core.createNamespacedPod({ namespace: "default", body: podBody("here", "node-a") });
  await cluster.core.createNamespacedPod({ namespace: "default", body: podBody("pending") });
  const { informer, delivered } = podInformer(t, cluster, { fieldSelector: "spec.nodeName=node-a" });

  await informer.start();
  assert.deepEqual(delivered, [{ verb: "upsert", name: "here" }], "the first list holds only the Pod bound to node-a");
  assert.deepEqual(cachedNames(informer), ["here"]);
  await waitFor("the watch", () => cluster.server.watchCount === 1);

  // Watch events arrive in write order, so once here-2 is in, there-2 would have been too.
  await cluster.core.createNamespacedPod({ namespace: "default", body: podBody("there-2", "node-b") });
  await cluster.core.createNamespacedPod({ namespace: "default", body: podBody("here-2", "node-a") });
  await waitFor("the add of here-2", () => delivered.some((event) => event.name === "here-2"));
  assert.ok(!delivered.some((event) => event.name === "there-2"), "a Pod on another node never reaches the handlers");

  // Binding, as the scheduler does, sets spec.nodeName once on an unscheduled Pod.
  await cluster.core.patchNamespacedPod({ namespace: "default", name: "pending", body: { spec: { nodeName: "node-a" } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
  await waitFor("the bound Pod", () => delivered.some((event) => event.name === "pending"));
  assert.deepEqual(delivered.at(-1), { verb: "upsert", name: "pending" });

  await cluster.core.deleteNamespacedPod({ namespace: "default", name: "there" });
  await cluster.core.deleteNamespacedPod({ namespace: "default", name: "here" });
  await waitFor("the delete of here", () => delivered.some((event) => event.verb === "delete" && event.name === "here"));
  assert.ok(!delivered.some((event) => event.name === "there"), "deleting a Pod on another node is not delivered either");
  assert.deepEqual(cachedNames(informer), ["here-2", "pending"]);

  const podRequests = cluster.requests.filter((request) => request.path === "/api/v1/pods");
  const list = podRequests.find((request) => request.query.get("watch") === null);
  const watch = podRequests.find((request) => request.query.get("watch") === "true");
  assert.equal(list?.query.get("fieldSelector"), "spec.nodeName=node-a");
  assert.equal(watch?.query.get("fieldSelector"), "spec.nodeName=node-a");
});

test("label selector filters list and watch", async (t) => {
  const cluster = await startCluster(t);
  await cluster.core.createNamespacedPod({ namespace: "default", body: podBody("web", "node-a", { app: "web" }) });
  await cluster.core.createNamespacedPod({ namespace: "default", body: podBody("db", "node-a", { app: "db" }) });
  const { informer, delivered } = podInformer(t, cluster, { labelSelector: "app=web" });

  await informer.start();
  assert.deepEqual(cachedNames(informer), ["web"]);
  await waitFor("the watch", () => cluster.server.watchCount === 1);

  // Relabelling out of the selector reaches the handlers as a delete.
  await cluster.core.patchNamespacedPod({ namespace: "default", name: "web", body: { metadata: { labels: { app: "cache" } } } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
  await waitFor("the delete of web", () => delivered.some((event) => event.verb === "delete" && event.name === "web"));
  assert.deepEqual(cachedNames(informer), []);
  assert.ok(!delivered.some((event) => event.name === "db"));

  const watch = cluster.requests.find((request) => request.path === "/api/v1/pods" && request.query.get("watch") === "true");
  assert.equal(watch?.query.get("labelSelector"), "app=web");
});

test("dropped watch restarts and is counted", async (t) => {
  const cluster = await startCluster(t);
  const { informer, delivered, entries, scrape } = podInformer(t, cluster, { fieldSelector: "spec.nodeName=node-a" });
  await informer.start();
  await waitFor("the watch", () => cluster.server.watchCount === 1);

  assert.equal(cluster.server.dropWatches(), 1);
  await waitFor("the restart log", () => entries.some((entry) => entry.message === "informer failed, restarting"));
  await waitFor("the watch reopened", () => cluster.server.watchCount === 1);
  await cluster.core.createNamespacedPod({ namespace: "default", body: podBody("after", "node-a") });
  await waitFor("the add of after", () => delivered.some((event) => event.name === "after"));

  const warning = entries.find((entry) => entry.message === "informer failed, restarting");
  assert.equal(warning?.level, "warn");
  assert.equal(warning?.fields["kind"], "Pod");
  assert.equal(warning?.fields["delayMs"], 50);
  assert.equal(warning?.fields["server"], cluster.server.url);
  const text = await scrape();
  assert.match(text, /^test_informer_restarts_total\{kind="Pod"\} 1$/m);
  assert.match(text, /^test_informer_objects\{kind="Pod"\} 1$/m);
  const rewatch = cluster.requests.filter((request) => request.path === "/api/v1/pods" && request.query.get("watch") === "true").at(-1);
  assert.equal(rewatch?.query.get("fieldSelector"), "spec.nodeName=node-a", "the restarted watch keeps the selector");
});

test("handler error is logged, informer continues", async (t) => {
  const cluster = await startCluster(t);
  const delivered: string[] = [];
  const { informer, entries, scrape } = podInformer(t, cluster, {
    handlers: {
      upsert: (pod) => {
        if (pod.metadata?.name === "bad") throw new Error("handler rejected bad");
        delivered.push(pod.metadata?.name ?? "");
      },
      delete: () => undefined,
    },
  });
  await informer.start();
  await waitFor("the watch", () => cluster.server.watchCount === 1);

  await cluster.core.createNamespacedPod({ namespace: "default", body: podBody("bad", "node-a") });
  await cluster.core.createNamespacedPod({ namespace: "default", body: podBody("good", "node-a") });
  await waitFor("the add of good", () => delivered.includes("good"));

  const failure = entries.find((entry) => entry.message === "informer handler failed");
  assert.equal(failure?.level, "error");
  assert.equal(failure?.fields["pod"], "bad");
  assert.equal(failure?.fields["namespace"], "default");
  assert.equal(failure?.fields["error"], "handler rejected bad");
  assert.deepEqual(cachedNames(informer), ["bad", "good"], "the cache keeps an object whose handler failed");
  // Two adds, each timed once, although one handler threw.
  assert.match(await scrape(), /^test_informer_handler_seconds_count\{kind="Pod"\} 2$/m);
});

test("stop before first list rejects start", async (t) => {
  // A loopback port with nothing listening: every list is refused.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
  const address = probe.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: "closed", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "none" }],
    contexts: [{ name: "closed", cluster: "closed", user: "none" }],
    currentContext: "closed",
  });
  const { informer, entries, scrape } = podInformer(t, { kubeConfig, core: kubeConfig.makeApiClient(CoreV1Api) });

  const started = informer.start();
  await waitFor("two failed attempts", () => entries.filter((entry) => entry.message === "informer failed, restarting").length >= 2);
  await informer.stop();
  await assert.rejects(started, { message: "Pod informer stopped before its first list" });
  assert.equal(informer.hasSynced, false);

  const delays = entries.filter((entry) => entry.message === "informer failed, restarting").map((entry) => entry.fields["delayMs"]);
  assert.deepEqual(delays.slice(0, 2), [50, 100], "the backoff doubles per consecutive failure");
  assert.match(await scrape(), /^test_informer_restarts_total\{kind="Pod"\} [2-9]$/m);
});
