// End-to-end forwarding in the lab: three nodes with three pods each, one agent per node.
// Every pod pings and opens TCP to every other pod, and pings every node and the outside.
// Packets with a forged source address get no reply. An agent restart loses no ping, and
// traffic recovers after ovs-vswitchd restarts. Geneve runs every check; the other modes
// ping every pod but open TCP to one pod per node, and skip the restarts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { run } from "../../lab/index.ts";
import type { EncapMode, TunnelType } from "../../../agent/forwarding/modes.ts";
import { connects, E2eCluster, pings, type E2ePod } from "./harness.ts";

interface ModeCase {
  readonly labName: string;
  readonly mode: EncapMode;
  readonly tunnelType: TunnelType;
  readonly subnets: 1 | 2;
  /** TCP to every pod and the restart checks; otherwise TCP to one pod per node. Pings always cover every pod. */
  readonly full: boolean;
}

const CASES: readonly ModeCase[] = [
  { labName: "sya-geneve", mode: "encap", tunnelType: "geneve", subnets: 1, full: true },
  { labName: "sya-vxlan", mode: "encap", tunnelType: "vxlan", subnets: 1, full: false },
  { labName: "sya-gre", mode: "encap", tunnelType: "gre", subnets: 1, full: false },
  { labName: "sya-noencap", mode: "noEncap", tunnelType: "geneve", subnets: 1, full: false },
  { labName: "sya-hybrid", mode: "hybrid", tunnelType: "geneve", subnets: 2, full: false },
];

/** Runs `check` over every item with at most `limit` running at once; returns the failures. */
async function failures<T>(items: readonly T[], limit: number, check: (item: T) => Promise<boolean>, describeItem: (item: T) => string): Promise<string[]> {
  const failed: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      if (!(await check(item))) failed.push(describeItem(item));
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return failed;
}

for (const c of CASES) {
  describe(`forwarding ${c.mode}${c.mode === "noEncap" ? "" : ` ${c.tunnelType}`} over ${c.subnets} subnet(s)`, { timeout: 180_000 }, () => {
    const cluster = new E2eCluster({ labName: c.labName, subnets: c.subnets, mode: c.mode, tunnelType: c.tunnelType, podsPerNode: 3 });

    before(async () => {
      await cluster.start();
    });
    after(async () => {
      await cluster.stop();
    });

    /** Returns every other pod, or with `reduced` one pod per node (the cheaper TCP check of the other modes). */
    function targetPods(source: E2ePod, options: { reduced: boolean }): E2ePod[] {
      const others = cluster.pods.filter((pod) => pod !== source);
      if (!options.reduced) return others;
      return others.filter((pod, index, list) => list.findIndex((candidate) => candidate.node === pod.node) === index);
    }

    const pairs = (options: { reduced: boolean }) => cluster.pods.flatMap((source) => targetPods(source, options).map((target) => ({ source, target })));

    test("host routes follow the mode", async () => {
      const node1 = cluster.lab.node(1);
      const routes = (await node1.exec(["ip", "-4", "route", "show", "proto", "83"])).trim().split("\n").map((line) => line.trim()).sort();
      const expected = cluster.lab.nodes
        .filter((node) => node.index !== 1)
        .map((node) => {
          // hybrid: node3 shares node1's segment (nodes alternate between segments a and b).
          const underlay = c.mode === "noEncap" || (c.mode === "hybrid" && node.subnet === node1.subnet);
          return underlay ? `10.244.${node.index}.0/24 via ${node.underlayIp} dev ${node1.physicalBridge}` : `10.244.${node.index}.0/24 via 10.244.${node.index}.1 dev sya-gw0 onlink`;
        })
        .sort();
      assert.deepEqual(routes, expected);
      const ports = (await node1.vsctl(["list-ports", "br-int"])).split("\n");
      assert.equal(ports.includes("sya-tun0"), c.mode !== "noEncap");
    });

    test("pod to pod: ping", async () => {
      const failed = await failures(pairs({ reduced: false }), 3, ({ source, target }) => pings(cluster, source, target.ip), ({ source, target }) => `${source.name}->${target.name}`);
      assert.deepEqual(failed, []);
    });

    test("pod to pod: TCP", async () => {
      const failed = await failures(pairs({ reduced: !c.full }), 3, ({ source, target }) => connects(cluster, source, target.ip), ({ source, target }) => `${source.name}->${target.name}`);
      assert.deepEqual(failed, []);
    });

    test("pod to nodes and outside: ping", async () => {
      const targets = [...cluster.lab.nodes.map((node) => ({ name: node.name, ip: node.underlayIp })), { name: "outside", ip: cluster.lab.outside.ip }];
      const items = cluster.pods.flatMap((source) => targets.map((target) => ({ source, target })));
      const failed = await failures(items, 3, ({ source, target }) => pings(cluster, source, target.ip), ({ source, target }) => `${source.name}->${target.name}`);
      assert.deepEqual(failed, []);
    });

    test("forged source: no answer", async () => {
      const [source] = cluster.pods as [E2ePod];
      const target = cluster.pods.find((pod) => pod.node !== source.node) as E2ePod;
      await cluster.exec(source, ["ip", "addr", "add", "10.244.1.99/24", "dev", "eth0"]);
      try {
        assert.equal(await pings(cluster, source, target.ip), true, "control ping from the real address");
        await assert.rejects(cluster.exec(source, ["ping", "-c", "2", "-W", "1", "-I", "10.244.1.99", target.ip]));
      } finally {
        await cluster.exec(source, ["ip", "addr", "del", "10.244.1.99/24", "dev", "eth0"]);
      }
    });

    if (!c.full) return;

    test("agent restart: no ping lost", async () => {
      const source = cluster.pods.find((pod) => pod.node.index === 1) as E2ePod;
      const target = cluster.pods.find((pod) => pod.node.index === 2) as E2ePod;
      const node1 = cluster.lab.node(1);
      const pinging = cluster.exec(source, ["ping", "-c", "60", "-i", "0.05", "-W", "1", target.ip]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await cluster.stopAgent(node1);
      await cluster.startAgent(node1);
      const output = await pinging;
      assert.match(output, /60 packets transmitted, 60 received/);
      assert.doesNotMatch(output, /duplicates/);
    });

    test("ovs-vswitchd restart: traffic back within seconds", async () => {
      const node2 = cluster.lab.node(2);
      const source = cluster.pods.find((pod) => pod.node.index === 1) as E2ePod;
      const target = cluster.pods.find((pod) => pod.node.index === 2) as E2ePod;
      await node2.vsctl(["set", "open_vswitch", ".", "other_config:flow-restore-wait=true"]);
      const pid = Number((await run(["cat", `${node2.ovsDir}/vswitchd.pid`])).trim());
      process.kill(pid, "SIGTERM");
      for (let waited = 0; waited < 5000; waited += 100) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const started = Date.now();
      await run(["ovs-vswitchd", `unix:${node2.dbSocket}`, `--pidfile=${node2.ovsDir}/vswitchd.pid`, `--unixctl=${node2.vswitchdCtl}`, `--log-file=${node2.ovsDir}/vswitchd.log`, "--detach"], {
        netns: node2.netns,
        env: { OVS_RUNDIR: node2.ovsDir },
      });
      // br-phy is an OVS internal device too: the restarted daemon recreated it without the
      // underlay address, which the lab (standing in for the node's network setup) puts back.
      await node2.exec(["ip", "addr", "replace", `${node2.underlayIp}/${node2.underlayPrefixLength}`, "dev", node2.physicalBridge]);
      await node2.exec(["ip", "link", "set", node2.physicalBridge, "up"]);
      let ok = false;
      while (!ok && Date.now() - started < 15_000) ok = await pings(cluster, source, target.ip, { attempts: 1 });
      assert.equal(ok, true, "ping across nodes after ovs-vswitchd restart");
      assert.ok(Date.now() - started < 15_000);
    });
  });
}
