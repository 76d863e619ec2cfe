// A three-node lab on one shared segment, checked with ping, ovs-vsctl, ovs-ofctl and ip.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { after, before, describe, test } from "node:test";

import { downLab, labStatus, readLab, upLab } from "../../lab/index.ts";
import type { Lab } from "../../lab/index.ts";
import { isPidLive, liveProcessesMentioning, namespacesOf, pingTtl, rootLinksContaining, tempStateRoot, uniqueLabName } from "./helpers.ts";

describe("lab with three nodes on one subnet", () => {
  const name = uniqueLabName("one");
  let stateDir = "";
  let lab: Lab;
  const progress: string[] = [];

  before(async () => {
    stateDir = await tempStateRoot();
    lab = await upLab({ name, nodes: 3, stateDir, log: (line) => progress.push(line) });
  });

  after(async () => {
    await downLab({ name, stateDir });
    await rm(stateDir, { recursive: true, force: true });
  });

  test("creates one namespace per node plus underlay and outside", () => {
    assert.deepEqual(namespacesOf(name).sort(), [`${name}-n1`, `${name}-n2`, `${name}-n3`, `${name}-out`, `${name}-ul`]);
    assert.deepEqual(lab.nodes.map((node) => node.name), ["node1", "node2", "node3"]);
    assert.equal(lab.router, undefined);
  });

  test("reports progress steps", () => {
    assert.ok(progress.some((line) => line.includes("creating 5 namespaces")), progress.join("\n"));
    assert.ok(progress.some((line) => /is up in [\d.]+ s/.test(line)), progress.join("\n"));
  });

  test("puts each node's address on br-phy", () => {
    for (const node of lab.nodes) {
      const output = execFileSync("ip", ["-n", node.netns, "-o", "-4", "addr", "show", "dev", "br-phy"], { encoding: "utf8" });
      assert.match(output, new RegExp(`inet ${node.underlayIp.replaceAll(".", "\\.")}/${node.underlayPrefixLength} `), node.name);
      const link = execFileSync("ip", ["-n", node.netns, "-o", "link", "show", "dev", "br-phy"], { encoding: "utf8" });
      assert.match(link, new RegExp(`link/ether ${node.mac} `), `${node.name} br-phy MAC`);
    }
  });

  test("every node pings every other node", () => {
    for (const from of lab.nodes) {
      for (const to of lab.nodes) {
        if (from === to) continue;
        assert.equal(pingTtl(from.netns, to.underlayIp), 64, `${from.name} -> ${to.name} is one L2 hop`);
      }
    }
  });

  test("every node reaches the outside", () => {
    for (const node of lab.nodes) {
      assert.equal(pingTtl(node.netns, lab.outside.ip), 64, node.name);
    }
  });

  test("ovs-vsctl show lists br-phy with the uplink", () => {
    for (const node of lab.nodes) {
      const show = execFileSync("ovs-vsctl", [`--db=unix:${node.dbSocket}`, "show"], { encoding: "utf8" });
      assert.match(show, /Bridge br-phy/, node.name);
      assert.match(show, /datapath_type: netdev/, node.name);
      assert.match(show, /Port eth0/, node.name);
      const type = execFileSync("ovs-vsctl", [`--db=unix:${node.dbSocket}`, "get", "bridge", "br-phy", "datapath_type"], { encoding: "utf8" });
      assert.equal(type.trim(), "netdev");
    }
  });

  test("ovs-ofctl reaches br-phy's management socket", () => {
    const flows = execFileSync("ovs-ofctl", ["-O", "OpenFlow15", "dump-flows", `unix:${lab.node(1).mgmtSocket("br-phy")}`], { encoding: "utf8" });
    assert.match(flows, /actions=NORMAL/);
  });

  test("ovs-appctl reaches ovs-vswitchd", () => {
    const version = execFileSync("ovs-appctl", ["-t", lab.node("node2").vswitchdCtl, "version"], { encoding: "utf8" });
    assert.match(version, /^ovs-vswitchd \(Open vSwitch\)/);
  });

  test("exec runs inside the node namespace", async () => {
    const links = await lab.node(3).exec(["ip", "-o", "link", "show", "dev", "eth0"]);
    assert.match(links, /NOARP/, "the uplink does not answer ARP itself");
  });

  test("status reports every daemon alive", async () => {
    const status = await labStatus({ name, stateDir });
    assert.equal(status.healthy, true, status.problems.join("; "));
    assert.equal(status.phase, "ready");
    for (const node of status.nodes) {
      for (const daemon of node.daemons) {
        assert.ok(daemon.pid !== undefined, `${node.name} ${daemon.daemon} has a PID`);
        assert.equal(await isPidLive(daemon.pid), true, `${node.name} ${daemon.daemon}`);
      }
    }
  });

  test("readLab returns the same lab", async () => {
    const read = await readLab({ name, stateDir });
    assert.deepEqual(read?.nodes.map((node) => [node.netns, node.underlayIp, node.dbSocket]), lab.nodes.map((node) => [node.netns, node.underlayIp, node.dbSocket]));
  });

  test("down removes namespaces, links and daemons", async () => {
    const status = await labStatus({ name, stateDir });
    const pids = status.nodes.flatMap((node) => node.daemons.flatMap((daemon) => (daemon.pid === undefined ? [] : [daemon.pid])));
    assert.equal(pids.length, 6);

    const result = await downLab({ name, stateDir });
    assert.equal(result.existed, true);
    assert.deepEqual([...result.stoppedPids].sort(), [...pids].sort());

    assert.deepEqual(namespacesOf(name), []);
    assert.deepEqual(rootLinksContaining(name), []);
    for (const pid of pids) assert.equal(await isPidLive(pid), false, `PID ${pid}`);
    assert.deepEqual(await liveProcessesMentioning(stateDir), []);
    assert.equal(await readLab({ name, stateDir }), undefined);

    const again = await downLab({ name, stateDir });
    assert.equal(again.existed, false, "a second down finds nothing");
  });
});

describe("lab with an explicit underlay CIDR", () => {
  const name = uniqueLabName("cidr");
  let stateDir = "";

  before(async () => {
    stateDir = await tempStateRoot();
  });

  after(async () => {
    await downLab({ name, stateDir });
    await rm(stateDir, { recursive: true, force: true });
  });

  test("uses the given block", async () => {
    const lab = await upLab({ name, nodes: 2, stateDir, underlayCidr: "10.123.4.64/26" });
    assert.equal(lab.block, "10.123.4.64/26");
    assert.deepEqual(lab.nodes.map((node) => `${node.underlayIp}/${node.underlayPrefixLength}`), ["10.123.4.75/26", "10.123.4.76/26"]);
    assert.equal(lab.outside.ip, "10.123.4.126");
    const address = execFileSync("ip", ["-n", `${name}-out`, "-o", "-4", "addr", "show", "dev", "eth0"], { encoding: "utf8" });
    assert.match(address, /inet 10\.123\.4\.126\/26 /);
    assert.equal(pingTtl(lab.node(2).netns, lab.outside.ip), 64);
  });
});
