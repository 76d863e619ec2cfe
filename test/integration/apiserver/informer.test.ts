/**
 * @kubernetes/client-node informers (makeInformer with ListWatch) against
 * the local API server: events, relist after 410, reconnect after an
 * abrupt drop and after a clean timeout, and bookmarks.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import type { TestCluster } from "./helpers.ts";
import { sleep, startTestCluster, waitFor } from "./helpers.ts";

interface Recorded {
  verb: "add" | "update" | "delete";
  name: string;
  resourceVersion: string;
}

/** A Pod informer for app=web in `default` that records every callback. */
function podInformer(cluster: TestCluster): { informer: k8s.ListWatch<k8s.V1Pod>; events: Recorded[]; errors: unknown[] } {
  // makeInformer returns a ListWatch; the cast exposes latestResourceVersion().
  const informer = k8s.makeInformer(
    cluster.kubeConfig,
    "/api/v1/namespaces/default/pods",
    () => cluster.core.listNamespacedPod({ namespace: "default", labelSelector: "app=web" }),
    "app=web",
  ) as k8s.ListWatch<k8s.V1Pod>;
  const events: Recorded[] = [];
  const errors: unknown[] = [];
  for (const verb of ["add", "update", "delete"] as const) {
    informer.on(verb, (pod) => events.push({ verb, name: pod.metadata?.name ?? "", resourceVersion: pod.metadata?.resourceVersion ?? "" }));
  }
  informer.on("error", (error) => errors.push(error));
  return { informer, events, errors };
}

function pod(name: string, labels: Record<string, string>): k8s.V1Pod {
  return { metadata: { name, labels }, spec: { containers: [{ name: "c", image: "busybox" }] } };
}

function cachedNames(informer: k8s.ObjectCache<k8s.V1Pod>): string[] {
  return informer.list("default").map((item) => item.metadata?.name ?? "").sort();
}

test("pod informer add update delete", async (t) => {
  const cluster = await startTestCluster();
  const { informer, events } = podInformer(cluster);
  t.after(async () => {
    await informer.stop();
    await cluster.cleanup();
  });
  await cluster.core.createNamespacedPod({ namespace: "default", body: pod("before", { app: "web" }) });
  await informer.start();
  await waitFor("add of the pre-existing pod", () => events.some((e) => e.verb === "add" && e.name === "before"));

  await cluster.core.createNamespacedPod({ namespace: "default", body: pod("web-1", { app: "web" }) });
  await cluster.core.createNamespacedPod({ namespace: "default", body: pod("db-1", { app: "db" }) });
  await waitFor("add of web-1", () => events.some((e) => e.verb === "add" && e.name === "web-1"));

  await cluster.core.patchNamespacedPod(
    { namespace: "default", name: "web-1", body: { metadata: { annotations: { note: "x" } } } },
    k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
  );
  await waitFor("update of web-1", () => events.some((e) => e.verb === "update" && e.name === "web-1"));

  // Relabelling out of the selector reaches this informer as a delete.
  await cluster.core.patchNamespacedPod(
    { namespace: "default", name: "before", body: { metadata: { labels: { app: "other" } } } },
    k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
  );
  await waitFor("delete of relabelled pod", () => events.some((e) => e.verb === "delete" && e.name === "before"));

  await cluster.core.deleteNamespacedPod({ namespace: "default", name: "web-1" });
  await waitFor("delete of web-1", () => events.some((e) => e.verb === "delete" && e.name === "web-1"));

  assert.deepEqual(cachedNames(informer), []);
  assert.equal(events.some((e) => e.name === "db-1"), false, "db-1 does not match app=web");
  assert.deepEqual(
    events.map((e) => `${e.verb} ${e.name}`),
    ["add before", "add web-1", "update web-1", "delete before", "delete web-1"],
  );
});

test("pod informer relists after 410", async (t) => {
  const requests: { path: string; query: URLSearchParams }[] = [];
  const log = {
    debug: (_message: string, fields?: Record<string, unknown>) => requests.push({ path: String(fields?.path), query: new URLSearchParams(String(fields?.query)) }),
    info: () => {},
    warn: () => {},
    error: () => {},
  };
  const cluster = await startTestCluster({ log });
  const { informer, events, errors } = podInformer(cluster);
  t.after(async () => {
    await informer.stop();
    await cluster.cleanup();
  });
  await cluster.core.createNamespacedPod({ namespace: "default", body: pod("stays", { app: "web" }) });
  await cluster.core.createNamespacedPod({ namespace: "default", body: pod("goes", { app: "web" }) });
  await informer.start();
  await waitFor("both pods cached", () => cachedNames(informer).length === 2);
  await waitFor("the watch is open", () => cluster.server.watchCount === 1);

  // Take the watch down; client-node reports an abrupt close as an error and does not restart by itself.
  cluster.server.dropWatches();
  await waitFor("the informer error", () => errors.length === 1);
  const versionBeforeGap = informer.latestResourceVersion();

  await cluster.core.deleteNamespacedPod({ namespace: "default", name: "goes" });
  await cluster.core.createNamespacedPod({ namespace: "default", body: pod("new", { app: "web" }) });
  cluster.server.compact();

  const requestsBeforeRestart = requests.length;
  await informer.start();
  await waitFor("the synthetic delete of goes", () => events.some((e) => e.verb === "delete" && e.name === "goes"));
  await waitFor("the add of new", () => events.some((e) => e.verb === "add" && e.name === "new"));
  assert.deepEqual(cachedNames(informer), ["new", "stays"]);
  assert.notEqual(informer.latestResourceVersion(), versionBeforeGap);
  // The delete came from the relist (it carries the cached copy), not from a watch event (which would carry the delete's version).
  const added = events.find((e) => e.verb === "add" && e.name === "goes");
  const deleted = events.find((e) => e.verb === "delete" && e.name === "goes");
  assert.equal(deleted?.resourceVersion, added?.resourceVersion);
  const afterRestart = requests.slice(requestsBeforeRestart).filter((request) => request.path === "/api/v1/namespaces/default/pods");
  assert.equal(afterRestart[0]?.query.get("watch"), "true", "the informer first resumes its watch");
  assert.equal(afterRestart[0]?.query.get("resourceVersion"), versionBeforeGap);
  assert.equal(afterRestart[1]?.query.get("watch"), null, "then relists after the 410");
  assert.equal(afterRestart[1]?.query.get("labelSelector"), "app=web");

  const list = await cluster.core.listNamespacedPod({ namespace: "default" });
  assert.equal(informer.latestResourceVersion(), list.metadata?.resourceVersion, "the relist caught up with the server");
  await waitFor("the new watch is open", () => cluster.server.watchCount === 1);
  await cluster.core.createNamespacedPod({ namespace: "default", body: pod("after", { app: "web" }) });
  await waitFor("the add of after", () => events.some((e) => e.verb === "add" && e.name === "after"));
});

test("pod informer reconnects after drop", async (t) => {
  const cluster = await startTestCluster();
  const { informer, events, errors } = podInformer(cluster);
  // The usual client-node recovery: restart the informer from its error handler.
  let stopped = false;
  informer.on("error", () => {
    setTimeout(() => {
      if (!stopped) void informer.start();
    }, 50);
  });
  t.after(async () => {
    stopped = true;
    await informer.stop();
    await cluster.cleanup();
  });
  await informer.start();
  await waitFor("the watch is open", () => cluster.server.watchCount === 1);

  assert.equal(cluster.server.dropWatches(), 1);
  await waitFor("the informer error", () => errors.length === 1);
  await waitFor("the watch is open again", () => cluster.server.watchCount === 1);
  await cluster.core.createNamespacedPod({ namespace: "default", body: pod("web-2", { app: "web" }) });
  await waitFor("add of web-2", () => events.some((e) => e.verb === "add" && e.name === "web-2"));
  assert.deepEqual(cachedNames(informer), ["web-2"]);
});

test("pod informer resumes after timeout", async (t) => {
  const cluster = await startTestCluster({ watchTimeoutSeconds: 1 });
  const { informer, events, errors } = podInformer(cluster);
  const connects: number[] = [];
  informer.on("connect", () => connects.push(Date.now()));
  t.after(async () => {
    await informer.stop();
    await cluster.cleanup();
  });
  await cluster.core.createNamespacedPod({ namespace: "default", body: pod("web-1", { app: "web" }) });
  await informer.start();
  await waitFor("add of web-1", () => events.some((e) => e.verb === "add" && e.name === "web-1"));

  // Each watch ends cleanly after 1 s; the informer resumes from its resourceVersion without a relist.
  await waitFor("two reconnects", () => connects.length >= 3, 6000);
  await cluster.core.createNamespacedPod({ namespace: "default", body: pod("web-2", { app: "web" }) });
  await waitFor("add of web-2", () => events.some((e) => e.verb === "add" && e.name === "web-2"));
  assert.deepEqual(errors, []);
  assert.equal(events.filter((e) => e.verb === "add" && e.name === "web-1").length, 1, "no relist re-added web-1");

  // endWatches() ends every watch at once, the same clean way.
  await waitFor("the watch is open", () => cluster.server.watchCount === 1);
  const before = connects.length;
  cluster.server.endWatches();
  await waitFor("a reconnect after endWatches", () => connects.length > before);
  assert.deepEqual(errors, []);
});

test("node informer with status writes", async (t) => {
  const cluster = await startTestCluster();
  const informer = k8s.makeInformer(cluster.kubeConfig, "/api/v1/nodes", () => cluster.core.listNode());
  const events: Recorded[] = [];
  for (const verb of ["add", "update", "delete"] as const) {
    informer.on(verb, (node) => events.push({ verb, name: node.metadata?.name ?? "", resourceVersion: node.metadata?.resourceVersion ?? "" }));
  }
  t.after(async () => {
    await informer.stop();
    await cluster.cleanup();
  });
  await informer.start();
  await cluster.core.createNode({ body: { metadata: { name: "n1" }, spec: { podCIDR: "10.10.1.0/24" } } });
  await waitFor("add of n1", () => events.some((e) => e.verb === "add" && e.name === "n1"));

  await cluster.core.patchNodeStatus(
    { name: "n1", body: { status: { conditions: [{ type: "Ready", status: "True" }] } } },
    k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.StrategicMergePatch),
  );
  await waitFor("update of n1", () => events.some((e) => e.verb === "update" && e.name === "n1"));
  const cached = informer.get("n1");
  assert.equal(cached?.status?.conditions?.[0]?.status, "True");
  assert.equal(cached?.spec?.podCIDR, "10.10.1.0/24");

  await cluster.core.deleteNode({ name: "n1" });
  await waitFor("delete of n1", () => events.some((e) => e.verb === "delete" && e.name === "n1"));
  assert.equal(informer.get("n1"), undefined);
});

test("watch bookmarks carry the latest version", async (t) => {
  const cluster = await startTestCluster({ bookmarkIntervalMs: 100 });
  const watch = new k8s.Watch(cluster.kubeConfig);
  const received: { type: string; resourceVersion: string }[] = [];
  const list = await cluster.core.listNamespacedPod({ namespace: "default" });
  const controller = await watch.watch(
    "/api/v1/namespaces/default/pods",
    { allowWatchBookmarks: true, resourceVersion: list.metadata?.resourceVersion },
    (type: string, object: k8s.KubernetesObject) => received.push({ type, resourceVersion: object.metadata?.resourceVersion ?? "" }),
    () => {},
  );
  t.after(async () => {
    controller.abort();
    await cluster.cleanup();
  });
  await waitFor("a bookmark", () => received.some((e) => e.type === "BOOKMARK"));
  // A change to another resource type still moves the bookmark's resourceVersion forward.
  await cluster.core.createNamespace({ body: { metadata: { name: "other" } } });
  const after = await cluster.core.listNamespace();
  const latest = after.metadata?.resourceVersion ?? "";
  await waitFor("a bookmark at the latest version", () => received.some((e) => e.type === "BOOKMARK" && e.resourceVersion === latest));
  assert.equal(received.filter((e) => e.type !== "BOOKMARK").length, 0, "no pod changed, so only bookmarks arrive");
  await sleep(0);
});
