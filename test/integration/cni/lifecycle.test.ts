// The CNI binary and the agent's CNI server against a real Open vSwitch and real network
// namespaces. Expected state is read back with ip, ovs-vsctl and ovs-ofctl.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCni } from "../../../cni/plugin.ts";
import { hostInterfaceName } from "../../../agent/podif/names.ts";
import { addPodNamespace, agentProcess, cniEnv, dumpFlows, ping, restartVswitchd, runPlugin, sh, shQuiet, startOvs, vsctl } from "./harness.ts";
import type { AgentProcess, OvsInstance } from "./harness.ts";

const NS_PREFIX = "synlc";
const BRIDGE = "synbr-lc";
let ovs: OvsInstance;
let agent: AgentProcess;
let dir: string;
const namespaces = new Set<string>();

before(async () => {
  ovs = startOvs({ ns: `${NS_PREFIX}-ovs`, bridge: BRIDGE });
  dir = mkdtempSync(join(tmpdir(), `${NS_PREFIX}-agent-`));
  agent = agentProcess({ ovs, podCidrs: ["10.78.0.0/23", "fd00:78::/64"], dir });
  await agent.start();
});

after(async () => {
  await agent.stop();
  const lines = [...namespaces].map((name) => `netns del ${name}`).join("\n");
  if (lines !== "") shQuiet("sh", ["-c", `printf '${lines}\\n' | ip -force -batch -`]);
  ovs.stop();
  rmSync(dir, { recursive: true, force: true });
});

function config(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { cniVersion: "1.1.0", name: "synnet", type: "switchyard", socketPath: agent.socketPath, logFile: join(dir, "cni.log"), ...extra };
}

type Pod = { ns: string; netns: string; containerId: string; args: string };
const pods = new Map<string, Pod>();
const results = new Map<string, Result>();

/** Returns the pod named `name`, creating its namespace on first use. */
function pod(name: string): Pod {
  const existing = pods.get(name);
  if (existing !== undefined) return existing;
  const ns = `${NS_PREFIX}-${name}`;
  namespaces.add(ns);
  const created = { ns, netns: addPodNamespace(ns), containerId: `cid-${name}`, args: `K8S_POD_NAME=syn${name};K8S_POD_NAMESPACE=default` };
  pods.set(name, created);
  return created;
}

function addressOf(name: string, family: 4 | 6): string {
  const ip = results.get(name)?.ips.find((entry) => entry.address.includes(":") === (family === 6));
  return ip?.address.split("/")[0] ?? "";
}

async function add(p: { netns: string; containerId: string; args: string }, extra: Record<string, unknown> = {}) {
  return runPlugin({ env: cniEnv("ADD", { containerId: p.containerId, netns: p.netns, ifName: "eth0", args: p.args }), config: config(extra) });
}

async function del(p: { netns: string; containerId: string; args: string }) {
  return runPlugin({ env: cniEnv("DEL", { containerId: p.containerId, netns: p.netns, ifName: "eth0", args: p.args }), config: config() });
}

function ipamAllocations(): Record<string, string[]> {
  const path = join(agent.stateDir, "ipam.json");
  if (!existsSync(path)) return {};
  return (JSON.parse(readFileSync(path, "utf8")) as { allocations: Record<string, string[]> }).allocations;
}

function portsWithAttachment(): string[] {
  const text = vsctl(ovs, ["--format=json", "--columns=name,external_ids", "find", "Interface", "external_ids:switchyard-attachment!=\"\""]);
  const data = (JSON.parse(text) as { data: [string, ["map", [string, string][]]][] }).data;
  return data.map((row) => row[0]);
}

/** external_ids of the Interface row `name`, read with ovs-vsctl. */
function externalIds(name: string): Record<string, string> {
  const text = vsctl(ovs, ["--format=json", "--columns=external_ids", "find", "Interface", `name=${name}`]);
  const row = (JSON.parse(text) as { data: [["map", [string, string][]]][] }).data[0];
  return Object.fromEntries(row?.[0][1] ?? []);
}

function hostLinkExists(name: string): boolean {
  return sh("ip", ["-n", ovs.ns, "-o", "link", "show"]).includes(` ${name}@`);
}

type Result = { cniVersion: string; interfaces: { name: string; mac?: string; sandbox?: string; mtu?: number }[]; ips: { address: string; gateway: string; interface: number }[]; routes: { dst: string; gw: string }[] };

test("ADD creates the attachment", async () => {
  const a = pod("a");
  const run = await add(a);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const result = run.json as Result;
  results.set("a", result);
  assert.equal(result.cniVersion, "1.1.0");
  assert.equal(result.interfaces.length, 2);
  const hostName = result.interfaces[0]?.name ?? "";
  assert.equal(hostName, hostInterfaceName({ podName: "syna", containerId: a.containerId, ifName: "eth0" }));
  assert.equal(result.interfaces[1]?.name, "eth0");
  assert.equal(result.interfaces[1]?.sandbox, a.netns);
  assert.equal(result.interfaces[1]?.mtu, 1450);
  assert.deepEqual(
    result.ips.map((ip) => [ip.gateway, ip.interface]),
    [
      ["10.78.0.1", 1],
      ["fd00:78::1", 1],
    ],
  );
  assert.deepEqual(result.routes, [
    { dst: "0.0.0.0/0", gw: "10.78.0.1" },
    { dst: "::/0", gw: "fd00:78::1" },
  ]);

  // The pod's namespace as the kernel reports it.
  const link = (JSON.parse(sh("ip", ["-n", a.ns, "-j", "address", "show", "dev", "eth0"])) as { address: string; mtu: number; addr_info: { local: string; prefixlen: number; scope: string }[] }[])[0];
  assert.equal(link?.address, result.interfaces[1]?.mac);
  assert.equal(link?.mtu, 1450);
  const global = link?.addr_info.filter((info) => info.scope === "global").map((info) => `${info.local}/${info.prefixlen}`);
  assert.deepEqual(global, result.ips.map((ip) => ip.address));
  assert.match(sh("ip", ["-n", a.ns, "route", "show", "default"]), /default via 10\.78\.0\.1 dev eth0/);
  assert.match(sh("ip", ["-n", a.ns, "-6", "route", "show", "default"]), /default via fd00:78::1 dev eth0/);

  // The OVS port and its external_ids.
  assert.ok(vsctl(ovs, ["list-ports", BRIDGE]).split("\n").includes(hostName));
  assert.deepEqual(externalIds(hostName), {
    "switchyard-attachment": "synnet/cid-a/eth0",
    "container-id": "cid-a",
    "pod-name": "syna",
    "pod-namespace": "default",
    ip: result.ips.map((ip) => ip.address.split("/")[0]).join(","),
    "attached-mac": result.interfaces[1]?.mac,
    netns: a.netns,
    "if-name": "eth0",
    "cni-network": "synnet",
    "pod-mtu": "1450",
  });

  // The pod's flows, as ovs-ofctl prints them.
  const ofport = Number(vsctl(ovs, ["get", "Interface", hostName, "ofport"]));
  const mac = result.interfaces[1]?.mac ?? "";
  const ip4 = result.ips[0]?.address.split("/")[0] ?? "";
  const ip6 = result.ips[1]?.address.split("/")[0] ?? "";
  const cookie = `cookie=0x${(0x5359n << 48n | BigInt(ofport)).toString(16)}`;
  const flows = dumpFlows(ovs);
  for (const expected of [
    `${cookie}, priority=200,ip,in_port=${ofport},dl_src=${mac},nw_src=${ip4} actions=goto_table:1`,
    `${cookie}, priority=200,arp,in_port=${ofport},dl_src=${mac},arp_spa=${ip4},arp_sha=${mac} actions=goto_table:1`,
    `${cookie}, priority=200,ipv6,in_port=${ofport},dl_src=${mac},ipv6_src=${ip6} actions=goto_table:1`,
    `${cookie}, table=1, priority=200,dl_dst=${mac} actions=output:${ofport}`,
    `${cookie}, table=1, priority=200,arp,arp_tpa=${ip4} actions=output:${ofport}`,
    `${cookie}, table=1, priority=200,icmp6,icmp_type=135,nd_target=${ip6} actions=output:${ofport}`,
  ]) {
    assert.ok(flows.includes(expected), `missing flow ${expected}\n${flows.join("\n")}`);
  }
});

test("pods reach the gateway and each other", async () => {
  const b = pod("b");
  const run = await add(b);
  assert.equal(run.code, 0, run.stdout);
  results.set("b", run.json as Result);
  const a = pod("a");
  assert.equal(ping({ fromNs: a.ns, to: "10.78.0.1" }), true, "a to IPv4 gateway");
  assert.equal(ping({ fromNs: a.ns, to: "fd00:78::1" }), true, "a to IPv6 gateway");
  assert.equal(ping({ fromNs: a.ns, to: addressOf("b", 4) }), true, "a to b over IPv4");
  assert.equal(ping({ fromNs: b.ns, to: addressOf("a", 6) }), true, "b to a over IPv6");
});

test("CHECK passes, then reports a removed address", async () => {
  const a = pod("a");
  const env = cniEnv("CHECK", { containerId: a.containerId, netns: a.netns, ifName: "eth0", args: a.args });
  const ok = await runPlugin({ env, config: config({ prevResult: results.get("a") }) });
  assert.equal(ok.code, 0, ok.stdout);
  assert.equal(ok.stdout, "");

  const b = pod("b");
  sh("ip", ["-n", b.ns, "address", "del", `${addressOf("b", 4)}/23`, "dev", "eth0"]);
  const broken = await runPlugin({ env: cniEnv("CHECK", { containerId: b.containerId, netns: b.netns, ifName: "eth0", args: b.args }), config: config({ prevResult: results.get("b") }) });
  assert.equal(broken.code, 1);
  assert.equal(broken.json?.code, 103);
  assert.match(String(broken.json?.msg), new RegExp(addressOf("b", 4).replaceAll(".", "\\.")));

  const unknown = await runPlugin({ env: cniEnv("CHECK", { containerId: "cid-never", netns: a.netns, ifName: "eth0" }), config: config() });
  assert.equal(unknown.json?.code, 3);

  const old = await runPlugin({ env, config: config({ cniVersion: "0.3.1" }) });
  assert.equal(old.json?.code, 1);
});

test("repeated ADD keeps the address", async () => {
  const a = pod("a");
  const before = ipamAllocations();
  const again = await add(a);
  assert.equal(again.code, 0, again.stdout);
  assert.deepEqual((again.json as Result).ips, results.get("a")?.ips);
  assert.deepEqual(ipamAllocations(), before);

  const elsewhere = pod("a-other");
  const conflict = await add({ ...a, netns: elsewhere.netns });
  assert.equal(conflict.code, 1);
  assert.equal(conflict.json?.code, 100);
  assert.deepEqual(ipamAllocations(), before);
});

test("DEL removes everything and repeats", async () => {
  const b = pod("b");
  const hostName = results.get("b")?.interfaces[0]?.name ?? "";
  const first = await del(b);
  assert.equal(first.code, 0, first.stdout);
  assert.equal(first.stdout, "");
  assert.ok(!vsctl(ovs, ["list-ports", BRIDGE]).split("\n").includes(hostName));
  assert.equal(hostLinkExists(hostName), false);
  assert.equal(sh("ip", ["-n", b.ns, "-o", "link", "show"]).includes("eth0"), false);
  assert.equal(ipamAllocations()["synnet/cid-b/eth0"], undefined);
  assert.ok(!dumpFlows(ovs).some((line) => line.includes(addressOf("b", 4) + " ") || line.endsWith(addressOf("b", 4))));

  const second = await del(b);
  assert.equal(second.code, 0, second.stdout);
  const never = await runPlugin({ env: cniEnv("DEL", { containerId: "cid-never-added", ifName: "eth0" }), config: config() });
  assert.equal(never.code, 0, never.stdout);
});

test("DEL after the namespace is gone", async () => {
  const c = pod("c");
  const run = await add(c);
  assert.equal(run.code, 0, run.stdout);
  const hostName = (run.json as Result).interfaces[0]?.name ?? "";
  sh("ip", ["netns", "del", c.ns]);
  const removed = await del(c);
  assert.equal(removed.code, 0, removed.stdout);
  assert.ok(!vsctl(ovs, ["list-ports", BRIDGE]).split("\n").includes(hostName));
  assert.equal(ipamAllocations()["synnet/cid-c/eth0"], undefined);
});

test("agent restart between ADD and DEL", async () => {
  const d = pod("d");
  const run = await add(d);
  assert.equal(run.code, 0, run.stdout);
  const address = (run.json as Result).ips[0]?.address ?? "";

  // Restart with the state folder intact.
  await agent.stop();
  await agent.start();
  const check = await runPlugin({ env: cniEnv("CHECK", { containerId: d.containerId, netns: d.netns, ifName: "eth0" }), config: config() });
  assert.equal(check.code, 0, check.stdout);

  // Restart with the state folder gone: the addresses come back from OVSDB external_ids.
  await agent.stop();
  rmSync(agent.stateDir, { recursive: true, force: true });
  await agent.start();
  assert.deepEqual(ipamAllocations()["synnet/cid-d/eth0"], [address.split("/")[0], (run.json as Result).ips[1]?.address.split("/")[0]]);
  const e = pod("e");
  const runE = await add(e);
  assert.equal(runE.code, 0, runE.stdout);
  assert.notEqual((runE.json as Result).ips[0]?.address, address);

  const removed = await del(d);
  assert.equal(removed.code, 0, removed.stdout);
  assert.equal(ipamAllocations()["synnet/cid-d/eth0"], undefined);
  assert.equal((await del(e)).code, 0);
});

test("failed ADD leaves nothing behind", async () => {
  const f = pod("f");
  const hostName = hostInterfaceName({ podName: "synf", containerId: f.containerId, ifName: "eth0" });
  // A port of that name on another bridge makes the OVSDB step fail after the veth exists.
  vsctl(ovs, ["add-br", "synbr-lcx", "--", "set", "Bridge", "synbr-lcx", "datapath_type=netdev", "--", "add-port", "synbr-lcx", hostName]);
  try {
    const before = ipamAllocations();
    const run = await add(f);
    assert.equal(run.code, 1, run.stdout);
    assert.equal(run.json?.code, 102);
    assert.equal(hostLinkExists(hostName), false);
    assert.equal(sh("ip", ["-n", f.ns, "-o", "link", "show"]).includes("eth0"), false);
    assert.deepEqual(ipamAllocations(), before);
    assert.equal(readdirSync(join(agent.stateDir, "attachments")).length, Object.keys(before).length);
  } finally {
    vsctl(ovs, ["del-br", "synbr-lcx"]);
  }
});

test("bad input changes no state", async () => {
  const g = pod("g");
  const before = { ipam: ipamAllocations(), ports: portsWithAttachment() };
  const cases: { env: Record<string, string>; config: unknown }[] = [
    { env: cniEnv("ADD", { containerId: "-bad", netns: g.netns, ifName: "eth0" }), config: config() },
    { env: cniEnv("ADD", { containerId: "cid-g", netns: g.netns, ifName: "toolonginterface0" }), config: config() },
    { env: cniEnv("ADD", { containerId: "cid-g", netns: g.netns, ifName: "eth0", args: "UNKNOWN=1" }), config: config() },
    { env: cniEnv("ADD", { containerId: "cid-g", netns: g.netns, ifName: "eth0" }), config: "{not json" },
    { env: cniEnv("ADD", { containerId: "cid-g", netns: g.netns, ifName: "eth0" }), config: config({ cniVersion: "0.2.0" }) },
    { env: cniEnv("ADD", { containerId: "cid-g", netns: g.netns, ifName: "eth0" }), config: config({ mtu: 10 }) },
    { env: cniEnv("DEL", { containerId: "cid-g" }), config: config() },
  ];
  for (const entry of cases) {
    const run = await runPlugin(entry);
    assert.equal(run.code, 1, run.stdout);
    assert.ok([1, 4, 6, 7].includes(Number(run.json?.code)), run.stdout);
  }
  assert.deepEqual(ipamAllocations(), before.ipam);
  assert.deepEqual(portsWithAttachment(), before.ports);
});

test("200 concurrent ADDs get distinct addresses", async () => {
  const count = 200;
  const names = Array.from({ length: count }, (_, i) => `${NS_PREFIX}-m${i}`);
  for (const name of names) namespaces.add(name);
  sh("ip", ["-batch", "-"], names.map((name) => `netns add ${name}`).join("\n") + "\n");
  const before = Object.keys(ipamAllocations()).length;

  const invoke = async (command: string, i: number) => {
    let out = "";
    const code = await runCni({
      env: cniEnv(command, { containerId: `cid-m${i}`, netns: `/run/netns/${names[i]}`, ifName: "eth0", args: `K8S_POD_NAME=synm${i};K8S_POD_NAMESPACE=default` }),
      stdin: Buffer.from(JSON.stringify(config())),
      stdout: { write: (chunk: string) => (out += chunk) },
      stderr: { write: () => true },
    });
    return { code, out };
  };
  const adds = await Promise.all(names.map((_, i) => invoke("ADD", i)));
  const failures = adds.filter((run) => run.code !== 0);
  assert.equal(failures.length, 0, failures.slice(0, 3).map((run) => run.out).join("\n"));
  const addresses = adds.map((run) => (JSON.parse(run.out) as Result).ips.map((ip) => ip.address).join(","));
  assert.equal(new Set(addresses).size, count);
  assert.equal(Object.keys(ipamAllocations()).length, before + count);
  assert.equal(portsWithAttachment().length, before + count);

  const dels = await Promise.all(names.map((_, i) => invoke("DEL", i)));
  assert.equal(dels.filter((run) => run.code !== 0).length, 0);
  assert.equal(Object.keys(ipamAllocations()).length, before);
  assert.equal(portsWithAttachment().length, before);
  const leftover = sh("ip", ["-n", ovs.ns, "-o", "link", "show"]).split("\n").filter((line) => / synm\d*-[0-9a-f]{8}@/.test(line));
  assert.deepEqual(leftover, []);
});

test("GC releases attachments not listed", async () => {
  const keep = pod("gc1");
  const drop = pod("gc2");
  for (const p of [keep, drop]) assert.equal((await add(p)).code, 0);
  const beforeCount = portsWithAttachment().length;

  // Without either key GC removes nothing.
  const none = await runPlugin({ env: { CNI_COMMAND: "GC", CNI_PATH: "/usr/lib/cni" }, config: config() });
  assert.equal(none.code, 0, none.stdout);
  assert.equal(portsWithAttachment().length, beforeCount);

  const listed = [keep, pod("a")].map((p) => ({ containerID: p.containerId, ifname: "eth0" }));
  const gc = await runPlugin({ env: { CNI_COMMAND: "GC", CNI_PATH: "/usr/lib/cni" }, config: config({ "cni.dev/valid-attachments": listed }) });
  assert.equal(gc.code, 0, gc.stdout);
  assert.equal(gc.stdout, "");
  const remaining = Object.keys(ipamAllocations()).sort();
  assert.deepEqual(remaining, ["synnet/cid-a/eth0", "synnet/cid-gc1/eth0"]);
  assert.equal(portsWithAttachment().length, 2);

  // The older key name works too.
  const older = await runPlugin({ env: { CNI_COMMAND: "GC", CNI_PATH: "/usr/lib/cni" }, config: config({ "cni.dev/attachments": [] }) });
  assert.equal(older.code, 0, older.stdout);
  assert.deepEqual(ipamAllocations(), {});
  assert.deepEqual(portsWithAttachment(), []);
});

test("flows return after vswitchd restart", async () => {
  const run = await add(pod("h"));
  assert.equal(run.code, 0, run.stdout);
  const hostName = (run.json as Result).interfaces[0]?.name ?? "";
  const ofport = Number(vsctl(ovs, ["get", "Interface", hostName, "ofport"]));
  const cookie = `cookie=0x${((0x5359n << 48n) | BigInt(ofport)).toString(16)}`;
  assert.ok(dumpFlows(ovs).some((line) => line.startsWith(cookie)), "pod flows before the restart");

  restartVswitchd(ovs);
  // The OpenFlow connection reconnects with a backoff of up to 5 s, then replays the flows.
  const deadline = Date.now() + 15_000;
  let flows: string[] = [];
  while (Date.now() < deadline) {
    try {
      flows = dumpFlows(ovs);
    } catch {
      flows = [];
    }
    if (flows.some((line) => line.startsWith(cookie)) && flows.some((line) => line.startsWith("cookie=0x5359ffff00000000"))) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(flows.some((line) => line.startsWith(cookie)), `pod flows after the restart:\n${flows.join("\n")}`);
  assert.ok(flows.some((line) => line.startsWith("cookie=0x5359ffff00000000")), "gateway flows after the restart");

  // The gateway address comes back on the recreated tap device shortly after the flows.
  let reachable = false;
  for (let attempt = 0; attempt < 10 && !reachable; attempt++) reachable = ping({ fromNs: pod("h").ns, to: "10.78.0.1" });
  assert.equal(reachable, true, "pod h reaches the gateway after the restart");
});

test("STATUS reports a ready agent", async () => {
  const run = await runPlugin({ env: { CNI_COMMAND: "STATUS" }, config: config() });
  assert.equal(run.code, 0, run.stdout);
  assert.equal(run.stdout, "");
});
