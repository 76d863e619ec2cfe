// The agent daemon with its embedded CNI server, driven by the real CNI binary as a runtime
// would run it. bin/switchyard-agent, bin/switchyard-apiserver and OVS run inside one node
// namespace, so veth host ends land where ovs-vswitchd runs. Expected values come from the
// Node object written here, ovs-ofctl, ovs-vsctl and ping.
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { addPodNamespace, cniEnv, dumpFlows, runPlugin, sh, shQuiet, startOvs, vsctl, type OvsInstance } from "../cni/harness.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const NS = "sywcni";
const POD_CIDR = "10.250.1.0/24";
const GATEWAY_IP = "10.250.1.1";
const NODE_IP = "192.168.251.1";

type Result = { interfaces: { name: string; sandbox?: string }[]; ips: { address: string; gateway: string }[] };

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function startInNs(dir: string, name: string, argv: string[]): ChildProcess {
  const log = openSync(join(dir, `${name}.log`), "a");
  return spawn("ip", ["netns", "exec", NS, ...argv], { stdio: ["ignore", log, log] });
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

function tcpWorks(options: { fromNs: string; toNs: string; address: string }): boolean {
  const server = spawn("ip", ["netns", "exec", options.toNs, "python3", "-c", "import socket;s=socket.socket();s.bind(('0.0.0.0',8080));s.listen(1);c,_=s.accept();c.sendall(b'ok');c.close()"]);
  try {
    execFileSync("sleep", ["0.3"]);
    const reply = execFileSync("ip", ["netns", "exec", options.fromNs, "python3", "-c", `import socket;s=socket.create_connection(('${options.address}',8080),timeout=3);print(s.recv(2).decode())`], { encoding: "utf8", timeout: 5000 });
    return reply.trim() === "ok";
  } catch {
    return false;
  } finally {
    if (server.exitCode === null) server.kill("SIGTERM");
  }
}

test("agent CNI server: ADD, flows, ping, DEL", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync("/tmp/sywcni-");
  const started: { ovs?: OvsInstance; api?: ChildProcess; agent?: ChildProcess } = {};
  t.after(async () => {
    await stopChild(started.agent);
    await stopChild(started.api);
    for (const ns of ["sywpa", "sywpb"]) shQuiet("ip", ["netns", "del", ns]);
    started.ovs?.stop();
    // SWITCHYARD_TEST_KEEP=1 keeps the folder with the agent's and API server's logs, for debugging a failure.
    if (process.env["SWITCHYARD_TEST_KEEP"] !== "1") rmSync(dir, { recursive: true, force: true });
  });

  const ovs = startOvs({ ns: NS, bridge: "br-int" });
  started.ovs = ovs;
  // The node's transport interface: one end of a veth pair whose other end stays unused in the node namespace.
  sh("ip", ["-n", NS, "link", "add", "sywt0", "type", "veth", "peer", "name", "sywt1"]);
  sh("ip", ["-n", NS, "address", "add", `${NODE_IP}/24`, "dev", "sywt0"]);
  sh("ip", ["-n", NS, "link", "set", "sywt0", "up"]);

  const kubeconfig = join(dir, "kubeconfig");
  started.api = startInNs(dir, "apiserver", [join(ROOT, "bin/switchyard-apiserver"), "--port", "0", "--kubeconfig", kubeconfig]);
  await waitFor("the API server's kubeconfig", () => existsSync(kubeconfig), 20_000);
  const node = { apiVersion: "v1", kind: "Node", metadata: { name: "sywn1" }, spec: { podCIDR: POD_CIDR, podCIDRs: [POD_CIDR] }, status: { addresses: [{ type: "InternalIP", address: NODE_IP }] } };
  sh("ip", ["netns", "exec", NS, "kubectl", "--kubeconfig", kubeconfig, "create", "-f", "-"], JSON.stringify(node));

  const socketPath = join(dir, "cni.sock");
  const config = {
    nodeName: "sywn1",
    kubeconfig,
    ovs: { bridge: "br-int", datapathType: "netdev", dbSocket: `${ovs.dir}/db.sock`, runDir: ovs.dir },
    gateway: { name: "sywgw0" },
    tunnel: { name: "sywtun0" },
    snat: { enabled: false },
    metrics: { enabled: false },
    cni: { socketPath, stateDir: join(dir, "cni") },
  };
  writeFileSync(join(dir, "agent.json"), JSON.stringify(config));
  started.agent = startInNs(dir, "agent", [join(ROOT, "bin/switchyard-agent"), "-c", join(dir, "agent.json"), "--log-level", "debug"]);
  await waitFor("agent ready", () => readFileSync(join(dir, "agent.log"), "utf8").includes('"agent ready"'), 40_000);

  const binDir = join(dir, "bin");
  sh(join(ROOT, "build/install-cni.sh"), [binDir]);
  const netConfig = { cniVersion: "1.1.0", name: "sywnet", type: "switchyard", socketPath, logFile: join(dir, "cni.log") };
  const pods = [
    { ns: "sywpa", containerId: "sywcid-a", args: "K8S_POD_NAME=sywa;K8S_POD_NAMESPACE=default" },
    { ns: "sywpb", containerId: "sywcid-b", args: "K8S_POD_NAME=sywb;K8S_POD_NAMESPACE=default" },
  ];
  const results: Result[] = [];
  for (const pod of pods) {
    const netns = addPodNamespace(pod.ns);
    const run = await runPlugin({ binary: join(binDir, "switchyard"), env: cniEnv("ADD", { containerId: pod.containerId, netns, ifName: "eth0", args: pod.args }), config: netConfig });
    assert.equal(run.code, 0, `ADD ${pod.ns}: ${run.stdout} ${run.stderr}`);
    results.push(run.json as unknown as Result);
  }

  const [a, b] = results.map((result) => ({ ip: (result.ips[0]?.address ?? "").split("/")[0] ?? "", host: result.interfaces[0]?.name ?? "", full: result.ips[0] }));
  assert.ok(a !== undefined, "pod a attached");
  assert.ok(b !== undefined, "pod b attached");
  assert.match(a.ip, /^10\.250\.1\.\d+$/, "pod a's address is in the node's pod CIDR");
  assert.match(b.ip, /^10\.250\.1\.\d+$/, "pod b's address is in the node's pod CIDR");
  assert.notEqual(a.ip, b.ip);
  assert.equal(a.full?.gateway, GATEWAY_IP);

  for (const [pod, ns] of [[a, "sywpa"], [b, "sywpb"]] as const) {
    assert.match(sh("ip", ["-n", NS, "link", "show", pod.host]), /[<,]NOARP[,>]/, `host end ${pod.host} has ARP off`);
    assert.match(sh("ip", ["netns", "exec", ns, "ethtool", "-k", "eth0"]), /^tx-checksumming: off/m, `eth0 in ${ns} has transmit checksum offload off`);
  }

  const flows = sh("ovs-ofctl", ["-O", "OpenFlow15", "--names", "--no-stats", "dump-flows", `unix:${ovs.mgmt}`]).split("\n");
  for (const pod of [a, b]) {
    assert.ok(flows.some((line) => line.includes("table=SpoofGuard") && line.includes(`in_port="${pod.host}"`) && line.includes(`nw_src=${pod.ip}`)), `SpoofGuard flow for ${pod.host} ${pod.ip}:\n${flows.join("\n")}`);
    assert.ok(flows.some((line) => line.includes("table=L3Forwarding") && line.includes(`nw_dst=${pod.ip}`)), `L3Forwarding flow for ${pod.ip}`);
  }

  assert.equal(sh("ip", ["netns", "exec", "sywpa", "ping", "-c", "1", "-W", "2", b.ip]).includes("1 received"), true, "pod a pings pod b");
  assert.equal(sh("ip", ["netns", "exec", "sywpa", "ping", "-c", "1", "-W", "2", GATEWAY_IP]).includes("1 received"), true, "pod a pings the gateway");
  assert.equal(tcpWorks({ fromNs: "sywpa", toNs: "sywpb", address: b.ip }), true, "TCP from pod a to pod b");

  const del = await runPlugin({ binary: join(binDir, "switchyard"), env: cniEnv("DEL", { containerId: "sywcid-a", netns: "/run/netns/sywpa", ifName: "eth0", args: pods[0]?.args ?? "" }), config: netConfig });
  assert.equal(del.code, 0, `DEL: ${del.stderr}`);
  assert.equal(dumpFlows(ovs).some((line) => line.includes(`=${a.ip}`)), false, "no flow names pod a's address after DEL");
  assert.equal(vsctl(ovs, ["list-ports", "br-int"]).split("\n").includes(a.host), false, "pod a's port is gone");
  assert.equal(vsctl(ovs, ["list-ports", "br-int"]).split("\n").includes(b.host), true, "pod b's port stays");
});
