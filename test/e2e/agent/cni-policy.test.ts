// End to end in a two-node lab (Geneve). Each node runs bin/switchyard-agent with its
// embedded CNI server and NetworkPolicy enforcement. The lab's outside namespace runs the
// local API server and the controller, and the real CNI binary attaches the pods. Pods on
// different nodes ping each other. A NetworkPolicy created through kubectl lets TCP to port
// 8080 of the server pod through while port 8081 times out, and deleting it opens 8081
// again. Expected values come from the controller-assigned Node CIDRs (read with kubectl),
// the controller's status endpoint, ping and TCP connections.
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { deleteNamespaces, createNamespaces, downLab, run, upLab, type Lab, type LabNode } from "../../lab/index.ts";

const ROOT = new URL("../../../", import.meta.url).pathname;
const LAB = "sywpol";
const CLUSTER_CIDR = "10.251.0.0/16";
const CONTROLLER_PORT = 10351;
const API_PORT = 6443;

/** Lets TCP port 8080 of the server pod through and isolates it for every other ingress. */
const POLICY = {
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: "sywallow8080", namespace: "default" },
  spec: { podSelector: { matchLabels: { app: "server" } }, policyTypes: ["Ingress"], ingress: [{ ports: [{ protocol: "TCP", port: 8080 }] }] },
};

/** One entry of the controller's GET /v1/status, the fields read here. */
interface NodeStatus {
  readonly node: string;
  readonly controllerGeneration: number;
  readonly report?: { readonly generation: number; readonly realized: readonly string[]; readonly failed: readonly unknown[] };
}

interface Pod {
  readonly name: string;
  readonly node: LabNode;
  readonly netns: string;
  readonly containerId: string;
  ip: string;
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function logIncludes(path: string, text: string): boolean {
  return existsSync(path) && readFileSync(path, "utf8").includes(text);
}

/** Runs a CNI command with the installed binary, as a runtime would; resolves with exit code and stdout. */
function runCni(options: { binary: string; command: string; pod: Pod; config: unknown }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = {
      PATH: process.env["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin",
      CNI_COMMAND: options.command,
      CNI_CONTAINERID: options.pod.containerId,
      CNI_NETNS: `/run/netns/${options.pod.netns}`,
      CNI_IFNAME: "eth0",
      CNI_PATH: "/usr/lib/cni",
      CNI_ARGS: `K8S_POD_NAME=${options.pod.name};K8S_POD_NAMESPACE=default`,
    };
    const child = spawn(options.binary, [], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(JSON.stringify(options.config));
  });
}

/** Python program that accepts TCP connections on the given ports and sends "ok" on each. */
const LISTENER = `
import socket, sys, threading
def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        c.sendall(b"ok")
        c.close()
for port in sys.argv[1:]:
    threading.Thread(target=serve, args=(int(port),), daemon=True).start()
threading.Event().wait()
`;

/** Resolves true when a TCP connection from `from` to address:port returns "ok" within 2 seconds. */
async function connects(from: Pod, address: string, port: number): Promise<boolean> {
  const program = `import socket,sys\ns=socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)\nsys.stdout.write(s.recv(2).decode())`;
  try {
    return (await run(["python3", "-c", program, address, String(port)], { netns: from.netns })) === "ok";
  } catch {
    return false;
  }
}

/**
 * Resolves true when one ICMP echo gets a reply within `timeoutMs`. The first packets toward
 * a new peer may be lost while ovs-vswitchd resolves the tunnel neighbour.
 * NOTE: once, right after start-up on a loaded machine, three 1-second attempts all failed;
 * the cause was not found, so the check now retries for up to 15 seconds.
 */
async function pings(from: Pod, address: string, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await run(["ping", "-c", "1", "-W", "1", address], { netns: from.netns });
      return true;
    } catch {
      // Retried until the deadline.
    }
  }
  return false;
}

describe("agent CNI and NetworkPolicy in a two-node lab", { timeout: 110_000 }, () => {
  const dir = mkdtempSync("/tmp/sywpol-");
  const children: ChildProcess[] = [];
  const pods: Pod[] = [];
  let lab: Lab;
  let kubectl: (args: string[], input?: string) => string;
  let cniBinary = "";
  let readStatus: () => NodeStatus[] = () => [];
  const cniConfigs = new Map<string, unknown>();

  function startIn(netns: string, name: string, argv: string[]): ChildProcess {
    const log = openSync(join(dir, `${name}.log`), "a");
    const child = spawn("ip", ["netns", "exec", netns, ...argv], { stdio: ["ignore", log, log] });
    children.push(child);
    return child;
  }

  before(async () => {
    await downLab({ name: LAB }).catch(() => undefined);
    lab = await upLab({ name: LAB, nodes: 2 });
    const outside = lab.outside;
    const kubeconfig = join(dir, "kubeconfig");
    kubectl = (args, input) => execFileSync("ip", ["netns", "exec", outside.netns, "kubectl", "--kubeconfig", kubeconfig, ...args], { encoding: "utf8", input });

    startIn(outside.netns, "apiserver", [join(ROOT, "bin/switchyard-apiserver"), "--host", outside.ip, "--port", String(API_PORT), "--kubeconfig", kubeconfig]);
    await waitFor("the API server's kubeconfig", () => existsSync(kubeconfig), 20_000);
    for (const node of lab.nodes) {
      kubectl(["create", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Node", metadata: { name: node.name }, status: { addresses: [{ type: "InternalIP", address: node.underlayIp }] } }));
    }

    const controllerConfig = join(dir, "controller.json");
    writeFileSync(
      controllerConfig,
      JSON.stringify({
        kubeconfig,
        clusterCIDRs: [CLUSTER_CIDR],
        api: { bindAddress: outside.ip, port: CONTROLLER_PORT, heartbeatSeconds: 5 },
        tls: { dir: join(dir, "tls"), serverNames: [outside.ip] },
        metrics: { enabled: false },
        informers: { backoffInitialMs: 100, backoffMaxMs: 1000 },
      }),
    );
    for (const node of lab.nodes) {
      execFileSync(join(ROOT, "bin/switchyard-controller"), ["issue-cert", "-c", controllerConfig, "--node", node.name, "--out", join(dir, `cert-${node.name}`)], { stdio: "ignore" });
    }
    execFileSync(join(ROOT, "bin/switchyard-controller"), ["issue-cert", "-c", controllerConfig, "--operator", "sywop", "--out", join(dir, "cert-operator")], { stdio: "ignore" });
    const operator = join(dir, "cert-operator");
    readStatus = () => {
      const argv = ["--silent", "--show-error", "--cacert", join(operator, "ca.crt"), "--cert", join(operator, "client.crt"), "--key", join(operator, "client.key"), `https://${outside.ip}:${CONTROLLER_PORT}/v1/status`];
      return JSON.parse(execFileSync("ip", ["netns", "exec", outside.netns, "curl", ...argv], { encoding: "utf8" })) as NodeStatus[];
    };
    startIn(outside.netns, "controller", [join(ROOT, "bin/switchyard-controller"), "-c", controllerConfig]);

    for (const node of lab.nodes) {
      const nodeDir = join(dir, node.name);
      const certs = join(dir, `cert-${node.name}`);
      const config = {
        nodeName: node.name,
        kubeconfig,
        ovs: { bridge: "br-int", datapathType: "netdev", dbSocket: node.dbSocket, runDir: node.ovsDir },
        gateway: { name: "sywgw0" },
        tunnel: { name: "sywtun0", type: "geneve" },
        snat: { enabled: false },
        metrics: { enabled: false },
        informers: { backoffInitialMs: 100, backoffMaxMs: 1000 },
        cni: { socketPath: join(nodeDir, "cni.sock"), stateDir: join(nodeDir, "cni") },
        controller: {
          url: `https://${outside.ip}:${CONTROLLER_PORT}`,
          caFile: join(certs, "ca.crt"),
          certFile: join(certs, "client.crt"),
          keyFile: join(certs, "client.key"),
          cacheFile: join(nodeDir, "policy-cache.json"),
        },
      };
      execFileSync("mkdir", ["-p", nodeDir]);
      writeFileSync(join(nodeDir, "agent.json"), JSON.stringify(config));
      startIn(node.netns, `agent-${node.name}`, [join(ROOT, "bin/switchyard-agent"), "-c", join(nodeDir, "agent.json")]);
      cniConfigs.set(node.name, { cniVersion: "1.1.0", name: "sywnet", type: "switchyard", socketPath: join(nodeDir, "cni.sock"), logFile: join(nodeDir, "cni.log") });
    }
    const binDir = join(dir, "bin");
    execFileSync(join(ROOT, "build/install-cni.sh"), [binDir], { stdio: "ignore" });
    cniBinary = join(binDir, "switchyard");
    for (const node of lab.nodes) await waitFor(`agent ready on ${node.name}`, () => logIncludes(join(dir, `agent-${node.name}.log`), '"agent ready"'), 40_000);
  });

  after(async () => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.pid === undefined) continue;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    }
    await deleteNamespaces(pods.map((pod) => pod.netns)).catch(() => undefined);
    await downLab({ name: LAB }).catch(() => undefined);
    // SWITCHYARD_TEST_KEEP=1 keeps the folder with every daemon's log, for debugging a failure.
    if (process.env["SWITCHYARD_TEST_KEEP"] !== "1") rmSync(dir, { recursive: true, force: true });
  });

  test("pods on two nodes ping each other", async () => {
    const [n1, n2] = lab.nodes;
    assert.ok(n1 !== undefined, "node 1 exists");
    assert.ok(n2 !== undefined, "node 2 exists");
    for (const [name, node, labels] of [["sywclient", n1, { role: "client" }], ["sywserver", n2, { app: "server" }]] as const) {
      const pod: Pod = { name, node, netns: `${LAB}-${name}`, containerId: `sywcid-${name}`, ip: "" };
      await createNamespaces([pod.netns]);
      pods.push(pod);
      const added = await runCni({ binary: cniBinary, command: "ADD", pod, config: cniConfigs.get(node.name) });
      assert.equal(added.code, 0, `ADD ${name}: ${added.stdout} ${added.stderr}`);
      const result = JSON.parse(added.stdout) as { ips: { address: string }[] };
      pod.ip = (result.ips[0]?.address ?? "").split("/")[0] ?? "";
      const nodeCidr = kubectl(["get", "node", node.name, "-o", "jsonpath={.spec.podCIDR}"]).trim();
      const prefix = nodeCidr.split(".").slice(0, 3).join(".");
      assert.match(nodeCidr, /^10\.251\.\d+\.0\/24$/, `${node.name} got a pod CIDR from the controller`);
      assert.equal(pod.ip.startsWith(`${prefix}.`), true, `${name} address ${pod.ip} is in ${node.name}'s pod CIDR ${nodeCidr}`);

      kubectl(["create", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", labels }, spec: { nodeName: node.name, containers: [{ name: "c", image: "none" }] } }));
      kubectl(["patch", "pod", name, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { phase: "Running", podIP: pod.ip, podIPs: [{ ip: pod.ip }] } })]);
    }
    const [client, server] = pods;
    assert.ok(client !== undefined, "client pod attached");
    assert.ok(server !== undefined, "server pod attached");
    children.push(spawn("ip", ["netns", "exec", server.netns, "python3", "-c", LISTENER, "8080", "8081"], { stdio: "ignore" }));

    assert.equal(await pings(client, server.ip), true, "client on n1 pings server on n2");
    assert.equal(await pings(server, client.ip), true, "server on n2 pings client on n1");
    await waitFor("the listener", () => connects(client, server.ip, 8081), 10_000);
    assert.equal(await connects(client, server.ip, 8080), true, "TCP 8080 before any policy");
  });

  test("NetworkPolicy allows 8080, drops 8081", async () => {
    const [client, server] = pods;
    assert.ok(client !== undefined, "client pod attached");
    assert.ok(server !== undefined, "server pod attached");
    kubectl(["create", "-f", "-"], JSON.stringify(POLICY));
    await waitFor("TCP 8081 to be dropped", async () => !(await connects(client, server.ip, 8081)), 20_000);
    const started = Date.now();
    assert.equal(await connects(client, server.ip, 8081), false, "TCP 8081 fails under the policy");
    // A dropped SYN fails only at the client's 2-second timeout; a reset would fail at once.
    assert.ok(Date.now() - started >= 1500, `TCP 8081 timed out (failed after ${Date.now() - started} ms)`);
    assert.equal(await connects(client, server.ip, 8080), true, "TCP 8080 allowed by the policy");

    // The server's agent reports the policy realized at the controller's current generation.
    const serverNode = server.node.name;
    const realized = (): NodeStatus | undefined => readStatus().find((entry) => entry.node === serverNode);
    await waitFor("the realization report", () => {
      const entry = realized();
      return entry?.report !== undefined && entry.report.generation === entry.controllerGeneration && entry.report.realized.length === 1;
    }, 10_000);
    assert.equal(realized()?.report?.realized.length, 1, "one policy realized on the server's node");
    assert.deepEqual(realized()?.report?.failed, [], "no policy failed");

    kubectl(["delete", "networkpolicy", "sywallow8080", "-n", "default"]);
    await waitFor("TCP 8081 to work again", () => connects(client, server.ip, 8081), 20_000);
    assert.equal(await connects(client, server.ip, 8080), true, "TCP 8080 after the policy is deleted");
  });

  test("policy survives ovs-vswitchd restart", async () => {
    const [client, server] = pods;
    assert.ok(client !== undefined, "client pod attached");
    assert.ok(server !== undefined, "server pod attached");
    const node = server.node;
    kubectl(["create", "-f", "-"], JSON.stringify(POLICY));
    await waitFor("TCP 8081 to be dropped", async () => !(await connects(client, server.ip, 8081)), 20_000);

    // Stop and start ovs-vswitchd of the server's node, as an OVS upgrade would. The agent
    // replays the pipeline and then the policy flows when its OpenFlow connection returns.
    await node.vsctl(["set", "open_vswitch", ".", "other_config:flow-restore-wait=true"]);
    const pid = Number(readFileSync(`${node.ovsDir}/vswitchd.pid`, "utf8").trim());
    process.kill(pid, "SIGTERM");
    await waitFor("ovs-vswitchd to exit", () => !existsSync(`/proc/${pid}`), 5000);
    await run(["ovs-vswitchd", `unix:${node.dbSocket}`, `--pidfile=${node.ovsDir}/vswitchd.pid`, `--unixctl=${node.vswitchdCtl}`, `--log-file=${node.ovsDir}/vswitchd.log`, "--detach"], {
      netns: node.netns,
      env: { OVS_RUNDIR: node.ovsDir },
    });
    // br-phy is an OVS internal device: the restarted daemon recreated it without the
    // underlay address, which the lab (standing in for the node's network setup) puts back.
    await node.exec(["ip", "addr", "replace", `${node.underlayIp}/${node.underlayPrefixLength}`, "dev", node.physicalBridge]);
    await node.exec(["ip", "link", "set", node.physicalBridge, "up"]);

    await waitFor("TCP 8080 after the restart", () => connects(client, server.ip, 8080), 20_000);
    assert.equal(await connects(client, server.ip, 8081), false, "TCP 8081 still dropped after the restart");
    const flows = await run(["ovs-ofctl", "-O", "OpenFlow15", "--names", "--no-stats", "dump-flows", `unix:${node.ovsDir}/br-int.mgmt`, "table=IngressPolicy"]);
    assert.ok(flows.split("\n").some((line) => line.includes("conjunction(") || line.includes(`nw_dst=${server.ip}`)), "IngressPolicy has the policy's flows again");
  });
});
