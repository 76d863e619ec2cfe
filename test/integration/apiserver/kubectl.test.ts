/**
 * kubectl 1.32 against the local API server, with the kubeconfig the
 * server writes. Expected output lines are kubectl's own wording.
 */

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import type { TestCluster } from "./helpers.ts";
import { startTestCluster, waitFor } from "./helpers.ts";

const execFileAsync = promisify(execFile);
const KUBECTL = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].find((path) => existsSync(path));
const skip = KUBECTL === undefined ? "kubectl is not installed (looked in /usr/bin and /usr/local/bin)" : false;

function kubectlEnv(cluster: TestCluster): NodeJS.ProcessEnv {
  // A private HOME keeps kubectl's discovery cache out of the user's ~/.kube.
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cluster.folder, KUBECONFIG: cluster.kubeconfigPath };
}

async function kubectl(cluster: TestCluster, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return execFileAsync(KUBECTL ?? "kubectl", args, { env: kubectlEnv(cluster), timeout: 20_000 });
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line.trim() !== "");
}

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: demo
  labels:
    app: web
spec:
  nodeName: n1
  containers:
  - name: web
    image: nginx:1.27
    ports:
    - containerPort: 80
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-ingress
  namespace: demo
spec:
  podSelector: {}
  policyTypes: [Ingress]
`;

async function clusterWithManifests(t: { after: (fn: () => Promise<void>) => void }): Promise<TestCluster> {
  const cluster = await startTestCluster();
  t.after(() => cluster.cleanup());
  const path = join(cluster.folder, "demo.yaml");
  await writeFile(path, MANIFESTS);
  const created = await kubectl(cluster, ["create", "-f", path]);
  assert.deepEqual(lines(created.stdout), ["namespace/demo created", "pod/web-1 created", "networkpolicy.networking.k8s.io/deny-ingress created"]);
  assert.equal(created.stderr, "");
  return cluster;
}

test("kubectl create from YAML", { skip }, async (t) => {
  const cluster = await clusterWithManifests(t);
  const pod = await cluster.core.readNamespacedPod({ namespace: "demo", name: "web-1" });
  assert.equal(pod.spec?.nodeName, "n1");
  assert.equal(pod.status?.phase, "Pending");
  const policies = await kubectl(cluster, ["get", "netpol", "-n", "demo", "-o", "name"]);
  assert.deepEqual(lines(policies.stdout), ["networkpolicy.networking.k8s.io/deny-ingress"]);

  const again = await kubectl(cluster, ["create", "-f", join(cluster.folder, "demo.yaml")]).catch((error: { stderr: string }) => error);
  assert.match(again.stderr, /Error from server \(AlreadyExists\): .*namespaces "demo" already exists/);
});

test("kubectl get json and wide", { skip }, async (t) => {
  const cluster = await clusterWithManifests(t);
  const json = JSON.parse((await kubectl(cluster, ["get", "pods", "-n", "demo", "-o", "json"])).stdout) as {
    items: { kind: string; metadata: { name: string; labels: Record<string, string> }; spec: { nodeName: string } }[];
  };
  assert.equal(json.items.length, 1);
  assert.equal(json.items[0]?.kind, "Pod");
  assert.equal(json.items[0]?.metadata.name, "web-1");
  assert.deepEqual(json.items[0]?.metadata.labels, { app: "web" });

  const wide = lines((await kubectl(cluster, ["get", "pods", "-n", "demo", "-o", "wide"])).stdout);
  assert.equal(wide.length, 2);
  assert.deepEqual(wide[0]?.split(/\s{2,}/), ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"]);
  const row = wide[1]?.split(/\s+/) ?? [];
  assert.equal(row[0], "web-1");
  assert.equal(row[1], "0/1");
  assert.equal(row[2], "Pending");
  assert.equal(row[6], "n1");

  const single = lines((await kubectl(cluster, ["get", "pod", "web-1", "-n", "demo"])).stdout);
  assert.deepEqual(single[0]?.split(/\s+/), ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
  assert.deepEqual(single[1]?.split(/\s+/).slice(0, 4), ["web-1", "0/1", "Pending", "0"]);

  const namespaces = lines((await kubectl(cluster, ["get", "ns", "--no-headers"])).stdout).map((line) => line.split(/\s+/).slice(0, 2).join(" "));
  assert.deepEqual(namespaces, ["default Active", "demo Active", "kube-node-lease Active", "kube-public Active", "kube-system Active"]);
});

test("kubectl get watch sees changes", { skip }, async (t) => {
  const cluster = await clusterWithManifests(t);
  const child = spawn(KUBECTL ?? "kubectl", ["get", "pods", "-n", "demo", "-w", "--output-watch-events"], { env: kubectlEnv(cluster) });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  t.after(() => {
    child.kill("SIGTERM");
  });
  await waitFor("the initial listing", () => output.includes("web-1"), 10_000);
  await waitFor("the watch request", () => cluster.server.watchCount === 1, 10_000);

  await cluster.core.createNamespacedPod({ namespace: "demo", body: { metadata: { name: "web-2" }, spec: { containers: [{ name: "c", image: "busybox" }] } } });
  await kubectl(cluster, ["delete", "pod", "web-1", "-n", "demo"]);
  await waitFor("the DELETED line", () => /DELETED\s+web-1/.test(output), 10_000);

  const rows = lines(output).map((line) => line.split(/\s+/).slice(0, 2).join(" "));
  assert.deepEqual(rows, ["EVENT NAME", "ADDED web-1", "ADDED web-2", "DELETED web-1"]);
});

test("kubectl label and delete", { skip }, async (t) => {
  const cluster = await clusterWithManifests(t);
  const labeled = await kubectl(cluster, ["label", "pod", "web-1", "-n", "demo", "tier=front"]);
  assert.deepEqual(lines(labeled.stdout), ["pod/web-1 labeled"]);
  const pod = await cluster.core.readNamespacedPod({ namespace: "demo", name: "web-1" });
  assert.deepEqual(pod.metadata?.labels, { app: "web", tier: "front" });

  const removed = await kubectl(cluster, ["label", "pod", "web-1", "-n", "demo", "app-"]);
  assert.deepEqual(lines(removed.stdout), ["pod/web-1 unlabeled"]);
  const labels = await kubectl(cluster, ["get", "pod", "web-1", "-n", "demo", "-o", "jsonpath={.metadata.labels}"]);
  assert.deepEqual(JSON.parse(labels.stdout), { tier: "front" });

  const deleted = await kubectl(cluster, ["delete", "pod", "web-1", "-n", "demo"]);
  assert.deepEqual(lines(deleted.stdout), ['pod "web-1" deleted']);
  const missing = await kubectl(cluster, ["get", "pod", "web-1", "-n", "demo"]).catch((error: { stderr: string }) => error);
  assert.match(missing.stderr, /Error from server \(NotFound\): pods "web-1" not found/);
});

test("kubectl apply twice", { skip }, async (t) => {
  const cluster = await startTestCluster();
  t.after(() => cluster.cleanup());
  const path = join(cluster.folder, "api.yaml");
  const manifest = (image: string, extraLabel: string) => `apiVersion: v1
kind: Pod
metadata:
  name: api-1
  labels:
    app: api${extraLabel}
spec:
  containers:
  - name: api
    image: ${image}
  - name: sidecar
    image: busybox:1.36
`;
  await writeFile(path, manifest("busybox:1.36", ""));
  assert.deepEqual(lines((await kubectl(cluster, ["apply", "-f", path])).stdout), ["pod/api-1 created"]);
  const first = await cluster.core.readNamespacedPod({ namespace: "default", name: "api-1" });
  assert.ok(first.metadata?.annotations?.["kubectl.kubernetes.io/last-applied-configuration"]?.includes("busybox:1.36"));

  await writeFile(path, manifest("busybox:1.37", "\n    track: canary"));
  const second = await kubectl(cluster, ["apply", "-f", path]);
  assert.deepEqual(lines(second.stdout), ["pod/api-1 configured"]);
  assert.equal(second.stderr, "");
  const pod = await cluster.core.readNamespacedPod({ namespace: "default", name: "api-1" });
  assert.deepEqual(pod.spec?.containers.map((c) => `${c.name}=${c.image}`), ["api=busybox:1.37", "sidecar=busybox:1.36"]);
  assert.deepEqual(pod.metadata?.labels, { app: "api", track: "canary" });
  assert.notEqual(pod.metadata?.resourceVersion, first.metadata?.resourceVersion);

  const unchanged = await kubectl(cluster, ["apply", "-f", path]);
  assert.deepEqual(lines(unchanged.stdout), ["pod/api-1 unchanged"]);
});

test("kubectl selects by field and label", { skip }, async (t) => {
  const cluster = await startTestCluster();
  t.after(() => cluster.cleanup());
  const pods = [
    { name: "a", node: "n1", app: "web" },
    { name: "b", node: "n2", app: "web" },
    { name: "c", node: "n1", app: "db" },
  ];
  for (const pod of pods) {
    await cluster.core.createNamespacedPod({
      namespace: "default",
      body: { metadata: { name: pod.name, labels: { app: pod.app } }, spec: { nodeName: pod.node, containers: [{ name: "c", image: "busybox" }] } },
    });
  }
  const byNode = await kubectl(cluster, ["get", "po", "--field-selector", "spec.nodeName=n1", "-o", "name"]);
  assert.deepEqual(lines(byNode.stdout), ["pod/a", "pod/c"]);
  const byLabel = await kubectl(cluster, ["get", "po", "-l", "app=web", "-o", "name"]);
  assert.deepEqual(lines(byLabel.stdout), ["pod/a", "pod/b"]);
  const both = await kubectl(cluster, ["get", "po", "-l", "app notin (db)", "--field-selector", "spec.nodeName!=n2", "-o", "name"]);
  assert.deepEqual(lines(both.stdout), ["pod/a"]);
  const bad = await kubectl(cluster, ["get", "po", "--field-selector", "spec.bogus=x"]).catch((error: { stderr: string }) => error);
  assert.match(bad.stderr, /BadRequest.*field label not supported: spec\.bogus/);
});

test("kubectl imperative create", { skip }, async (t) => {
  // These generators send protobuf bodies rather than JSON.
  const cluster = await startTestCluster();
  t.after(() => cluster.cleanup());
  assert.deepEqual(lines((await kubectl(cluster, ["create", "namespace", "team"])).stdout), ["namespace/team created"]);
  assert.deepEqual(lines((await kubectl(cluster, ["create", "serviceaccount", "robot", "-n", "team"])).stdout), ["serviceaccount/robot created"]);
  assert.deepEqual(lines((await kubectl(cluster, ["create", "service", "clusterip", "web", "--tcp=80:8080", "-n", "team"])).stdout), ["service/web created"]);

  const namespace = await cluster.core.readNamespace({ name: "team" });
  assert.equal(namespace.status?.phase, "Active");
  const service = await cluster.core.readNamespacedService({ namespace: "team", name: "web" });
  assert.equal(service.spec?.type, "ClusterIP");
  assert.deepEqual(service.spec?.selector, { app: "web" });
  assert.equal(service.spec?.ports?.[0]?.port, 80);
  assert.equal(service.spec?.ports?.[0]?.targetPort, 8080);
  assert.match(service.spec?.clusterIP ?? "", /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/, "a cluster IP from 10.96.0.0/12");

  const services = lines((await kubectl(cluster, ["get", "svc", "-n", "team", "--no-headers"])).stdout);
  assert.equal(services.length, 1);
  assert.deepEqual(services[0]?.split(/\s+/).slice(0, 5), ["web", "ClusterIP", service.spec?.clusterIP, "<none>", "80/TCP"]);
});
