// The Star Wars demo end to end on a real two-node cluster: lab, API server, controller,
// agents, CNI plugin and pod runners. Needs root and Open vSwitch. Expected outcomes come
// from the NetworkPolicy semantics (only org=empire may reach class=deathstar on TCP 80),
// and the evidence from curl, kubectl and ovs-ofctl, never from the code under test.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";

import { downCluster, restartAgent } from "../../labcluster/cluster.ts";
import type { RunningCluster } from "../../labcluster/cluster.ts";
import { demoManifests, demoPods, runDemo } from "../../labcluster/demo.ts";
import type { DemoReport } from "../../labcluster/demo.ts";
import { isDropFlow } from "../../labcluster/flows.ts";
import { httpFromPod, waitForPodsRunning } from "../../labcluster/pods.ts";

// The process id in the name keeps two checkouts on one machine from sharing a cluster.
const name = `syke2e${process.pid % 100000}`;
const isRoot = process.getuid?.() === 0;
const agentBinary = join(import.meta.dirname, "../../../bin/switchyard-agent");

function kubectl(cluster: RunningCluster, args: readonly string[]): string {
  return execFileSync("kubectl", ["--kubeconfig", cluster.state.kubeconfig, ...args], { encoding: "utf8" });
}

async function runningPods(cluster: RunningCluster): Promise<Map<string, V1Pod>> {
  return waitForPodsRunning({ state: cluster.state, names: demoPods, timeoutMs: 90_000 });
}

async function landing(cluster: RunningCluster, pods: Map<string, V1Pod>, ship: string): Promise<{ answered: boolean; body: string; curlExitCode: number }> {
  const from = pods.get(ship);
  const target = pods.get("deathstar-1");
  assert.ok(from !== undefined, `pod ${ship} is running`);
  assert.ok(target !== undefined, "pod deathstar-1 is running");
  return httpFromPod({ state: cluster.state, from, method: "POST", url: `http://${target.status?.podIP ?? ""}/v1/request-landing`, timeoutSeconds: 3 });
}

async function assertPolicyHolds(cluster: RunningCluster, when: string): Promise<void> {
  const pods = await runningPods(cluster);
  const tiefighter = await landing(cluster, pods, "tiefighter");
  assert.equal(tiefighter.answered, true, `${when}: the tiefighter lands`);
  assert.equal(tiefighter.body, "Ship landed", `${when}: the deathstar answers the tiefighter`);
  const xwing = await landing(cluster, pods, "xwing");
  assert.equal(xwing.answered, false, `${when}: the xwing gets no answer`);
  assert.equal(xwing.curlExitCode, 28, `${when}: the xwing's request times out (curl exit code 28) instead of being refused`);
}

describe("star wars demo", { skip: isRoot ? false : "needs root", timeout: 300_000 }, () => {
  let cluster: RunningCluster | undefined;
  let report: DemoReport | undefined;

  before(async () => {
    await downCluster({ name });
    const result = await runDemo({ name, keep: true, out: () => {}, log: () => {} });
    cluster = result.cluster;
    report = result.report;
  });

  after(async () => {
    await downCluster({ name });
  });

  test("pods run with IPs on both nodes", () => {
    assert.ok(cluster !== undefined);
    const pods = JSON.parse(kubectl(cluster, ["get", "pods", "-o", "json"])) as { items: V1Pod[] };
    for (const podName of demoPods) {
      const pod = pods.items.find((item) => item.metadata?.name === podName);
      assert.equal(pod?.status?.phase, "Running", `${podName} is Running`);
      assert.match(pod.status.podIP ?? "", /^10\.244\.\d+\.\d+$/, `${podName} has an address from the cluster CIDR`);
    }
    const nodes = new Set(pods.items.map((pod) => pod.spec?.nodeName));
    assert.deepEqual([...nodes].sort(), ["node1", "node2"]);
  });

  test("both ships land before the policy", () => {
    assert.ok(report !== undefined);
    assert.equal(report.landingsBefore.tiefighter.status, 200);
    assert.equal(report.landingsBefore.tiefighter.body, "Ship landed");
    assert.equal(report.landingsBefore.xwing.status, 200);
    assert.equal(report.landingsBefore.xwing.body, "Ship landed");
  });

  test("policy lets the tiefighter land", () => {
    assert.ok(report !== undefined);
    assert.equal(report.landingsAfter.tiefighter.status, 200);
    assert.equal(report.landingsAfter.tiefighter.body, "Ship landed");
  });

  test("policy times the xwing out", () => {
    assert.ok(report !== undefined);
    assert.equal(report.landingsAfter.xwing.answered, false);
    assert.equal(report.landingsAfter.xwing.curlExitCode, 28);
  });

  test("a policy drop flow counts the xwing", () => {
    assert.ok(report !== undefined);
    const drops = report.xwingFlows.filter((flow) => isDropFlow(flow.line) && /ingress/i.test(flow.table));
    assert.ok(drops.length > 0, `an ingress policy drop flow counted packets; grown flows:\n${report.xwingFlows.map((flow) => flow.line).join("\n")}`);
  });

  test("decode-cookie names the drop flow's pod", () => {
    assert.ok(cluster !== undefined);
    assert.ok(report !== undefined);
    const drop = report.xwingFlows.find((flow) => isDropFlow(flow.line) && /ingress/i.test(flow.table));
    const cookie = /cookie=(0x[0-9a-f]+)/.exec(drop?.line ?? "")?.[1];
    assert.ok(cookie !== undefined, `the drop flow carries a cookie: ${drop?.line ?? "no drop flow"}`);
    const deathstar = JSON.parse(kubectl(cluster, ["get", "pod", "deathstar-1", "-o", "json"])) as V1Pod;
    const agentConfig = cluster.paths.node(deathstar.spec?.nodeName ?? "").agentConfig;
    const decoded = execFileSync(agentBinary, ["--decode-cookie", cookie, "--config", agentConfig], { encoding: "utf8" });
    assert.match(decoded, /policy, id \d+ \(ingress isolation of pod default\/deathstar-1 \(10\.244\.\d+\.\d+\/32\)\)/, decoded);
  });

  test("matrix matches the policy on TCP 80", () => {
    assert.ok(report !== undefined);
    const port = report.matrix.ports.find((entry) => entry.port === 80 && entry.protocol === "tcp");
    assert.ok(port !== undefined);
    const reach = (from: string, to: string): boolean | undefined => port.reachable[`default/${from}`]?.[`default/${to}`];
    assert.equal(reach("tiefighter", "deathstar-1"), true);
    assert.equal(reach("tiefighter", "deathstar-2"), true);
    assert.equal(reach("xwing", "deathstar-1"), false);
    assert.equal(reach("xwing", "deathstar-2"), false);
    assert.equal(reach("deathstar-1", "deathstar-2"), true, "deathstar pods are org=empire, so they reach each other");
  });

  test("policy survives an agent restart", async () => {
    assert.ok(cluster !== undefined);
    const old = cluster.state.daemons.find((daemon) => daemon.name === "agent node2");
    const restarted = await restartAgent(cluster, "node2");
    assert.notEqual(restarted.pid, old?.pid, "the agent runs under a new PID");
    await assertPolicyHolds(cluster, "after restarting node2's agent");
  });

  test("policy applies to re-created pods", async () => {
    assert.ok(cluster !== undefined);
    const uidsBefore = kubectl(cluster, ["get", "pod", "deathstar-1", "xwing", "-o", "jsonpath={.items[*].metadata.uid}"]);
    kubectl(cluster, ["delete", "pod", "deathstar-1", "xwing", "--wait=false"]);
    // The local API server deletes at once; wait until both names are gone before re-creating.
    for (let attempt = 0; attempt < 50 && kubectl(cluster, ["get", "pods", "-o", "name"]).match(/pod\/(deathstar-1|xwing)\n/); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    kubectl(cluster, ["apply", "-f", demoManifests.pods]);
    await runningPods(cluster);
    const uidsAfter = kubectl(cluster, ["get", "pod", "deathstar-1", "xwing", "-o", "jsonpath={.items[*].metadata.uid}"]);
    for (const uid of uidsBefore.split(" ")) assert.ok(!uidsAfter.includes(uid), `pod uid ${uid} was replaced by a new pod`);
    await assertPolicyHolds(cluster, "after re-creating deathstar-1 and the xwing");
  });
});
