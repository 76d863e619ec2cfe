// The agent daemon against a real Open vSwitch and the local API server: start-up, peer
// routes and flows from Node objects (including a pod CIDR moving between nodes), restart
// with a new round, and recovery after ovs-vswitchd restarts.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { CoreV1Api, KubeConfig, type V1Node } from "@kubernetes/client-node";
import { startApiServer, type ApiServer } from "../../apiserver/index.ts";
import { run } from "../../lab/index.ts";
import { createLogger, createSilentLogger } from "../../../common/log/logger.ts";
import { validateAgentConfig } from "../../../agent/config/validate.ts";
import { AgentDaemon } from "../../../agent/daemon.ts";
import { AgentMetrics } from "../../../agent/metrics.ts";
import type { HostRunner } from "../../../agent/host/command.ts";
import { addTestPod, deleteTestPods, dumpFlows, startTestNode, type TestNode, type TestPod } from "./fixture.ts";

const BRIDGE = "br-int";
let node: TestNode;
let api: ApiServer;
let core: CoreV1Api;
let kubeConfig: KubeConfig;
let dir: string;
let daemon: AgentDaemon | undefined;
const pods: TestPod[] = [];

function nodeObject(name: string, cidr: string, ip: string): V1Node {
  return { metadata: { name }, spec: { podCIDR: cidr, podCIDRs: [cidr] }, status: { addresses: [{ type: "InternalIP", address: ip }] } };
}

async function startAgent(): Promise<AgentDaemon> {
  const config = validateAgentConfig(
    {
      nodeName: "n1",
      ovs: { bridge: BRIDGE, datapathType: "netdev", dbSocket: node.ovs.dbSocket, runDir: node.ovs.dir },
      gateway: { name: "sya-gw0" },
      tunnel: { name: "sya-tun0" },
      metrics: { port: 0 },
      informers: { backoffInitialMs: 100, backoffMaxMs: 1000 },
      cni: { socketPath: `${dir}/cni.sock`, stateDir: `${dir}/cni` },
    },
    "test",
  );
  const runner: HostRunner = (argv, options) => run(argv, { netns: node.netns, input: options?.input });
  // SWITCHYARD_TEST_AGENT_LOGS=1 prints the agents' logs, for debugging a failure.
  const logger = process.env["SWITCHYARD_TEST_AGENT_LOGS"] === "1" ? createLogger({ level: "debug", format: "text" }) : createSilentLogger();
  return AgentDaemon.start({ config, logger, kubeConfig, run: runner, metrics: new AgentMetrics({ processMetrics: false }), nodeWaitMs: 10_000 });
}

async function hostRoutes(): Promise<string> {
  return (await node.exec(["ip", "-4", "route", "show", "proto", "83"])).trim();
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function cookieRounds(lines: readonly string[]): Set<string> {
  return new Set(lines.map((line) => /^cookie=0x([0-9a-f]+)/.exec(line)?.[1]?.padStart(16, "0").slice(0, 4) ?? "none"));
}

before(async () => {
  node = await startTestNode("dm");
  dir = await mkdtemp("/tmp/syadm");
  // This kernel has no dummy module, so a veth pair whose peer stays in the namespace is the uplink.
  await node.exec(["ip", "link", "add", "sya-eth0", "type", "veth", "peer", "name", "sya-eth0p"]);
  await node.exec(["ip", "link", "set", "sya-eth0p", "up"]);
  await node.exec(["ip", "addr", "add", "192.168.77.11/24", "dev", "sya-eth0"]);
  await node.exec(["ip", "link", "set", "sya-eth0", "mtu", "1500", "up"]);
  api = await startApiServer({ port: 0 });
  const kubeconfigPath = join(dir, "kubeconfig");
  await api.writeKubeconfig(kubeconfigPath);
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNode({ body: nodeObject("n1", "10.244.1.0/24", "192.168.77.11") });
  await core.createNode({ body: nodeObject("n2", "10.244.2.0/24", "192.168.77.12") });
  daemon = await startAgent();
});

after(async () => {
  await daemon?.stop();
  await deleteTestPods(pods);
  await api?.close();
  await node?.cleanup();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

test("start: gateway address and MTU", async () => {
  const text = await node.exec(["ip", "-4", "addr", "show", "dev", "sya-gw0"]);
  assert.match(text, /inet 10\.244\.1\.1\/24 /);
  assert.match(text, /mtu 1450 /);
  assert.equal((await node.exec(["sysctl", "-n", "net.ipv4.ip_forward"])).trim(), "1");
});

test("start: peer route and tunnel flow", async () => {
  assert.equal(await hostRoutes(), "10.244.2.0/24 via 10.244.2.1 dev sya-gw0 onlink");
  const neighbours = await node.exec(["ip", "neigh", "show", "10.244.2.1", "dev", "sya-gw0"]);
  assert.match(neighbours, /lladdr aa:bb:cc:dd:ee:ff PERMANENT/);
  const flows = await dumpFlows(node, BRIDGE);
  assert.ok(flows.some((line) => line.includes("table=L3Forwarding, priority=200,ip,nw_dst=10.244.2.0/24 ") && line.includes("set_field:192.168.77.12->tun_dst")));
});

test("start: SNAT rules with nft", async () => {
  const text = await node.exec(["nft", "list", "table", "ip", "switchyard"]);
  assert.match(text, /elements = \{ 10\.244\.1\.0\/24, 10\.244\.2\.0\/24 \}/);
  assert.match(text, /ip saddr 10\.244\.1\.0\/24 oifname != "sya-gw0" ip daddr != @pod-cidrs masquerade/);
});

test("start: metrics endpoint", async () => {
  const response = await fetch(`http://127.0.0.1:${daemon?.metricsPort}/metrics`);
  const text = await response.text();
  assert.equal(response.status, 200);
  assert.match(text, /switchyard_agent_flows\{table="L3Forwarding"\} 3/);
  assert.match(text, /switchyard_agent_peer_routes\{via="tunnel"\} 1/);
  assert.match(text, /switchyard_agent_ovs_connected\{protocol="openflow"\} 1/);
});

/** Reads one series of the agent's /metrics; undefined when the series is absent. */
async function metricValue(series: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${daemon?.metricsPort}/metrics`)).text();
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test("informers: only this node's Pods reach the agent", async () => {
  const podEvents = 'switchyard_agent_informer_handler_duration_seconds_count{kind="Pod"}';
  const before = (await metricValue(podEvents)) ?? 0;
  const podBody = (name: string, nodeName: string) => ({ metadata: { name, namespace: "default" }, spec: { nodeName, containers: [{ name: "c", image: "none" }] } });
  // Written in this order, an agent watching every Pod would have syi-there in its cache
  // by the time the add and the delete of syi-here arrive.
  await core.createNamespacedPod({ namespace: "default", body: podBody("syi-there", "n2") });
  try {
    await core.createNamespacedPod({ namespace: "default", body: podBody("syi-here", "n1") });
    await core.deleteNamespacedPod({ namespace: "default", name: "syi-here" });
    await waitFor(async () => ((await metricValue(podEvents)) ?? 0) - before >= 2, "the add and delete of syi-here");
    assert.equal(((await metricValue(podEvents)) ?? 0) - before, 2, "two Pod events: the add and the delete of syi-here");
    assert.equal(await metricValue('switchyard_agent_informer_objects{kind="Pod"}'), 0);
    assert.equal(await metricValue('switchyard_agent_informer_objects{kind="Node"}'), 2);
    const text = await (await fetch(`http://127.0.0.1:${daemon?.metricsPort}/metrics`)).text();
    assert.match(text, /^# TYPE switchyard_agent_informer_restarts_total counter$/m);
  } finally {
    await core.deleteNamespacedPod({ namespace: "default", name: "syi-there" });
  }
});

test("peers: CIDR moves to a new node before the old one is deleted", async () => {
  await new Promise((resolve) => setTimeout(resolve, 1100)); // creationTimestamp has one-second resolution
  await core.createNode({ body: nodeObject("n3", "10.244.2.0/24", "192.168.77.13") });
  await waitFor(async () => (await hostRoutes()) === "10.244.2.0/24 via 10.244.2.1 dev sya-gw0 onlink" && (await dumpFlows(node, BRIDGE)).some((line) => line.includes("192.168.77.13->tun_dst")), "route to n3");
  await core.deleteNode({ name: "n2" });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const flows = (await dumpFlows(node, BRIDGE)).filter((line) => line.includes("nw_dst=10.244.2.0/24"));
  assert.equal(flows.length, 1);
  assert.match(flows[0] ?? "", /set_field:192\.168\.77\.13->tun_dst/);
  assert.equal(await hostRoutes(), "10.244.2.0/24 via 10.244.2.1 dev sya-gw0 onlink");
});

test("peers: node deleted removes route and flow", async () => {
  await core.deleteNode({ name: "n3" });
  await waitFor(async () => (await hostRoutes()) === "", "route removal");
  await waitFor(async () => !(await dumpFlows(node, BRIDGE)).some((line) => line.includes("nw_dst=10.244.2.0/24")), "flow removal");
});

test("restart: new round replaces the old", async () => {
  const before = await dumpFlows(node, BRIDGE);
  const oldRound = daemon?.round ?? 0;
  await daemon?.stop();
  assert.deepEqual(await dumpFlows(node, BRIDGE), before, "flows stay while no agent runs");
  daemon = await startAgent();
  assert.equal(daemon.round, oldRound + 1);
  const after = await dumpFlows(node, BRIDGE);
  assert.equal(after.length, before.length);
  assert.deepEqual([...cookieRounds(after)], [daemon.round.toString(16).padStart(4, "0")]);
  assert.equal((await node.ovs.vsctl(["get", "bridge", BRIDGE, "external_ids:switchyard-round"])).trim(), `"${daemon.round}"`);
});

test("restart: pod flows rebuilt, stale port removed", async () => {
  await core.createNamespacedPod({ namespace: "default", body: { metadata: { name: "web", namespace: "default" }, spec: { nodeName: "n1", containers: [{ name: "c", image: "none" }] } } });
  const common = { bridge: BRIDGE, mac: "", ip: "", prefixLength: 24, gateway: "10.244.1.1" };
  pods.push(await addTestPod(node, { ...common, tag: "dmw", ofport: 21, mac: "0a:00:00:00:01:15", ip: "10.244.1.21", pod: { namespace: "default", name: "web" } }));
  pods.push(await addTestPod(node, { ...common, tag: "dmg", ofport: 22, mac: "0a:00:00:00:01:16", ip: "10.244.1.22", pod: { namespace: "default", name: "gone" } }));
  await daemon?.stop();
  daemon = await startAgent();
  const round = daemon.round.toString(16);
  const flows = await dumpFlows(node, BRIDGE);
  // Pod cookies: round, category 2, owner = ofport 21 (0x15).
  assert.equal(flows.filter((line) => line.startsWith(`cookie=0x${round}020000000015,`)).length, 5);
  assert.equal(flows.filter((line) => line.includes("0a:00:00:00:01:16")).length, 0);
  const ports = (await node.ovs.vsctl(["list-ports", BRIDGE])).split("\n");
  assert.ok(ports.includes("syadmwh"));
  assert.ok(!ports.includes("syadmgh"), "port of a pod that no longer exists is removed");
});

test("restart: ovs-vswitchd restart replays flows", async () => {
  const before = await dumpFlows(node, BRIDGE);
  await node.ovs.vsctl(["set", "open_vswitch", ".", "other_config:flow-restore-wait=true"]);
  const pid = Number((await run(["cat", node.ovs.vswitchdPidFile])).trim());
  process.kill(pid, "SIGTERM");
  await waitFor(async () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, "ovs-vswitchd exit");
  await run(["ovs-vswitchd", `unix:${node.ovs.dbSocket}`, `--pidfile=${node.ovs.vswitchdPidFile}`, `--unixctl=${node.ovs.vswitchdCtl}`, `--log-file=${node.ovs.vswitchdLog}`, "--detach"], {
    netns: node.netns,
    env: { OVS_RUNDIR: node.ovs.dir },
  });
  await waitFor(async () => {
    try {
      return (await dumpFlows(node, BRIDGE)).length === before.length;
    } catch {
      return false;
    }
  }, "flow replay", 15_000);
  assert.deepEqual(await dumpFlows(node, BRIDGE), before);
  await waitFor(async () => (await node.ovs.vsctl(["get", "open_vswitch", ".", "other_config"])).includes("flow-restore-wait") === false, "flow-restore-wait cleared");
});

test("restart: ovsdb-server restart keeps ports unique", async () => {
  const portsBefore = (await node.ovs.vsctl(["list-ports", BRIDGE])).trim();
  const rowsBefore = (await node.ovs.vsctl(["--format=csv", "--no-headings", "--columns=name", "list", "Port"])).trim().split("\n").sort();
  const pid = Number((await run(["cat", node.ovs.ovsdbPidFile])).trim());
  process.kill(pid, "SIGTERM");
  await waitFor(async () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, "ovsdb-server exit");
  await run(
    ["ovsdb-server", node.ovs.database, `--remote=punix:${node.ovs.dbSocket}`, `--pidfile=${node.ovs.ovsdbPidFile}`, `--unixctl=${node.ovs.ovsdbCtl}`, `--log-file=${node.ovs.ovsdbLog}`, "--detach"],
    { netns: node.netns },
  );
  // The agent's replica resyncs after the reconnect and the bootstrap runs again.
  const metrics = async () => fetch(`http://127.0.0.1:${daemon?.metricsPort}/metrics`).then((response) => response.text());
  await waitFor(async () => (await metrics()).includes('switchyard_agent_ovs_reconnects_total{protocol="ovsdb"} 1'), "OVSDB reconnect");
  await waitFor(async () => (await metrics()).includes('switchyard_agent_ovs_connected{protocol="ovsdb"} 1'), "OVSDB resync");
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal((await node.ovs.vsctl(["list-ports", BRIDGE])).trim(), portsBefore);
  const rowsAfter = (await node.ovs.vsctl(["--format=csv", "--no-headings", "--columns=name", "list", "Port"])).trim().split("\n").sort();
  assert.deepEqual(rowsAfter, rowsBefore);
});
