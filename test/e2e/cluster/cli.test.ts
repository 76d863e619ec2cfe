// bin/switchyard-cluster as a user runs it, on a real two-node cluster in hybrid mode (two
// underlay subnets, so pod traffic between the nodes is tunnelled through the router).
// Needs root and Open vSwitch. Outcomes are checked through exit codes, --json output,
// kubectl and ip netns, not through the library under test.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { demoManifests } from "../../labcluster/demo.ts";

// The process id in the name keeps two checkouts on one machine from sharing a cluster.
const name = `sykcli${process.pid % 100000}`;
const cli = join(import.meta.dirname, "../../../bin/switchyard-cluster");
const isRoot = process.getuid?.() === 0;

function run(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(cli, [...args, "--name", name], { encoding: "utf8", timeout: 240_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("switchyard-cluster cli", { skip: isRoot ? false : "needs root", timeout: 300_000 }, () => {
  let kubeconfig = "";

  before(() => {
    run(["down"]);
    const up = run(["up", "--nodes", "2", "--mode", "hybrid", "--json"]);
    assert.equal(up.status, 0, `up failed:\n${up.stderr}`);
    kubeconfig = (JSON.parse(up.stdout) as { kubeconfig: string }).kubeconfig;
  });

  after(() => {
    run(["down"]);
  });

  test("status reports healthy", () => {
    const result = run(["status", "--json"]);
    assert.equal(result.status, 0, result.stdout);
    const status = JSON.parse(result.stdout) as { healthy: boolean; daemons: Array<{ name: string; alive: boolean }>; nodes: Array<{ podCIDR: string }> };
    assert.equal(status.healthy, true);
    const names = status.daemons.map((daemon) => daemon.name).sort();
    assert.deepEqual(names, ["agent node1", "agent node2", "apiserver", "controller", "relay outside", "relay root", "runner node1", "runner node2", "scheduler"]);
    assert.equal(status.nodes.length, 2);
  });

  test("second up is rejected", () => {
    const result = run(["up", "--nodes", "2"]);
    assert.equal(result.status, 2);
    assert.ok(result.stderr.includes(`cluster ${name} already exists: remove it with bin/switchyard-cluster down --name ${name}`), result.stderr);
    assert.equal(run(["status"]).status, 0, "the running cluster is left alone");
  });

  test("kubectl sees pod CIDRs", () => {
    const cidrs = execFileSync("kubectl", ["--kubeconfig", kubeconfig, "get", "nodes", "-o", "jsonpath={.items[*].spec.podCIDR}"], { encoding: "utf8" });
    assert.deepEqual(cidrs.split(" ").sort(), ["10.244.0.0/24", "10.244.1.0/24"]);
  });

  test("apply then probe across nodes", async () => {
    assert.equal(run(["apply", "-f", demoManifests.pods]).status, 0);
    let probe = run(["probe", "tiefighter", "deathstar-1", "80", "--json"]);
    for (let attempt = 0; attempt < 60 && probe.status !== 0; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      probe = run(["probe", "tiefighter", "deathstar-1", "80", "--json"]);
    }
    assert.equal(probe.status, 0, `probe failed:\n${probe.stdout}${probe.stderr}`);
    const result = JSON.parse(probe.stdout) as { reachable: boolean; toIp: string };
    assert.equal(result.reachable, true);
    assert.match(result.toIp, /^10\.244\.1\.\d+$/, "deathstar-1 runs on node2, whose pod CIDR is 10.244.1.0/24");
  });

  test("probe exit code 1 when blocked", () => {
    // The idle xwing listens on no port, so TCP 80 on it is refused.
    const result = run(["probe", "tiefighter", "xwing", "80"]);
    assert.equal(result.status, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /blocked/);
  });

  test("probe of a missing pod names it", () => {
    const result = run(["probe", "tiefighter", "nosuchpod", "80"]);
    assert.equal(result.status, 2, result.stderr);
    assert.ok(result.stderr.includes("pod default/nosuchpod not found; name a pod of another namespace as NAMESPACE/NAME"), result.stderr);
  });

  test("flows lists br-int tables", () => {
    const result = run(["flows", "node2", "--json"]);
    assert.equal(result.status, 0, result.stderr);
    const flows = (JSON.parse(result.stdout) as { node: string; flows: string[] }).flows;
    assert.ok(flows.length > 10, `br-int has the pipeline's flows, got ${flows.length}`);
    assert.ok(flows.some((line) => /table=IngressPolicy/.test(line)), "tables are shown by name");
  });

  test("matrix json covers the pods", () => {
    const result = run(["matrix", "--ports", "80/tcp", "--json"]);
    assert.equal(result.status, 0, result.stderr);
    const matrix = JSON.parse(result.stdout) as { pods: string[]; ports: Array<{ reachable: Record<string, Record<string, boolean>> }> };
    assert.deepEqual(matrix.pods, ["default/deathstar-1", "default/deathstar-2", "default/tiefighter", "default/xwing"]);
    assert.equal(matrix.ports[0]?.reachable["default/xwing"]?.["default/deathstar-2"], true, "without a policy the xwing reaches the deathstar");
  });

  test("down twice, then absent", () => {
    const first = run(["down"]);
    assert.equal(first.status, 0, first.stderr);
    assert.ok(first.stdout.includes(`cluster ${name} removed`), first.stdout);
    const second = run(["down"]);
    assert.equal(second.status, 0);
    assert.match(second.stdout, /nothing is left to remove/);
    assert.equal(run(["status"]).status, 3);
    const namespaces = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
    assert.equal(namespaces.split("\n").filter((line) => line.startsWith(`${name}-`)).length, 0, `no ${name}- namespace is left:\n${namespaces}`);
  });
});
