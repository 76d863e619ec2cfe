// Cross-node pod traffic in the forwarding modes the other cluster suites do not use
// (they cover geneve and hybrid): a tiefighter on node1 lands on a deathstar on node2.
// Needs root and Open vSwitch. The evidence is curl's HTTP response from inside the pod.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, describe, test } from "node:test";

import { downCluster, upCluster } from "../../labcluster/cluster.ts";
import type { ClusterMode } from "../../labcluster/config.ts";
import { demoManifests } from "../../labcluster/demo.ts";
import { httpFromPod, waitForPodsRunning } from "../../labcluster/pods.ts";

const isRoot = process.getuid?.() === 0;
const modes: ClusterMode[] = ["vxlan", "gre", "noencap"];

describe("forwarding modes", { skip: isRoot ? false : "needs root", timeout: 300_000 }, () => {
  for (const mode of modes) {
    const name = `sykmode-${mode}`;

    describe(mode, () => {
      after(async () => {
        await downCluster({ name });
      });

      test(`${mode}: tiefighter lands across nodes`, async () => {
        await downCluster({ name });
        const cluster = await upCluster({ name, nodes: 2, mode });
        execFileSync("kubectl", ["--kubeconfig", cluster.state.kubeconfig, "apply", "-f", demoManifests.pods]);
        const pods = await waitForPodsRunning({ state: cluster.state, names: ["deathstar-1", "tiefighter"], timeoutMs: 90_000 });
        const from = pods.get("tiefighter");
        const target = pods.get("deathstar-1");
        assert.ok(from !== undefined);
        assert.ok(target !== undefined);
        assert.equal(from.spec?.nodeName, "node1");
        assert.equal(target.spec?.nodeName, "node2");
        const outcome = await httpFromPod({ state: cluster.state, from, method: "POST", url: `http://${target.status?.podIP ?? ""}/v1/request-landing`, timeoutSeconds: 3 });
        assert.equal(outcome.status, 200, `curl exit code ${outcome.curlExitCode}`);
        assert.equal(outcome.body, "Ship landed");
        if (mode !== "noencap") {
          const tunnelType = (await cluster.lab.node("node1").vsctl(["get", "Interface", "sy-tun0", "type"])).trim();
          assert.equal(tunnelType, mode, "the agent created a tunnel port of the mode's type");
        }
      });
    });
  }
});
