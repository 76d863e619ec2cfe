// The pod runner's informer against the local API server: field selector, and recovery
// after the server closes abruptly and comes back on the same port. Needs no root.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

import { startApiServer } from "../../apiserver/index.ts";
import type { ApiServer } from "../../apiserver/index.ts";
import { PodWatch } from "../../cluster/pod-watch.ts";
import { waitFor } from "./helpers.ts";

test("pod watch survives server restart", async (t) => {
  const folder = await mkdtemp(join(tmpdir(), "syr-watch-"));
  const stateFile = join(folder, "state.json");
  let server: ApiServer = await startApiServer({ port: 0, stateFile });
  const port = server.port;
  const kubeconfigPath = join(folder, "kubeconfig");
  await server.writeKubeconfig(kubeconfigPath);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const core = kubeConfig.makeApiClient(CoreV1Api);

  const seen = new Set<string>();
  const deleted = new Set<string>();
  const errors: unknown[] = [];
  const watch = new PodWatch({
    kubeConfig,
    fieldSelector: "spec.nodeName=syr-node",
    onUpsert: (pod) => seen.add(pod.metadata?.name ?? ""),
    onDelete: (pod) => deleted.add(pod.metadata?.name ?? ""),
    onError: (error) => errors.push(error),
    initialBackoffMs: 100,
    maxBackoffMs: 400,
  });
  t.after(async () => {
    await watch.stop();
    await server.close();
    await rm(folder, { recursive: true, force: true });
  });

  const body = (name: string, nodeName: string): object => ({ metadata: { name }, spec: { nodeName, containers: [{ name: "c", image: "switchyard/idle" }] } });
  await core.createNamespacedPod({ namespace: "default", body: body("before", "syr-node") });
  await core.createNamespacedPod({ namespace: "default", body: body("elsewhere", "syr-other") });
  await watch.start();
  await waitFor("pod before", () => seen.has("before"), 5000);
  assert.equal(seen.has("elsewhere"), false, "field selector keeps other nodes' pods out");

  await server.close();
  server = await startApiServer({ port, stateFile });
  await core.createNamespacedPod({ namespace: "default", body: body("after", "syr-node") });
  await waitFor("pod after, seen after the restart", () => seen.has("after"), 10_000);
  assert.ok(errors.length >= 1, "the abrupt close was reported");

  await core.deleteNamespacedPod({ namespace: "default", name: "before" });
  await waitFor("delete of pod before", () => deleted.has("before"), 5000);
  assert.deepEqual([...watch.list().map((pod) => pod.metadata?.name)].sort(), ["after"]);
});
