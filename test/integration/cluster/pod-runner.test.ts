// A two-node lab with one pod runner per node, the round-robin scheduler and the local API
// server, networked by Debian's reference CNI plugins (bridge + host-local, then tuning).
// Every check reads the system through kubectl, ip, curl or the file system.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";

import { startApiServer } from "../../apiserver/index.ts";
import type { ApiServer } from "../../apiserver/index.ts";
import { PodRunner, RoundRobinScheduler, probe, probeMatrix, renderMatrix } from "../../cluster/index.ts";
import type { PodRunnerOptions } from "../../cluster/index.ts";
import { downLab, upLab } from "../../lab/index.ts";
import type { Lab } from "../../lab/index.ts";
import { getPodJson, ipv4Addresses, kubectl, linkMtu, netnsWithPrefix, bridgeVeths, waitFor, writeBridgeConflist } from "./helpers.ts";
import type { PodJson } from "./helpers.ts";

const labName = `syr${process.pid % 100000}-pr`;
const netnsPrefix = `${labName}-p-`;
const bridge = "syrbr0";
const podMtu = 1400;

/** The pods, in creation order, with what each listens on. */
const pods = [
  { name: "web", image: "switchyard/http-server", node: "node1", tcp: [80], udp: [] as number[] },
  { name: "echo-b", image: "switchyard/echo-server", node: "node2", tcp: [80, 81], udp: [80] },
  { name: "client", image: "switchyard/idle", node: "node1", tcp: [], udp: [] },
  { name: "echo-c", image: "switchyard/echo-server", node: "node2", tcp: [80, 81], udp: [80] },
  { name: "echo-d", image: "switchyard/echo-server:1.0", node: "node1", tcp: [80, 81], udp: [80] },
] as const;

const podManifests = `
apiVersion: v1
kind: Pod
metadata: { name: web, labels: { app: web } }
spec:
  containers:
  - name: web
    image: switchyard/http-server
    env:
    - name: HTTP_ROUTES
      value: |
        POST /v1/request-landing 200 Ship landed
    args: ["--route", "PUT /v1/exhaust-port 200 Exhaust port sealed"]
---
apiVersion: v1
kind: Pod
metadata: { name: echo-b }
spec: { containers: [{ name: echo, image: switchyard/echo-server }] }
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec: { containers: [{ name: client, image: switchyard/idle }] }
---
apiVersion: v1
kind: Pod
metadata: { name: echo-c }
spec: { containers: [{ name: echo, image: switchyard/echo-server }] }
---
apiVersion: v1
kind: Pod
metadata: { name: echo-d }
spec: { containers: [{ name: echo, image: "switchyard/echo-server:1.0", args: ["--tcp", "80,81", "--udp", "80"] }] }
`;

/** Computes the pod's namespace name from the documented rule, independently of the runner. */
function expectedNetns(namespace: string, name: string, uid: string): string {
  return `${netnsPrefix}${namespace}-${name}-${createHash("sha256").update(uid).digest("hex").slice(0, 8)}`;
}

/** Returns PIDs of live processes whose argv contains "--pod-uid UID", from /proc. */
function workloadPids(uid: string): number[] {
  return readdirSync("/proc").flatMap((entry) => {
    if (!/^\d+$/.test(entry)) return [];
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const index = argv.indexOf("--pod-uid");
      return index !== -1 && argv[index + 1] === uid ? [Number(entry)] : [];
    } catch {
      return [];
    }
  });
}

/** The fields of an Event the tests read. */
interface EventJson {
  type: string;
  reason: string;
  message?: string;
  involvedObject: { name: string; uid?: string };
  source?: { component?: string; host?: string };
}

const cliPath = join(import.meta.dirname, "..", "..", "..", "bin", "switchyard-podrunner");

/** Runs bin/switchyard-podrunner without blocking this process, which serves the API. */
function runCli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cliPath, args, { encoding: "utf8" }, (error, stdout, stderr) => {
      let code = 0;
      if (error !== null) code = typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe("pod runner on a two-node lab with the bridge plugin", () => {
  let root = "";
  let lab: Lab | undefined;
  let server: ApiServer | undefined;
  let kubeconfigPath = "";
  let kubeConfig: KubeConfig;
  let scheduler: RoundRobinScheduler | undefined;
  const runners = new Map<string, PodRunner>();
  const runnerOptions = new Map<string, PodRunnerOptions>();
  const byName = new Map<string, PodJson>();

  function subnetOf(index: number): string {
    return `10.99.${index}.0/24`;
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "syr-cluster-"));
    lab = await upLab({ name: labName, nodes: 2, stateDir: join(root, "lab") });
    server = await startApiServer({ port: 0 });
    kubeconfigPath = join(root, "kubeconfig");
    await server.writeKubeconfig(kubeconfigPath);
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);

    for (const node of lab.nodes) {
      const confDir = join(root, `cni-${node.name}`);
      await writeBridgeConflist({ confDir, bridge, subnet: subnetOf(node.index), ipamDir: join(root, `ipam-${node.name}`), mtu: podMtu });
      const options: PodRunnerOptions = {
        kubeConfig,
        nodeName: node.name,
        nodeNetns: node.netns,
        hostIp: node.underlayIp,
        cniConfDir: confDir,
        cniBinDirs: ["/usr/lib/cni"],
        stateDir: join(root, `runner-${node.name}`),
        netnsPrefix,
        retry: { initialMs: 200, maxMs: 1000 },
      };
      runnerOptions.set(node.name, options);
      const runner = new PodRunner(options);
      runners.set(node.name, runner);
      await runner.start();
    }
    scheduler = new RoundRobinScheduler({ kubeConfig, nodes: lab.nodes.map((node) => node.name) });
    await scheduler.start();

    await kubectl(kubeconfigPath, ["create", "-f", "-"], podManifests);
    await waitFor("all pods Running", async () => (await podPhases()).every((phase) => phase === "Running"), 60_000);
    for (const pod of pods) {
      const json = await getPodJson(kubeconfigPath, "default", pod.name);
      if (json !== undefined) byName.set(pod.name, json);
    }
  });

  after(async () => {
    // Every step runs even when an earlier one fails, so nothing is left behind.
    const failures: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>): Promise<void> => {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    };
    await attempt(async () => scheduler?.stop());
    for (const runner of runners.values()) {
      await attempt(() => runner.stop());
      await attempt(() => runner.teardownAll());
    }
    await attempt(async () => server?.close());
    await attempt(() => downLab({ name: labName, stateDir: join(root, "lab") }));
    // Pod namespaces live outside the lab's own list. Remove any that a failed test left.
    for (const netns of netnsWithPrefix(netnsPrefix)) await attempt(async () => execFileSync("ip", ["netns", "del", netns]));
    await attempt(() => rm(root, { recursive: true, force: true }));
    if (failures.length > 0) throw new AggregateError(failures, "cleanup failed");
  });

  async function podPhases(): Promise<(string | undefined)[]> {
    const list = JSON.parse(await kubectl(kubeconfigPath, ["get", "pods", "-o", "json"])) as { items: PodJson[] };
    return pods.map((expected) => list.items.find((item) => item.metadata.name === expected.name)?.status?.phase);
  }

  function pod(name: string): PodJson {
    const json = byName.get(name);
    assert.ok(json !== undefined, `pod ${name} was not read`);
    return json;
  }

  test("binds pods round-robin in creation order", () => {
    for (const expected of pods) assert.equal(pod(expected.name).spec.nodeName, expected.node, expected.name);
  });

  test("records Scheduled and Started events", async () => {
    const events = JSON.parse(await kubectl(kubeconfigPath, ["get", "events", "-o", "json"])) as { items: EventJson[] };
    for (const expected of pods) {
      const about = events.items.filter((event) => event.involvedObject.name === expected.name && event.involvedObject.uid === pod(expected.name).metadata.uid);
      const scheduled = about.find((event) => event.reason === "Scheduled");
      assert.equal(scheduled?.message, `Successfully assigned default/${expected.name} to ${expected.node}`, expected.name);
      const started = about.find((event) => event.reason === "Started");
      assert.equal(started?.source?.host, expected.node, expected.name);
      assert.ok(started?.message?.includes(pod(expected.name).status?.podIP ?? "?"), `${expected.name}: ${started?.message}`);
    }
  });

  test("registers each node as Ready", async () => {
    const nodes = JSON.parse(await kubectl(kubeconfigPath, ["get", "nodes", "-o", "json"])) as { items: { metadata: { name: string }; status: { addresses: { type: string; address: string }[]; conditions: { type: string; status: string }[] } }[] };
    assert.deepEqual(nodes.items.map((node) => node.metadata.name).sort(), ["node1", "node2"]);
    for (const node of nodes.items) {
      const labNode = lab?.node(node.metadata.name);
      assert.ok(node.status.addresses.some((address) => address.type === "InternalIP" && address.address === labNode?.underlayIp), node.metadata.name);
      assert.ok(node.status.conditions.some((condition) => condition.type === "Ready" && condition.status === "True"), node.metadata.name);
    }
  });

  test("writes Running status with the namespace's IP", () => {
    for (const expected of pods) {
      const json = pod(expected.name);
      const status = json.status;
      const netns = expectedNetns("default", expected.name, json.metadata.uid);
      const addresses = ipv4Addresses(netns, "eth0");
      assert.equal(addresses.length, 1, `${expected.name}: eth0 addresses ${addresses.join(",")}`);
      assert.equal(status?.podIP, addresses[0], expected.name);
      assert.deepEqual(status?.podIPs, [{ ip: addresses[0] }], expected.name);
      const nodeIndex = Number(expected.node.slice(4));
      assert.ok(status?.podIP?.startsWith(`10.99.${nodeIndex}.`), `${expected.name}: ${status?.podIP} outside ${subnetOf(nodeIndex)}`);
      assert.equal(status?.hostIP, lab?.node(expected.node).underlayIp, expected.name);
      assert.match(status?.startTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, expected.name);
      for (const type of ["PodScheduled", "Initialized", "ContainersReady", "Ready"]) {
        assert.ok(status?.conditions?.some((condition) => condition.type === type && condition.status === "True"), `${expected.name}: ${type}`);
      }
      assert.equal(status?.containerStatuses?.[0]?.ready, true, expected.name);
    }
  });

  test("runs one workload per pod", async () => {
    // Status writes cause watch events, and each event must not start another workload.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const expected of pods) {
      const json = pod(expected.name);
      const pids = workloadPids(json.metadata.uid);
      assert.equal(pids.length, 1, `${expected.name}: PIDs ${pids.join(", ")}`);
      const netns = readFileSync(`/proc/${pids[0]}/net/dev`, "utf8");
      assert.match(netns, /eth0:/, `${expected.name} runs in a namespace with eth0`);
      assert.equal((await getPodJson(kubeconfigPath, "default", expected.name))?.status?.containerStatuses?.[0]?.restartCount, 0, expected.name);
    }
  });

  test("runs the chained plugins in order", () => {
    for (const expected of pods) {
      const json = pod(expected.name);
      // tuning runs second and sets the MTU the bridge plugin left at 1500.
      assert.equal(linkMtu(expectedNetns("default", expected.name, json.metadata.uid), "eth0"), podMtu, expected.name);
    }
    for (const node of lab?.nodes ?? []) {
      const onNode = pods.filter((expected) => expected.node === node.name).length;
      assert.equal(bridgeVeths(node.netns, bridge).length, onNode, `${node.name} veths on ${bridge}`);
    }
  });

  test("caches each ADD result like libcni", () => {
    const resultsDir = join(root, "runner-node1", "cni-cache", "results");
    const files = readdirSync(resultsDir).filter((file) => !file.endsWith(".tmp"));
    assert.equal(files.length, pods.filter((expected) => expected.node === "node1").length);
    const ips = new Set<string>();
    for (const file of files) {
      assert.match(file, /^syr-lab-[0-9a-f]{64}-eth0$/);
      const entry = JSON.parse(readFileSync(join(resultsDir, file), "utf8")) as { kind: string; ifName: string; networkName: string; result: { ips: { address: string }[] } };
      assert.equal(entry.kind, "cniCacheV1");
      assert.equal(entry.ifName, "eth0");
      assert.equal(entry.networkName, "syr-lab");
      for (const ip of entry.result.ips) ips.add(ip.address.split("/")[0] ?? "");
    }
    for (const expected of pods.filter((candidate) => candidate.node === "node1")) assert.ok(ips.has(pod(expected.name).status?.podIP ?? ""), expected.name);
  });

  test("HTTP workload answers a pod on the same node", () => {
    const clientNetns = expectedNetns("default", "client", pod("client").metadata.uid);
    const url = `http://${pod("web").status?.podIP}`;
    const curl = (args: string[]): string => execFileSync("ip", ["netns", "exec", clientNetns, "curl", "-s", "--max-time", "5", ...args], { encoding: "utf8" });
    assert.equal(curl(["-X", "POST", `${url}/v1/request-landing`]), "Ship landed");
    assert.equal(curl(["-X", "PUT", `${url}/v1/exhaust-port`]), "Exhaust port sealed");
    assert.equal(curl(["-o", "/dev/null", "-w", "%{http_code}", `${url}/v1/unknown`]), "404");
  });

  test("probe reports reachable and blocked ports", async () => {
    const context = { kubeConfig, netnsPrefix, timeoutMs: 2000 };
    const toWeb = await probe({ ...context, from: "default/client", to: "default/web", port: 80 });
    assert.equal(toWeb.reachable, true);
    assert.equal(toWeb.toIp, pod("web").status?.podIP);
    const closed = await probe({ ...context, from: "client", to: "web", port: 81 });
    assert.equal(closed.reachable, false);
    assert.equal(closed.reason, "ECONNREFUSED");
    const udp = await probe({ ...context, from: "client", to: "echo-d", port: 80, protocol: "udp" });
    assert.equal(udp.reachable, true);
    // Without an agent there is no route between the nodes' pod subnets.
    const crossNode = await probe({ ...context, from: "client", to: "echo-b", port: 80 });
    assert.equal(crossNode.reachable, false);
  });

  test("matrix prints the expected truth tables", async () => {
    const matrix = await probeMatrix({ kubeConfig, netnsPrefix, namespaces: ["default"], timeoutMs: 2000 });
    const names = pods.map((expected) => `default/${expected.name}`).sort();
    assert.deepEqual(matrix.pods, names);

    const nodeOf = new Map(pods.map((expected) => [`default/${expected.name}`, expected.node]));
    const listens = new Map(pods.map((expected) => [`default/${expected.name}`, expected]));
    const tables = [
      { title: "TCP/80", open: (to: string) => (listens.get(to)?.tcp as readonly number[] | undefined)?.includes(80) === true },
      { title: "TCP/81", open: (to: string) => (listens.get(to)?.tcp as readonly number[] | undefined)?.includes(81) === true },
      { title: "UDP/80", open: (to: string) => (listens.get(to)?.udp as readonly number[] | undefined)?.includes(80) === true },
    ].map(({ title, open }) => {
      const rows = names.map((from) => [from, ...names.map((to) => (nodeOf.get(from) === nodeOf.get(to) && open(to) ? "." : "X"))].join("\t"));
      return [title, ["-", ...names].join("\t"), ...rows].join("\n");
    });
    assert.equal(renderMatrix(matrix), tables.join("\n\n"));
    assert.equal(matrix.ports[0]?.reachable["default/client"]?.["default/web"], true);
    assert.equal(matrix.probes.length, names.length * names.length * 3);
  });

  test("CLI probe and matrix --json", async () => {
    const common = ["--kubeconfig", kubeconfigPath, "--netns-prefix", netnsPrefix, "--timeout-ms", "2000"];
    const reachable = await runCli(["probe", "client", "web", "80", ...common]);
    assert.equal(reachable.code, 0, reachable.stderr);
    assert.equal(reachable.stdout, `default/client -> default/web ${pod("web").status?.podIP}:80/tcp: reachable\n`);
    const blocked = await runCli(["probe", "client", "echo-d", "81", "--protocol", "udp", ...common]);
    assert.equal(blocked.code, 1, blocked.stderr);
    assert.match(blocked.stdout, /: blocked \(ECONNREFUSED\)\n$/);

    const matrix = await runCli(["matrix", "--namespaces", "default", "--ports", "81/tcp", "--json", ...common]);
    assert.equal(matrix.code, 0, matrix.stderr);
    const parsed = JSON.parse(matrix.stdout) as { pods: string[]; ports: { port: number; protocol: string; reachable: Record<string, Record<string, boolean>> }[] };
    assert.equal(parsed.pods.length, pods.length);
    assert.deepEqual(parsed.ports.map((port) => `${port.protocol}/${port.port}`), ["tcp/81"]);
    assert.equal(parsed.ports[0]?.reachable["default/client"]?.["default/echo-d"], true);
    assert.equal(parsed.ports[0]?.reachable["default/client"]?.["default/web"], false);
  });

  test("deletion removes namespace, veth and IP", async () => {
    const client = pod("client");
    const netns = expectedNetns("default", "client", client.metadata.uid);
    const node1 = lab?.node("node1");
    assert.ok(node1 !== undefined);
    const vethsBefore = bridgeVeths(node1.netns, bridge).length;
    const ipFile = join(root, "ipam-node1", "syr-lab", client.status?.podIP ?? "");
    assert.ok(existsSync(ipFile), `host-local reservation ${ipFile}`);
    assert.ok(netnsWithPrefix(netnsPrefix).includes(netns));

    await kubectl(kubeconfigPath, ["delete", "pod", "client"]);
    await waitFor("client namespace removed", () => !netnsWithPrefix(netnsPrefix).includes(netns));
    await waitFor("client workload stopped", () => workloadPids(client.metadata.uid).length === 0);
    await runners.get("node1")?.idle();
    assert.equal(bridgeVeths(node1.netns, bridge).length, vethsBefore - 1);
    assert.equal(existsSync(ipFile), false, "host-local released the IP");
    const state = JSON.parse(readFileSync(join(root, "runner-node1", "state.json"), "utf8")) as { pods: Record<string, unknown> };
    assert.equal(state.pods[client.metadata.uid], undefined);
    const events = JSON.parse(await kubectl(kubeconfigPath, ["get", "events", "--field-selector", "involvedObject.name=client", "-o", "json"])) as { items: EventJson[] };
    assert.ok(events.items.some((event) => event.reason === "Killing" && event.involvedObject.uid === client.metadata.uid), "Killing event");
  });

  test("restart cleans up a pod deleted while down", async () => {
    const echoB = pod("echo-b");
    const echoC = pod("echo-c");
    const netnsC = expectedNetns("default", "echo-c", echoC.metadata.uid);
    const node2 = lab?.node("node2");
    const options = runnerOptions.get("node2");
    assert.ok(node2 !== undefined);
    assert.ok(options !== undefined);
    const pidsB = workloadPids(echoB.metadata.uid);
    assert.equal(pidsB.length, 1);

    await runners.get("node2")?.stop();
    await kubectl(kubeconfigPath, ["delete", "pod", "echo-c"]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.ok(netnsWithPrefix(netnsPrefix).includes(netnsC), "nothing removes the namespace while the runner is down");

    const restarted = new PodRunner(options);
    runners.set("node2", restarted);
    await restarted.start();
    await waitFor("echo-c namespace removed", () => !netnsWithPrefix(netnsPrefix).includes(netnsC));
    await waitFor("echo-c workload stopped", () => workloadPids(echoC.metadata.uid).length === 0);
    await restarted.idle();
    assert.equal(bridgeVeths(node2.netns, bridge).length, 1);
    assert.deepEqual(workloadPids(echoB.metadata.uid), pidsB, "echo-b keeps its workload process");
    assert.equal((await getPodJson(kubeconfigPath, "default", "echo-b"))?.status?.phase, "Running");
  });

  test("restarts a workload that died", async () => {
    const echoD = pod("echo-d");
    const [pid] = workloadPids(echoD.metadata.uid);
    assert.ok(pid !== undefined, "echo-d has a workload process");
    process.kill(pid, "SIGKILL");
    await waitFor("echo-d restartCount 1", async () => (await getPodJson(kubeconfigPath, "default", "echo-d"))?.status?.containerStatuses?.[0]?.restartCount === 1);
    const pids = workloadPids(echoD.metadata.uid);
    assert.equal(pids.length, 1);
    assert.notEqual(pids[0], pid);
    const again = await probe({ kubeConfig, netnsPrefix, from: "web", to: "echo-d", port: 81, timeoutMs: 2000 });
    assert.equal(again.reachable, true);
  });

  test("hostNetwork pod stays Pending", async () => {
    await kubectl(kubeconfigPath, ["create", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "hostnet" }, spec: { nodeName: "node1", hostNetwork: true, containers: [{ name: "c", image: "switchyard/idle" }] } }));
    await waitFor("hostnet has a status", async () => (await getPodJson(kubeconfigPath, "default", "hostnet"))?.status?.phase === "Pending");
    const waiting = (await getPodJson(kubeconfigPath, "default", "hostnet"))?.status?.containerStatuses?.[0]?.state?.waiting as { reason: string; message: string };
    assert.equal(waiting.reason, "HostNetworkUnsupported");
    assert.match(waiting.message, /uses hostNetwork/);
    await kubectl(kubeconfigPath, ["delete", "pod", "hostnet"]);
  });

  test("invalid workload leaves the pod Pending", async () => {
    await kubectl(kubeconfigPath, ["run", "nginx", "--image=nginx", "--restart=Never", "--overrides", JSON.stringify({ spec: { nodeName: "node1" } })]);
    await waitFor("nginx Pending with a reason", async () => (await getPodJson(kubeconfigPath, "default", "nginx"))?.status?.containerStatuses?.[0]?.state !== undefined);
    const status = (await getPodJson(kubeconfigPath, "default", "nginx"))?.status;
    assert.equal(status?.phase, "Pending");
    assert.deepEqual(Object.keys(status?.containerStatuses?.[0]?.state ?? {}), ["waiting"]);
    const waiting = status?.containerStatuses?.[0]?.state?.waiting as { reason: string; message: string };
    assert.equal(waiting.reason, "InvalidImageName");
    assert.match(waiting.message, /"nginx" names no workload/);
    const versionBefore = (await getPodJson(kubeconfigPath, "default", "nginx"))?.metadata.resourceVersion;
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await getPodJson(kubeconfigPath, "default", "nginx"))?.metadata.resourceVersion, versionBefore, "the status is written once");
    await kubectl(kubeconfigPath, ["delete", "pod", "nginx"]);
  });

  test("CLI run serves its node until SIGTERM", async () => {
    const node1 = lab?.node("node1");
    assert.ok(node1 !== undefined);
    const confDir = join(root, "cni-cli");
    await writeBridgeConflist({ confDir, bridge: "syrbr2", subnet: "10.99.7.0/24", ipamDir: join(root, "ipam-cli"), mtu: podMtu });
    const options: PodRunnerOptions = {
      kubeConfig,
      nodeName: "syr-cli",
      nodeNetns: node1.netns,
      hostIp: node1.underlayIp,
      cniConfDir: confDir,
      cniBinDirs: ["/usr/lib/cni"],
      stateDir: join(root, "runner-cli"),
      netnsPrefix,
    };
    // after() tears the pod down through a runner on the same state folder.
    runners.set("syr-cli", new PodRunner(options));

    const child = spawn(cliPath, [
      "run",
      "--kubeconfig", kubeconfigPath,
      "--node", "syr-cli",
      "--node-netns", node1.netns,
      "--host-ip", node1.underlayIp,
      "--cni-conf-dir", confDir,
      "--cni-bin-dir", "/usr/lib/cni",
      "--state-dir", options.stateDir,
      "--netns-prefix", netnsPrefix,
      "--log-level", "warn",
    ], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

    try {
      await kubectl(kubeconfigPath, ["create", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "via-cli" }, spec: { nodeName: "syr-cli", containers: [{ name: "c", image: "switchyard/http-server" }] } }));
      await waitFor("via-cli Running", async () => (await getPodJson(kubeconfigPath, "default", "via-cli"))?.status?.phase === "Running");
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0, stderr);

    const json = await getPodJson(kubeconfigPath, "default", "via-cli");
    assert.match(json?.status?.podIP ?? "", /^10\.99\.7\./);
    assert.ok(netnsWithPrefix(netnsPrefix).includes(expectedNetns("default", "via-cli", json?.metadata.uid ?? "")), "the pod outlives the runner");
  });

  test("failed CNI ADD sets Pending, then retries", async () => {
    const node2 = lab?.node("node2");
    assert.ok(node2 !== undefined);
    const confDir = join(root, "cni-broken");
    const ipamDir = join(root, "ipam-broken");
    await writeBridgeConflist({ confDir, bridge: "syrbr1", subnet: "10.99.9.0/24", ipamDir, mtu: podMtu, firstPlugin: "syr-missing" });
    const runner = new PodRunner({
      kubeConfig,
      nodeName: "syr-broken",
      nodeNetns: node2.netns,
      hostIp: node2.underlayIp,
      cniConfDir: confDir,
      cniBinDirs: ["/usr/lib/cni"],
      stateDir: join(root, "runner-broken"),
      netnsPrefix,
      retry: { initialMs: 200, maxMs: 500 },
    });
    runners.set("syr-broken", runner);
    await runner.start();
    await kubectl(kubeconfigPath, ["create", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "late" }, spec: { nodeName: "syr-broken", containers: [{ name: "c", image: "switchyard/idle" }] } }));

    await waitFor("late shows the CNI error", async () =>
      ((await getPodJson(kubeconfigPath, "default", "late"))?.status?.conditions ?? []).some((condition) => condition.status === "False" && (condition.message ?? "").includes("syr-missing")),
    );
    const pending = (await getPodJson(kubeconfigPath, "default", "late"))?.status;
    assert.equal(pending?.phase, "Pending");
    const sandbox = pending?.conditions?.find((condition) => condition.type === "PodReadyToStartContainers");
    assert.equal(sandbox?.status, "False");
    assert.equal(sandbox?.reason, "FailedCreatePodSandBox");
    assert.match(sandbox?.message ?? "", /CNI plugin syr-missing not found/);
    const events = JSON.parse(await kubectl(kubeconfigPath, ["get", "events", "--field-selector", "involvedObject.name=late", "-o", "json"])) as { items: EventJson[] };
    const failed = events.items.filter((event) => event.reason === "FailedCreatePodSandBox");
    assert.equal(failed.length, 1, "one event for a repeated error");
    assert.equal(failed[0]?.type, "Warning");
    assert.match(failed[0]?.message ?? "", /CNI plugin syr-missing not found/);

    // Retries (every 500 ms here) report the same error, so they must not rewrite the status.
    const versionBefore = (await getPodJson(kubeconfigPath, "default", "late"))?.metadata.resourceVersion;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal((await getPodJson(kubeconfigPath, "default", "late"))?.metadata.resourceVersion, versionBefore);

    await writeBridgeConflist({ confDir, bridge: "syrbr1", subnet: "10.99.9.0/24", ipamDir, mtu: podMtu });
    await waitFor("late Running after the retry", async () => (await getPodJson(kubeconfigPath, "default", "late"))?.status?.phase === "Running");
    await runner.idle();
    const late = await getPodJson(kubeconfigPath, "default", "late");
    assert.equal(workloadPids(late?.metadata.uid ?? "").length, 1, "one workload process");
    assert.equal(late?.status?.containerStatuses?.[0]?.restartCount, 0);
    assert.match((await getPodJson(kubeconfigPath, "default", "late"))?.status?.podIP ?? "", /^10\.99\.9\./);
  });
});
