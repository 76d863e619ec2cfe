// NetworkPolicy flows installed by the enforcer into a real ovs-vswitchd (userspace
// datapath) through the openflow package's bundle, checked with ovs-ofctl dump-flows,
// ofproto/trace and real traffic between pod namespaces. Needs root.
//
// Layout: node namespace syp<pid> runs OVS with bridge sypbr carrying the pipeline's tables;
// pods A, B and C are namespaces with eth0 joined by a veth pair to the bridge, all in
// 10.244.1.0/24, so they reach each other at layer 2 without a gateway.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { addFlowMessage } from "../../../agent/pipeline/flow-sync.ts";
import { pipelineFlows, podFlows, type NodeFlowContext } from "../../../agent/pipeline/flows.ts";
import { Tables } from "../../../agent/pipeline/tables.ts";
import { MATCH_ALL } from "../../../openflow/match/index.ts";
import { PolicyEnforcer } from "../../../agent/policy/enforcer.ts";
import { PolicyError } from "../../../agent/policy/errors.ts";
import { AuditLog, auditMeterMessage, followPacketIns, type AuditRecord } from "../../../agent/policy/audit.ts";
import { RejectResponder } from "../../../agent/policy/reject.ts";
import type { InternalPolicy, NodeSlice, PolicyRule } from "../../../controller/networkpolicy/types.ts";
import { OpenFlowConnection } from "../../../openflow/connection/connection.ts";
import type { MessageBody } from "../../../openflow/messages/types.ts";
import { createNamespaces, deleteNamespaces, run, runWithOutput, spawnInNetns, startOvs, stopOvs, type OvsInstance } from "../../lab/index.ts";
import { pings, addBridgeWithPods, threePods, type Pod } from "./policy-pods.ts";

const BRIDGE = "sypbr";
const NODE_NS = `syp${process.pid}`;
const NODE = process.execPath;
const AUDIT_METER = 1;
const REJECT_METER = 2;
const CONTEXT: NodeFlowContext = { round: 1, gateway: { ofport: 100, mac: "0a:00:00:00:00:01", ip: "10.244.1.1" } };

const PODS = threePods("syp");
const [A, B, C] = PODS;

let dir = "";
let ovs: OvsInstance | undefined;
let connection: OpenFlowConnection | undefined;
let enforcer: PolicyEnforcer;
let baseline = "";
const children: ChildProcess[] = [];

/**
 * Sends the enforcer's bundles. With `appendInvalid` set, it appends a flow the switch
 * rejects (a goto_table to an earlier table), so the whole bundle must fail.
 */
const sender = {
  appendInvalid: false,
  bundle(messages: readonly MessageBody[]): Promise<void> {
    const invalid = addFlowMessage({ table: Tables.IngressPolicy, priority: 1, cookie: 0n, match: MATCH_ALL, instructions: [{ type: "goto_table", table: Tables.ServiceHook.id }] });
    return openConnection().bundle(this.appendInvalid ? [...messages, invalid] : messages);
  },
};

function openConnection(): OpenFlowConnection {
  if (connection === undefined) throw new Error("the OpenFlow connection was not opened in before()");
  return connection;
}

before(async () => {
  dir = await mkdtemp("/tmp/syp");
  await createNamespaces([NODE_NS, ...PODS.map((pod) => pod.netns)]);
  ovs = await startOvs({ dir, netns: NODE_NS });
  await addBridgeWithPods({ ovs, nodeNetns: NODE_NS, bridge: BRIDGE, pods: PODS });
  // The packetIn option subscribes to the audit log's packet-ins. The pipeline sends no table-miss to the controller.
  connection = await OpenFlowConnection.connect({ address: `unix:${ovs.mgmtSocket(BRIDGE)}`, reconnect: false, echoIntervalMs: 0, packetIn: {} });
  await connection.post(auditMeterMessage({ meterId: AUDIT_METER, packetsPerSecond: 100, burst: 10 }));
  await connection.post(auditMeterMessage({ meterId: REJECT_METER, packetsPerSecond: 100, burst: 10 }));
  await connection.barrier();
  const flows = [...pipelineFlows(CONTEXT), ...PODS.flatMap((pod) => podFlows(CONTEXT, { ofport: pod.ofport, mac: pod.mac, ips: [pod.ip] }))];
  await connection.bundle(flows.map(addFlowMessage));
  enforcer = new PolicyEnforcer({
    sender,
    round: 1,
    audit: { meterId: AUDIT_METER, audited: (policyId) => policyId.startsWith("shop/b-audit/") },
    reject: { meterId: REJECT_METER, rejected: (policyId) => policyId.startsWith("shop/b-reject/") },
  });
  await enforcer.applySlice(slice([]));
  baseline = await dumpAll();
  // Start a TCP echo server in every pod, on ports 80 and 8080.
  for (const pod of PODS) children.push(spawnInNetns([NODE, "-e", ECHO_SERVER], { netns: pod.netns, spawnOptions: { stdio: "ignore" } }));
});

after(async () => {
  for (const child of children) child.kill("SIGKILL");
  await connection?.close().catch(() => undefined);
  await stopOvs({ dir, pids: ovs === undefined ? [] : [ovs.ovsdbPid, ...(ovs.vswitchdPid === undefined ? [] : [ovs.vswitchdPid])] });
  await deleteNamespaces([NODE_NS, ...PODS.map((pod) => pod.netns)]);
  if (dir !== "") await rm(dir, { recursive: true, force: true });
});

const ECHO_SERVER = `
const net = require("node:net");
for (const port of [80, 8080]) net.createServer((s) => s.on("data", (d) => s.write(d)).on("error", () => {})).listen(port);
`;

/** Connects from `pod` to host:port, then echoes one line per "send" on stdin; prints "connected" and each echo. */
const TCP_CLIENT = `
const net = require("node:net");
const [host, port] = process.argv.slice(1);
const socket = net.connect({ host, port: Number(port), timeout: 3000 });
socket.on("connect", () => { socket.setTimeout(0); console.log("connected"); });
socket.on("timeout", () => { console.log("timeout"); process.exit(2); });
socket.on("error", (e) => { console.log("error " + e.code); process.exit(3); });
socket.on("data", (d) => console.log("echo " + d.toString().trim()));
process.stdin.on("data", (d) => socket.write(d));
process.stdin.on("end", () => socket.end());
`;

/** Returns "connected", "timeout" or "error ..." for one short TCP connection from `from` to `to`. */
async function tcpConnect(from: Pod, to: Pod, port: number): Promise<string> {
  const result = await runWithOutput([NODE, "-e", TCP_CLIENT, to.ip, String(port)], { netns: from.netns, input: "", timeoutMs: 10_000 }).catch((error: unknown) => ({
    stdout: String((error as { stdout?: string }).stdout ?? ""),
    stderr: "",
  }));
  return result.stdout.split("\n")[0] ?? "";
}

/** Returns true when one ping from `from` to `to` gets a reply within 2 seconds. */

function slice(policies: InternalPolicy[]): NodeSlice {
  const selector = { namespace: "shop", namespaceSelector: null, podSelector: [] };
  const member = (pod: Pod) => ({ namespace: "shop", name: pod.label, ips: [pod.ip], namedPorts: [{ name: "http", protocol: "TCP" as const, port: 8080 }] });
  return {
    nodeName: "node-1",
    generation: 1,
    policies,
    addressGroups: [{ id: "peer-a", selector, members: [{ ip: A.ip, namedPorts: [] }] }],
    appliedToGroups: [
      { id: "pod-b", selector, members: [member(B)] },
      { id: "pod-c", selector, members: [member(C)] },
    ],
  };
}

function policy(name: string, group: string, rules: Omit<PolicyRule, "id" | "index" | "direction">[]): InternalPolicy {
  const id = `shop/${name}/uid-${name}`;
  return {
    id,
    namespace: "shop",
    name,
    uid: `uid-${name}`,
    appliedToGroup: group,
    policyTypes: ["Ingress"],
    rules: rules.map((rule, index) => ({ ...rule, direction: "Ingress", index, id: `${id}/ingress/${index}` })),
  };
}

/** B accepts TCP 80 from A only. */
const ALLOW_A_TO_B_80 = policy("b-web", "pod-b", [{ peers: { addressGroups: ["peer-a"], ipBlocks: [] }, ports: [{ protocol: "TCP", port: 80 }] }]);

async function ofctl(args: string[]): Promise<string> {
  return run(["ovs-ofctl", "-O", "OpenFlow15", ...args], { netns: NODE_NS });
}

/** Returns every flow of the bridge as sorted dump-flows lines without statistics. */
async function dumpAll(): Promise<string> {
  const text = await ofctl(["--no-stats", "dump-flows", ovs?.mgmtSocket(BRIDGE) ?? ""]);
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.includes("actions="))
    .sort()
    .join("\n");
}

/** Traces a TCP SYN from `from` to `to`:port with the given conntrack state and returns the datapath actions. */
async function trace(from: Pod, to: Pod, options: { port: number; ctState: string }): Promise<string> {
  const packet = `in_port=${from.ofport},tcp,dl_src=${from.mac},dl_dst=${to.mac},nw_src=${from.ip},nw_dst=${to.ip},nw_ttl=64,tp_src=40000,tp_dst=${options.port},tcp_flags=0x002`;
  const output = await run(["ovs-appctl", "-t", ovs?.vswitchdCtl ?? "", "ofproto/trace", BRIDGE, packet, "--ct-next", options.ctState], { netns: NODE_NS });
  // Each recirculation through conntrack prints its own "Datapath actions:"; the last is the packet's fate.
  const line = output.split("\n").findLast((entry) => entry.startsWith("Datapath actions:"));
  return line?.slice("Datapath actions: ".length) ?? `no datapath actions in: ${output}`;
}

test("policy flows: read back by ovs-ofctl", async () => {
  await enforcer.applySlice(slice([ALLOW_A_TO_B_80]));
  const text = await ofctl(["--no-stats", "dump-flows", ovs?.mgmtSocket(BRIDGE) ?? "", "table=10"]);
  const lines = text.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  // Written from the layout in docs/policy-enforcement.md: conjunction id 1 is the rule, id 2 B's isolation.
  for (const expected of [
    "cookie=0x1050000000000, table=10, priority=210,ct_state=-new+est+trk,ip actions=goto_table:11",
    "cookie=0x1050000000000, table=10, priority=210,ct_state=+rel+trk,ip actions=goto_table:11",
    "cookie=0x1050000000000, table=10, priority=200,ip,nw_dst=10.244.1.12 actions=conjunction(1,1/3)",
    "cookie=0x1050000000000, table=10, priority=200,ip,nw_src=10.244.1.11 actions=conjunction(1,2/3)",
    "cookie=0x1050000000000, table=10, priority=200,tcp,tp_dst=80 actions=conjunction(1,3/3)",
    "cookie=0x1050000000001, table=10, priority=200,conj_id=1 actions=set_field:0x1->reg4,goto_table:11",
    "cookie=0x1050000000002, table=10, priority=100,ip,nw_dst=10.244.1.12 actions=drop",
  ]) {
    assert.ok(lines.includes(expected), `missing ${expected}\nin:\n${lines.join("\n")}`);
  }
});

/** Returns the datapath port number of a pod's bridge port, as "Datapath actions:" print it. */
async function datapathPort(pod: Pod): Promise<string> {
  const output = await run(["ovs-appctl", "-t", ovs?.vswitchdCtl ?? "", "dpif/show"], { netns: NODE_NS });
  const match = new RegExp(`\\s${pod.port} ${pod.ofport}/(\\d+)`).exec(output);
  if (match?.[1] === undefined) throw new Error(`port ${pod.port} not found in dpif/show:\n${output}`);
  return match[1];
}

test("trace: allowed, denied and unselected", async () => {
  await enforcer.applySlice(slice([ALLOW_A_TO_B_80]));
  const portB = await datapathPort(B);
  const portC = await datapathPort(C);
  // ct_label bits 32..63 hold the ingress rule id 1; bits 0..31 the egress rule id, 0 here.
  assert.equal(await trace(A, B, { port: 80, ctState: "trk,new" }), `ct(commit,zone=65520,mark=0x3/0xf,label=0x100000000/0xffffffffffffffff),${portB}`, "A to B:80 allowed by rule 1");
  assert.equal(await trace(A, B, { port: 8080, ctState: "trk,new" }), "drop", "A to B:8080 has no rule");
  assert.equal(await trace(C, B, { port: 80, ctState: "trk,new" }), "drop", "C is not a peer");
  assert.equal(await trace(B, C, { port: 80, ctState: "trk,new" }), `ct(commit,zone=65520,mark=0x3/0xf,label=0/0xffffffffffffffff),${portC}`, "C is selected by no policy");
  assert.equal(await trace(C, B, { port: 8080, ctState: "trk,est" }), portB, "established connections bypass the rules");
});

/** B accepts TCP on its named port "http" (8080) from A, and TCP 80 from 10.244.1.0/24 except 10.244.1.8-11 (so C but not A). */
const B_V2 = policy("b-web", "pod-b", [
  { peers: { addressGroups: ["peer-a"], ipBlocks: [] }, ports: [{ protocol: "TCP", portName: "http" }] },
  { peers: { addressGroups: [], ipBlocks: [{ cidr: "10.244.1.0/24", except: ["10.244.1.8/30"] }] }, ports: [{ protocol: "TCP", port: 80 }] },
]);

test("update: all or nothing", async () => {
  await enforcer.applySlice(slice([ALLOW_A_TO_B_80]));
  const before = await dumpAll();
  const installed = enforcer.installedFlows().length;

  sender.appendInvalid = true;
  try {
    await assert.rejects(enforcer.applySlice(slice([B_V2])), (error: unknown) => error instanceof PolicyError && error.code === "POLICY_INSTALL_FAILED");
  } finally {
    sender.appendInvalid = false;
  }
  assert.equal(await dumpAll(), before, "a rejected bundle leaves every flow in place");
  assert.equal(enforcer.installedFlows().length, installed);
  assert.notEqual(await trace(A, B, { port: 80, ctState: "trk,new" }), "drop", "the old policy still allows A to B:80");

  const result = await enforcer.applySlice(slice([B_V2]));
  assert.ok(result.added > 0, `update added no flows: ${JSON.stringify(result)}`);
  assert.ok(result.removed > 0, `update removed no flows: ${JSON.stringify(result)}`);
  assert.equal(await trace(A, B, { port: 80, ctState: "trk,new" }), "drop", "A (10.244.1.11) is in the except range 10.244.1.8/30");
  assert.notEqual(await trace(A, B, { port: 8080, ctState: "trk,new" }), "drop", "A reaches the named port http");
  assert.notEqual(await trace(C, B, { port: 80, ctState: "trk,new" }), "drop", "C (10.244.1.13) is in the ipBlock");
  assert.equal(await trace(C, B, { port: 8080, ctState: "trk,new" }), "drop", "C has no rule for 8080");
});

test("removal: flows back to baseline", async () => {
  await enforcer.applySlice(slice([B_V2, policy("c-deny", "pod-c", [])]));
  assert.notEqual(await dumpAll(), baseline);
  await enforcer.applySlice(slice([]));
  assert.equal(await dumpAll(), baseline);
  assert.deepEqual(enforcer.idsInUse(), []);
});

/** A TCP connection kept open by a client process in a pod, sending lines on request. */
class OpenConnection {
  readonly #child: ChildProcess;
  readonly #lines: string[] = [];
  #waiters: (() => void)[] = [];

  constructor(from: Pod, to: Pod, port: number) {
    this.#child = spawnInNetns([NODE, "-e", TCP_CLIENT, to.ip, String(port)], { netns: from.netns, spawnOptions: { stdio: ["pipe", "pipe", "ignore"] } });
    children.push(this.#child);
    let partial = "";
    this.#child.stdout?.on("data", (chunk: Buffer) => {
      partial += chunk.toString();
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      this.#lines.push(...parts);
      for (const waiter of this.#waiters.splice(0)) waiter();
    });
  }

  /** Waits until the client printed `line`; rejects after `timeoutMs` with what it printed. */
  async waitFor(line: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#lines.includes(line)) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${JSON.stringify(line)}; client printed ${JSON.stringify(this.#lines)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(line: string): void {
    this.#child.stdin?.write(`${line}\n`);
  }

  close(): void {
    this.#child.kill("SIGKILL");
  }
}

test("traffic: new connections denied, open one kept", async () => {
  await enforcer.applySlice(slice([]));
  assert.equal(await tcpConnect(C, B, 80), "connected", "no policy: C reaches B");
  assert.equal(await pings(A, B, { timeoutSeconds: 2 }), true, "no policy: A pings B");
  const open = new OpenConnection(C, B, 80);
  try {
    await open.waitFor("connected");
    open.send("one");
    await open.waitFor("echo one");

    await enforcer.applySlice(slice([ALLOW_A_TO_B_80]));
    assert.equal(await tcpConnect(A, B, 80), "connected", "A to B:80 is allowed");
    assert.equal(await tcpConnect(C, B, 80), "timeout", "a new connection from C is dropped");
    assert.equal(await tcpConnect(A, B, 8080), "timeout", "A to B:8080 is dropped");
    assert.equal(await pings(A, B, { timeoutSeconds: 2 }), false, "ICMP from A is not in the rule's ports");
    assert.equal(await pings(B, C, { timeoutSeconds: 2 }), true, "B is not isolated for egress, and the reply from C is established");

    // The connection opened before the policy is established, so it bypasses the rules and
    // stays usable until its conntrack entry expires.
    open.send("two");
    await open.waitFor("echo two");
  } finally {
    open.close();
  }

  const conntrack = await run(["ovs-appctl", "-t", ovs?.vswitchdCtl ?? "", "dpctl/dump-conntrack"], { netns: NODE_NS });
  const entry = conntrack.split("\n").find((line) => line.includes(`orig=(src=${A.ip},dst=${B.ip},`) && line.includes("dport=80)"));
  assert.ok(entry !== undefined, `no conntrack entry for A to B:80 in:\n${conntrack}`);
  assert.match(entry, /labels=0x100000000\b/, "ct_label records ingress rule 1 in bits 32..63");

  const counters = enforcer.counters(await openConnection().dumpFlows({ tableId: Tables.IngressPolicy.id }));
  const rule = counters.rules.find((entry) => entry.ruleId === "shop/b-web/uid-b-web/ingress/0");
  assert.ok(rule !== undefined, "no counter for the rule");
  assert.ok(rule.packets >= 1n, `rule counter ${rule.packets}: the allowed SYN was not counted`);
  const dropped = counters.isolation.find((entry) => entry.pod === "shop/b" && entry.direction === "Ingress");
  assert.ok(dropped !== undefined, "no drop counter for pod b");
  assert.ok(dropped.packets >= 2n, `drop counter ${dropped.packets}: expected the SYNs of both denied connections`);

  await enforcer.applySlice(slice([]));
  assert.equal(await tcpConnect(C, B, 80), "connected", "policy removed: C reaches B again");
});

/**
 * Opens and closes TCP connections to host:port one after another for durationMs, and prints
 * {"connected":n,"failed":n}. The 800 ms timeout is below the kernel's first SYN retransmission
 * (1 s), so a SYN dropped in a short window counts as failed instead of succeeding on retry.
 */
const CONNECT_LOOP = `
const net = require("node:net");
const [host, port, duration] = process.argv.slice(1);
const end = Date.now() + Number(duration);
let connected = 0, failed = 0;
const once = () => new Promise((resolve) => {
  const socket = net.connect({ host, port: Number(port), timeout: 800 });
  socket.on("connect", () => { connected++; socket.destroy(); resolve(); });
  socket.on("timeout", () => { failed++; socket.destroy(); resolve(); });
  socket.on("error", () => { failed++; resolve(); });
});
(async () => { while (Date.now() < end) await once(); console.log(JSON.stringify({ connected, failed })); })();
`;

test("update: no connection lost or leaked", async () => {
  // Two versions of one policy: A reaches B:80 through an address group, then through an
  // ipBlock. C is denied by both. Each flip changes the rule's clause flows in place.
  const byGroup = ALLOW_A_TO_B_80;
  const byBlock = policy("b-web", "pod-b", [{ peers: { addressGroups: [], ipBlocks: [{ cidr: "10.244.1.8/30", except: [] }] }, ports: [{ protocol: "TCP", port: 80 }] }]);
  await enforcer.applySlice(slice([byGroup]));

  const durationMs = 6000;
  const loop = (from: Pod): Promise<string> => run([NODE, "-e", CONNECT_LOOP, B.ip, "80", String(durationMs)], { netns: from.netns, timeoutMs: durationMs + 15_000 });
  const fromA = loop(A);
  const fromC = loop(C);
  let flips = 0;
  const deadline = Date.now() + durationMs - 500;
  while (Date.now() < deadline) {
    flips += 1;
    await enforcer.applySlice(slice([flips % 2 === 1 ? byBlock : byGroup]));
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const a = JSON.parse(await fromA) as { connected: number; failed: number };
  const c = JSON.parse(await fromC) as { connected: number; failed: number };
  assert.ok(flips >= 10, `only ${flips} policy updates ran`);
  assert.ok(a.connected >= 10, `A connected only ${a.connected} times`);
  assert.equal(a.failed, 0, "no connection that both versions allow is dropped");
  assert.equal(c.connected, 0, "no connection that both versions deny gets through");
  assert.ok(c.failed >= 1, "C attempted at least one connection");
});

test("audit: allowed and dropped logged", async () => {
  const audited = policy("b-audit", "pod-b", [{ peers: { addressGroups: ["peer-a"], ipBlocks: [] }, ports: [{ protocol: "TCP", port: 80 }] }]);
  // From no policy, so the rule gets id 1 and B's drop flow id 2.
  await enforcer.applySlice(slice([]));
  await enforcer.applySlice(slice([audited]));
  const table = await ofctl(["--no-stats", "dump-flows", ovs?.mgmtSocket(BRIDGE) ?? "", "table=10"]);
  assert.ok(table.includes("cookie=0x1050000000001, table=10, priority=200,conj_id=1 actions=set_field:0x1->reg4,controller(max_len=128,userdata=00.00.00.01.01,meter_id=1),goto_table:11"), table);
  assert.ok(table.includes("cookie=0x1050000000002, table=10, priority=100,ip,nw_dst=10.244.1.12 actions=controller(max_len=128,userdata=00.00.00.02.01,meter_id=1)"), table);
  const meters = await ofctl(["dump-meters", ovs?.mgmtSocket(BRIDGE) ?? ""]);
  assert.match(meters, /meter=1 pktps burst stats bands=\s*type=drop rate=100 burst_size=10/);

  const records: AuditRecord[] = [];
  const log = new AuditLog({ owner: (id) => enforcer.owner(id), logger: { info: () => undefined }, onRecord: (record) => records.push(record) });
  const stop = followPacketIns(openConnection(), log);
  try {
    assert.equal(await tcpConnect(A, B, 80), "connected");
    assert.equal(await tcpConnect(C, B, 80), "timeout");
  } finally {
    stop();
  }

  const allowed = records.filter((record) => record.disposition === "allow");
  const dropped = records.filter((record) => record.disposition === "drop");
  assert.equal(allowed.length, 1, "one allowed connection, logged once: its later packets are established");
  assert.deepEqual(allowed[0], {
    disposition: "allow",
    direction: "Ingress",
    ruleId: "shop/b-audit/uid-b-audit/ingress/0",
    policyId: "shop/b-audit/uid-b-audit",
    packet: { source: A.ip, destination: B.ip, protocol: 6, sourcePort: allowed[0]?.packet.sourcePort, destinationPort: 80 },
  });
  assert.ok(dropped.length >= 1, "the denied SYN was logged");
  assert.equal(dropped[0]?.pod, "shop/b");
  assert.equal(dropped[0]?.packet.source, C.ip);
  await enforcer.applySlice(slice([]));
});

test("reject: TCP reset and ICMP prohibited", async () => {
  const rejecting = policy("b-reject", "pod-b", [{ peers: { addressGroups: ["peer-a"], ipBlocks: [] }, ports: [{ protocol: "TCP", port: 80 }] }]);
  await enforcer.applySlice(slice([rejecting]));
  const responder = new RejectResponder({ sender: openConnection() });
  const errors: unknown[] = [];
  const listener = (message: Parameters<RejectResponder["handlePacketIn"]>[0]): void => {
    responder.handlePacketIn(message).catch((error: unknown) => errors.push(error));
  };
  openConnection().on("packetIn", listener);
  try {
    assert.equal(await tcpConnect(A, B, 80), "connected", "the rule still allows A");
    // The kernel of C accepts the reset only with correct addresses, ports, ack and checksums.
    assert.equal(await tcpConnect(C, B, 80), "error ECONNREFUSED", "C is refused at once");
    const ping = await runWithOutput(["ping", "-c", "1", "-W", "2", B.ip], { netns: C.netns }).catch((error: unknown) => ({ stdout: String((error as { stdout?: string }).stdout ?? "") }));
    assert.match(ping.stdout, /Packet filtered/, "ping reports ICMP code 13");
  } finally {
    openConnection().off("packetIn", listener);
  }
  assert.deepEqual(errors, []);
  await enforcer.applySlice(slice([]));
});
