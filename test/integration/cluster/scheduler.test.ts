// The round-robin scheduler against the local API server: binding order, pods it must leave
// alone, and Scheduled events. Needs no root.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import type { V1Pod } from "@kubernetes/client-node";

import { startApiServer } from "../../apiserver/index.ts";
import { RoundRobinScheduler } from "../../cluster/scheduler.ts";
import { waitFor } from "./helpers.ts";

test("scheduler binds round-robin, skips others", async (t) => {
  const folder = await mkdtemp(join(tmpdir(), "syr-sched-"));
  const server = await startApiServer({ port: 0 });
  const kubeconfigPath = join(folder, "kubeconfig");
  await server.writeKubeconfig(kubeconfigPath);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const scheduler = new RoundRobinScheduler({ kubeConfig, nodes: ["a", "b", "c"] });
  t.after(async () => {
    await scheduler.stop();
    await server.close();
    await rm(folder, { recursive: true, force: true });
  });

  const pod = (name: string, spec: Partial<NonNullable<V1Pod["spec"]>> = {}): V1Pod => ({ metadata: { name }, spec: { containers: [{ name: "c", image: "switchyard/idle" }], ...spec } });
  // One pod exists before the scheduler starts: the first list must bind it too.
  await core.createNamespacedPod({ namespace: "default", body: pod("p0") });
  await scheduler.start();
  for (const name of ["p1", "p2", "p3"]) {
    await core.createNamespacedPod({ namespace: "default", body: pod(name) });
    await waitFor(`${name} bound`, async () => ((await core.readNamespacedPod({ namespace: "default", name })).spec?.nodeName ?? "") !== "", 5000);
  }
  await core.createNamespacedPod({ namespace: "default", body: pod("other", { schedulerName: "syr-other-scheduler" }) });
  await core.createNamespacedPod({ namespace: "default", body: pod("pinned", { nodeName: "z" }) });
  await core.createNamespacedPod({ namespace: "default", body: pod("p4") });
  await waitFor("p4 bound", async () => ((await core.readNamespacedPod({ namespace: "default", name: "p4" })).spec?.nodeName ?? "") !== "", 5000);
  await scheduler.idle();

  const nodeOf = async (name: string): Promise<string> => (await core.readNamespacedPod({ namespace: "default", name })).spec?.nodeName ?? "";
  assert.deepEqual(await Promise.all(["p0", "p1", "p2", "p3", "p4"].map(nodeOf)), ["a", "b", "c", "a", "b"]);
  assert.equal(await nodeOf("other"), "", "a pod for another scheduler stays unbound");
  assert.equal(await nodeOf("pinned"), "z", "a pod with a node keeps it");

  const events = await core.listNamespacedEvent({ namespace: "default" });
  const scheduled = events.items.filter((event) => event.reason === "Scheduled").map((event) => event.message).sort();
  assert.deepEqual(scheduled, ["default/p0 to a", "default/p1 to b", "default/p2 to c", "default/p3 to a", "default/p4 to b"].map((text) => `Successfully assigned ${text}`));
});
