// Policy distribution end to end: API server objects, real informers, the controller's TLS
// API on 127.0.0.1, and agent clients with their disk caches.
import assert from "node:assert/strict";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readFile } from "node:fs/promises";
import { PolicyClient } from "../../../agent/policyclient/client.ts";
import { ensureServerCredentials, issueClientCertificate } from "../../../controller/certs/openssl.ts";
import type { NodeStatus } from "../../../controller/distribution/protocol.ts";
import { AgentProbe, ControllerHarness, createRunningPod, ingressPolicy, waitFor } from "./harness.ts";

interface Credentials {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Sends one HTTPS GET and resolves with the status and body, or with the TLS error message. */
function get(url: string, credentials: Credentials, timeoutMs = 1500): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const request = httpsRequest(url, { ...credentials, agent: false, method: "GET" }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      response.on("error", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    // Watch streams never end: collect what arrives in the first moments, then stop.
    request.setTimeout(timeoutMs, () => request.destroy(new Error("timeout")));
    request.on("error", (error) => resolve({ error: error.message }));
    request.end();
  });
}

/** Reads a watch stream for a moment and returns the text received. */
function peekWatch(url: string, credentials: Credentials): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    const request = httpsRequest(url, { ...credentials, agent: false, method: "GET" }, (response) => {
      response.on("data", (chunk: Buffer) => (text += chunk.toString()));
      setTimeout(() => {
        request.destroy();
        resolve(`${response.statusCode ?? 0}\n${text}`);
      }, 300);
    });
    request.on("error", (error) => resolve(`error ${error.message}\n${text}`));
    request.end();
  });
}

describe("policy distribution", () => {
  let harness: ControllerHarness;
  let n1: AgentProbe;
  let n2: AgentProbe;
  let policyUid = "";

  before(async () => {
    harness = await ControllerHarness.create();
    const core = harness.core();
    await harness.kubectlApply(["apiVersion: v1", "kind: Namespace", "metadata:", "  name: shop"].join("\n"));
    for (const name of ["n1", "n2"]) await core.createNode({ body: { metadata: { name } } });
    await createRunningPod(core, { namespace: "shop", name: "web-1", node: "n1", labels: { app: "web" }, ips: ["10.244.1.10"] });
    await createRunningPod(core, { namespace: "shop", name: "client-1", node: "n2", labels: { app: "client" }, ips: ["10.244.2.10"] });
    await harness.networking().createNamespacedNetworkPolicy({
      namespace: "shop",
      body: ingressPolicy({ namespace: "shop", name: "allow-web", target: { app: "web" }, from: { app: "client" } }),
    });
    policyUid = (await harness.kubectl(["get", "networkpolicy", "allow-web", "-n", "shop", "-o", "jsonpath={.metadata.uid}"])).trim();
    await harness.startController();
    n1 = await harness.agent("n1");
    n2 = await harness.agent("n2");
    await n1.start();
    await n2.start();
  });

  after(async () => {
    await harness?.close();
  });

  it("sends each agent its node's slice", async () => {
    await waitFor("n1 to receive allow-web", () => n1.policyNames().includes("shop/allow-web"));
    assert.equal(n1.hellos[0]?.mode, "snapshot");
    assert.equal(n1.hellos[0]?.resyncReason, "initial");
    assert.equal(n1.client.slice.policies[0]?.id, `shop/allow-web/${policyUid}`);
    assert.deepEqual(n1.appliedPods(), ["shop/web-1"]);
    assert.deepEqual(n1.peerAddresses(), ["10.244.2.10"]);
    await waitFor("n2 to connect", () => n2.hellos.length > 0);
    assert.deepEqual(n2.policyNames(), [], "no pod on n2 is selected by allow-web");
  });

  it("streams pod, label and namespace changes as deltas", async () => {
    const core = harness.core();
    const before = n1.changes.length;
    await createRunningPod(core, { namespace: "shop", name: "client-2", node: "n2", labels: { app: "client" }, ips: ["10.244.2.11"] });
    await waitFor("client-2 address on n1", () => n1.peerAddresses().includes("10.244.2.11"));
    const added = n1.changes.slice(before).flatMap((c) => c.events);
    assert.ok(n1.changes.slice(before).every((c) => c.source === "events"));
    assert.ok(
      added.some((e) => e.type === "AddressGroupMembersAdded" && e.members.length === 1 && e.members[0]?.ip === "10.244.2.11"),
      JSON.stringify(added),
    );

    await harness.kubectl(["label", "pod", "client-1", "-n", "shop", "app=other", "--overwrite"]);
    await waitFor("client-1 address to leave n1's slice", () => !n1.peerAddresses().includes("10.244.2.10"));
    assert.ok(n1.changes.flatMap((c) => c.events).some((e) => e.type === "AddressGroupMembersRemoved" && e.members[0]?.ip === "10.244.2.10"));

    await createRunningPod(core, { namespace: "shop", name: "web-2", node: "n2", labels: { app: "web" }, ips: ["10.244.2.20"] });
    await waitFor("allow-web on n2", () => n2.policyNames().includes("shop/allow-web"));
    assert.deepEqual(n2.appliedPods(), ["shop/web-2"]);
    assert.deepEqual(n1.appliedPods(), ["shop/web-1"], "n1 never receives n2's applied-to members");

    await harness.kubectlApply(
      [
        "apiVersion: networking.k8s.io/v1",
        "kind: NetworkPolicy",
        "metadata: {name: from-blue, namespace: shop}",
        "spec:",
        "  podSelector: {matchLabels: {app: web}}",
        "  ingress:",
        "  - from:",
        "    - namespaceSelector: {matchLabels: {team: blue}}",
      ].join("\n"),
    );
    await harness.kubectlApply(["apiVersion: v1", "kind: Namespace", "metadata: {name: lab}"].join("\n"));
    await createRunningPod(core, { namespace: "lab", name: "probe", node: "n2", labels: { app: "probe" }, ips: ["10.244.2.30"] });
    await waitFor("from-blue on n1", () => n1.policyNames().includes("shop/from-blue"));
    assert.equal(n1.peerAddresses().includes("10.244.2.30"), false, "lab is not labelled team=blue yet");
    await harness.kubectl(["label", "namespace", "lab", "team=blue"]);
    await waitFor("lab's pod address on n1", () => n1.peerAddresses().includes("10.244.2.30"));

    await harness.kubectlApply(
      [
        "apiVersion: networking.k8s.io/v1",
        "kind: NetworkPolicy",
        "metadata: {name: from-blue, namespace: shop}",
        "spec:",
        "  podSelector: {matchLabels: {app: web}}",
        "  ingress:",
        "  - from:",
        "    - namespaceSelector: {matchLabels: {team: blue}}",
        "    ports: [{protocol: UDP, port: 53}]",
      ].join("\n"),
    );
    await waitFor("from-blue update on n1", () =>
      n1.client.slice.policies.some((p) => p.name === "from-blue" && p.rules[0]?.ports?.[0]?.protocol === "UDP"),
    );
    assert.ok(n1.changes.flatMap((c) => c.events).some((e) => e.type === "PolicyUpdated" && e.policy.name === "from-blue"));

    await harness.kubectl(["delete", "namespace", "lab"]);
    await waitFor("lab's pod address to leave n1", () => !n1.peerAddresses().includes("10.244.2.30"));
  });

  it("rejects clients without a valid certificate", async () => {
    const url = `${harness.controllerUrl}/v1/slices/watch`;
    const ca = await readFile(join(harness.dir, "tls", "ca.crt"));
    const anonymous = await get(url, { ca });
    assert.ok("status" in anonymous, JSON.stringify(anonymous));
    assert.equal(anonymous.status, 401);
    assert.doesNotMatch(anonymous.body, /allow-web/);

    const otherCa = join(harness.dir, "other-ca");
    await ensureServerCredentials({ dir: otherCa, serverNames: ["127.0.0.1"], caValidityDays: 1, certValidityDays: 1 });
    await issueClientCertificate({ caDir: otherCa, outDir: join(otherCa, "n1"), role: "node", name: "n1", validityDays: 1 });
    const forged = await get(url, {
      ca,
      cert: await readFile(join(otherCa, "n1", "client.crt")),
      key: await readFile(join(otherCa, "n1", "client.key")),
    });
    assert.ok("status" in forged, JSON.stringify(forged));
    assert.equal(forged.status, 401);
    assert.match(forged.body, /client certificate rejected/);
    assert.doesNotMatch(forged.body, /allow-web|10\.244/);
  });

  it("serves another node's certificate only its own slice", async () => {
    const n2Credentials = await harness.nodeCredentials("n2");
    const text = await peekWatch(`${harness.controllerUrl}/v1/slices/watch`, n2Credentials);
    assert.match(text, /^200\n/);
    assert.match(text, /"node":"n2"/);
    assert.doesNotMatch(text, /"nodeName":"n1"|"name":"web-1"/);
    const operator = await harness.nodeCredentials("ops", "operator");
    const refused = await get(`${harness.controllerUrl}/v1/slices/watch`, operator);
    assert.ok("status" in refused, JSON.stringify(refused));
    assert.equal(refused.status, 403);
  });

  it("records and serves realization status", async () => {
    const generation = n1.client.generation;
    const ids = n1.client.slice.policies.map((p) => p.id);
    await n1.client.reportStatus({ generation, realized: ids, failed: [] });
    const operator = await harness.nodeCredentials("ops", "operator");
    const all = await get(`${harness.controllerUrl}/v1/status`, operator);
    assert.ok("status" in all, JSON.stringify(all));
    assert.equal(all.status, 200);
    const statuses = JSON.parse(all.body) as NodeStatus[];
    const entry = statuses.find((s) => s.node === "n1");
    assert.deepEqual(entry?.report?.realized, ids);
    assert.equal(entry?.report?.generation, generation);
    assert.ok(statuses.some((s) => s.node === "n2"));
    const own = await get(`${harness.controllerUrl}/v1/status`, await harness.nodeCredentials("n2"));
    assert.ok("status" in own);
    assert.deepEqual((JSON.parse(own.body) as NodeStatus[]).map((s) => s.node), ["n2"]);
    const metrics = await (await fetch(`http://127.0.0.1:${harness.daemon?.metricsPort ?? 0}/metrics`)).text();
    assert.match(metrics, new RegExp(`switchyard_controller_policy_realization\\{state="realized"\\} ${ids.length}\\b`));
    assert.match(metrics, /switchyard_controller_connected_agents 2\b/);
    assert.match(metrics, /switchyard_controller_objects\{kind="Node"\} 2\b/);
    assert.match(metrics, /switchyard_controller_objects\{kind="NetworkPolicy"\} 2\b/);
    assert.match(metrics, /switchyard_controller_objects\{kind="Pod"\} 4\b/);
  });

  it("resumes after a reconnect without a snapshot", async () => {
    await n1.stop();
    const generation = n1.client.generation;
    await createRunningPod(harness.core(), { namespace: "shop", name: "client-3", node: "n2", labels: { app: "client" }, ips: ["10.244.2.12"] });
    await waitFor("client-3 address on n2", () => n2.peerAddresses().includes("10.244.2.12"));
    n1 = await harness.agent("n1");
    await n1.start();
    await waitFor("client-3 address on restarted n1", () => n1.peerAddresses().includes("10.244.2.12"));
    assert.equal(n1.changes[0]?.source, "cache");
    assert.equal(n1.changes[0]?.slice.generation, generation);
    assert.equal(n1.hellos[0]?.mode, "resume");
    assert.ok(n1.changes.slice(1).every((c) => c.source === "events"), JSON.stringify(n1.changes.map((c) => c.source)));
  });

  it("removes a policy deleted while the agent was away", async () => {
    await n1.stop();
    await harness.networking().deleteNamespacedNetworkPolicy({ namespace: "shop", name: "allow-web" });
    await waitFor("n2 to drop allow-web", () => !n2.policyNames().includes("shop/allow-web"));
    n1 = await harness.agent("n1");
    await n1.start();
    await waitFor("n1 to drop allow-web", () => !n1.policyNames().includes("shop/allow-web") && n1.hellos.length > 0);
    assert.equal(n1.hellos[0]?.mode, "resume");
    const removal = n1.changes.flatMap((c) => c.events).find((e) => e.type === "PolicyRemoved");
    assert.equal(removal?.type === "PolicyRemoved" ? removal.policyId : "", `shop/allow-web/${policyUid}`);
  });

  it("resyncs agents after a controller restart", async () => {
    await harness.stopController();
    // Deleted while no controller runs: only the resync diff can tell the agent.
    await harness.networking().deleteNamespacedNetworkPolicy({ namespace: "shop", name: "from-blue" });
    const seen = n1.changes.length;
    await harness.startController();
    await waitFor("n1 to resync", () => n1.hellos.some((h) => h.resyncReason === "instance-changed"));
    await waitFor("from-blue removal on n1", () => !n1.policyNames().includes("shop/from-blue"));
    const resync = n1.changes.slice(seen).find((c) => c.source === "snapshot");
    assert.ok(resync !== undefined);
    assert.ok(resync.events.some((e) => e.type === "PolicyRemoved" && e.policyId.startsWith("shop/from-blue/")));
    assert.deepEqual(n1.policyNames(), []);
  });

  it("recovers informers after dropped watches and compaction", async () => {
    await harness.networking().createNamespacedNetworkPolicy({
      namespace: "shop",
      body: ingressPolicy({ namespace: "shop", name: "allow-web", target: { app: "web" }, from: { app: "client" } }),
    });
    await waitFor("allow-web back on n1", () => n1.policyNames().includes("shop/allow-web"));
    harness.api.compact();
    harness.api.dropWatches();
    await harness.core().deleteNamespacedPod({ namespace: "shop", name: "client-2" });
    await createRunningPod(harness.core(), { namespace: "shop", name: "client-4", node: "n2", labels: { app: "client" }, ips: ["10.244.2.14"] });
    await waitFor("n1 to see client-2 gone and client-4 added", () => {
      const addresses = n1.peerAddresses();
      return !addresses.includes("10.244.2.11") && addresses.includes("10.244.2.14");
    });
    assert.deepEqual(n1.peerAddresses(), ["10.244.2.12", "10.244.2.14"]);
  });

  it("recovers after an API server restart", async () => {
    await harness.api.flushState();
    await harness.stopApiServer();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await harness.startApiServer();
    await createRunningPod(harness.core(), { namespace: "shop", name: "client-5", node: "n2", labels: { app: "client" }, ips: ["10.244.2.15"] });
    await waitFor("client-5 address on n1", () => n1.peerAddresses().includes("10.244.2.15"), 15_000);
    assert.deepEqual(n1.peerAddresses(), ["10.244.2.12", "10.244.2.14", "10.244.2.15"]);
    const metrics = await (await fetch(`http://127.0.0.1:${harness.daemon?.metricsPort ?? 0}/metrics`)).text();
    assert.match(metrics, /switchyard_controller_informer_restarts_total\{kind="Pod"\} [1-9]/);
  });

  it("loads the cached slice while the controller is down", async () => {
    const expected = n1.client.slice;
    await n1.stop();
    await harness.stopController();
    const restarted = new AgentProbe(
      new PolicyClient({
        nodeName: "n1",
        controllerUrl: harness.controllerUrl,
        tls: await harness.nodeCredentials("n1"),
        cacheFile: join(harness.dir, "cache-n1.json"),
        backoffInitialMs: 50,
        backoffMaxMs: 100,
      }),
    );
    try {
      await restarted.start();
      assert.equal(restarted.changes[0]?.source, "cache");
      assert.deepEqual(restarted.client.slice, expected);
      assert.deepEqual(restarted.policyNames(), ["shop/allow-web"]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(restarted.hellos.length, 0, "no controller to connect to");
      assert.deepEqual(restarted.client.slice, expected, "the cached slice stays while disconnected");
    } finally {
      await restarted.stop();
    }
  });
});
