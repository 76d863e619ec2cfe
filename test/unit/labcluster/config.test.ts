// Configuration files of the local cluster: field values written from
// docs/configuration-agent.md, docs/configuration-controller.md and docs/cni.md, and
// acceptance by the agent's and the controller's own validators.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";

import { parseConfig } from "../../../controller/config/load.ts";
import { agentConfig, clusterPaths, cniConflist, controllerConfig, forwardingForMode, parseMode, subnetsForMode } from "../../labcluster/config.ts";
import type { ClusterMode } from "../../labcluster/config.ts";
import { ClusterUpError } from "../../labcluster/errors.ts";

const paths = clusterPaths("/var/run/switchyard-lab/syk");
const node1 = paths.node("node1");

function agentFor(mode: ClusterMode): Record<string, unknown> {
  return agentConfig({
    nodeName: "node1",
    mode,
    inLabKubeconfig: paths.inLabKubeconfig,
    dbSocket: "/var/run/switchyard-lab/syk/node1/db.sock",
    ovsDir: "/var/run/switchyard-lab/syk/node1",
    paths: node1,
    outsideIp: "10.200.5.254",
  });
}

describe("cluster modes", () => {
  const cases = [
    { mode: "geneve", trafficEncapMode: "encap", tunnelType: "geneve", subnets: 1 },
    { mode: "vxlan", trafficEncapMode: "encap", tunnelType: "vxlan", subnets: 1 },
    { mode: "gre", trafficEncapMode: "encap", tunnelType: "gre", subnets: 1 },
    { mode: "noencap", trafficEncapMode: "noEncap", tunnelType: "geneve", subnets: 1 },
    { mode: "hybrid", trafficEncapMode: "hybrid", tunnelType: "geneve", subnets: 2 },
  ] as const;
  for (const expected of cases) {
    test(`mode ${expected.mode}`, () => {
      const mode = parseMode(expected.mode);
      assert.deepEqual(forwardingForMode(mode), { trafficEncapMode: expected.trafficEncapMode, tunnelType: expected.tunnelType });
      assert.equal(subnetsForMode(mode), expected.subnets);
    });
  }

  test("mode is case-insensitive", () => {
    assert.equal(parseMode("VXLAN"), "vxlan");
  });

  test("unknown mode names the choices", () => {
    assert.throws(() => parseMode("ipip"), (error: unknown) => error instanceof ClusterUpError && error.code === "INVALID_OPTION" && /geneve, vxlan, gre, noencap, hybrid/.test(error.message));
  });
});

describe("agent config", () => {
  test("points at the node's OVS with netdev", () => {
    assert.deepEqual(agentFor("geneve").ovs, {
      bridge: "br-int",
      datapathType: "netdev",
      dbSocket: "/var/run/switchyard-lab/syk/node1/db.sock",
      runDir: "/var/run/switchyard-lab/syk/node1",
    });
  });

  test("uses the in-lab kubeconfig", () => {
    assert.equal(agentFor("geneve").kubeconfig, "/var/run/switchyard-lab/syk/cluster/in-lab.kubeconfig");
  });

  test("CNI socket matches the conflist", () => {
    const conflist = cniConflist({ paths: node1 }) as { plugins: Array<{ socketPath: string }> };
    assert.deepEqual(agentFor("geneve").cni, { socketPath: "/var/run/switchyard-lab/syk/cluster/node1/cni.sock", stateDir: "/var/run/switchyard-lab/syk/cluster/node1/agent-state" });
    assert.equal(conflist.plugins[0]?.socketPath, "/var/run/switchyard-lab/syk/cluster/node1/cni.sock");
  });

  test("controller section names the outside address", () => {
    assert.deepEqual(agentFor("geneve").controller, {
      url: "https://10.200.5.254:10351",
      caFile: "/var/run/switchyard-lab/syk/cluster/node1/controller-client/ca.crt",
      certFile: "/var/run/switchyard-lab/syk/cluster/node1/controller-client/client.crt",
      keyFile: "/var/run/switchyard-lab/syk/cluster/node1/controller-client/client.key",
      cacheFile: "/var/run/switchyard-lab/syk/cluster/node1/agent-state/policy-cache.json",
    });
  });

  for (const mode of ["geneve", "vxlan", "gre", "noencap", "hybrid"] as const) {
    test(`agent --check-config accepts ${mode}`, () => {
      const dir = mkdtempSync(join(tmpdir(), "syk-agentcfg-"));
      try {
        const file = join(dir, "agent.json");
        writeFileSync(file, JSON.stringify(agentFor(mode)));
        const output = execFileSync(process.execPath, [join(import.meta.dirname, "../../../agent/main.ts"), "--config", file, "--check-config"], { encoding: "utf8" });
        const checked = JSON.parse(output) as { trafficEncapMode: string; tunnel: { type: string }; ovs: { datapathType: string } };
        assert.equal(checked.trafficEncapMode, forwardingForMode(mode).trafficEncapMode);
        assert.equal(checked.tunnel.type, forwardingForMode(mode).tunnelType);
        assert.equal(checked.ovs.datapathType, "netdev");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe("controller config", () => {
  const config = controllerConfig({ inLabKubeconfig: paths.inLabKubeconfig, outsideIp: "10.200.5.254", tlsDir: paths.controllerTlsDir });

  test("controller validator accepts it", () => {
    const parsed = parseConfig(JSON.stringify(config), "controller.json");
    assert.deepEqual(parsed.clusterCIDRs, ["10.244.0.0/16"]);
    assert.equal(parsed.nodeCIDRMaskSizeIPv4, 24);
    assert.equal(parsed.api.bindAddress, "10.200.5.254");
    assert.equal(parsed.api.port, 10351);
    assert.deepEqual(parsed.tls.serverNames, ["10.200.5.254"]);
    assert.equal(parsed.tls.dir, "/var/run/switchyard-lab/syk/cluster/controller-tls");
    assert.equal(parsed.kubeconfig, "/var/run/switchyard-lab/syk/cluster/in-lab.kubeconfig");
  });
});

describe("cni conflist", () => {
  test("names the switchyard plugin", () => {
    assert.deepEqual(cniConflist({ paths: node1 }), {
      cniVersion: "1.0.0",
      name: "switchyard",
      plugins: [{ type: "switchyard", socketPath: "/var/run/switchyard-lab/syk/cluster/node1/cni.sock", logFile: "/var/run/switchyard-lab/syk/cluster/node1/cni.log" }],
    });
  });

  test("conflist file has the conflist suffix", () => {
    assert.match(node1.cniConflist, /\/cni\/net\.d\/[^/]+\.conflist$/);
  });
});
