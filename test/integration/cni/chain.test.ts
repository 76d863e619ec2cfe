// Switchyard as the first plugin of a conflist with Debian's reference plugins
// (/usr/lib/cni: portmap, bandwidth, tuning), invoked the way libcni invokes a chain.
// Every plugin runs inside the node's namespace (the one ovs-vswitchd runs in), so the
// iptables and tc changes stay in a namespace this test created.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addPodNamespace, agentProcess, runPlugin, sh, shQuiet, startOvs, vsctl, ROOT } from "./harness.ts";
import type { AgentProcess, OvsInstance, PluginRun } from "./harness.ts";

const REFERENCE_DIR = "/usr/lib/cni";
const POD_NS = "synch-pod";
const missing = [
  ...["portmap", "bandwidth", "tuning"].filter((plugin) => !existsSync(join(REFERENCE_DIR, plugin))).map((plugin) => join(REFERENCE_DIR, plugin)),
  // portmap runs iptables; Debian installs it with the iptables package, not with the plugins.
  ...(["/usr/sbin/iptables", "/sbin/iptables"].some((path) => existsSync(path)) ? [] : ["iptables"]),
];

let ovs: OvsInstance;
let agent: AgentProcess;
let dir: string;
let pluginDir: string;

before(async () => {
  if (missing.length > 0) return;
  ovs = startOvs({ ns: "synch-ovs", bridge: "synbr-ch" });
  dir = mkdtempSync(join(tmpdir(), "synch-agent-"));
  pluginDir = join(dir, "bin");
  sh(join(ROOT, "build/install-cni.sh"), [pluginDir]);
  agent = agentProcess({ ovs, podCidrs: ["10.79.0.0/24", "fd00:79::/64"], dir });
  await agent.start();
  addPodNamespace(POD_NS);
});

after(async () => {
  if (missing.length > 0) return;
  await agent.stop();
  shQuiet("ip", ["netns", "del", POD_NS]);
  ovs.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Plugin = Record<string, unknown> & { type: string };

function conflist(cniVersion: string): { name: string; cniVersion: string; plugins: Plugin[] } {
  return {
    name: "synchain",
    cniVersion,
    plugins: [
      { type: "switchyard", socketPath: agent.socketPath, logFile: join(dir, "cni.log") },
      { type: "portmap", capabilities: { portMappings: true }, snat: true },
      { type: "bandwidth", capabilities: { bandwidth: true } },
      { type: "tuning", sysctl: { "net.core.somaxconn": "512" } },
    ],
  };
}

const RUNTIME_CONFIG: Record<string, unknown> = {
  portMappings: [{ hostPort: 18080, containerPort: 80, protocol: "tcp" }],
  bandwidth: { ingressRate: 1_000_000, ingressBurst: 100_000 },
};

/** libcni's per-plugin configuration: name and cniVersion injected, prevResult and the declared capabilities' runtimeConfig added. */
function pluginConfig(list: ReturnType<typeof conflist>, plugin: Plugin, prevResult: unknown): Record<string, unknown> {
  const config: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  if (prevResult !== undefined) config.prevResult = prevResult;
  const capabilities = (plugin.capabilities ?? {}) as Record<string, boolean>;
  const runtimeConfig: Record<string, unknown> = {};
  for (const [name, enabled] of Object.entries(capabilities)) {
    if (enabled && RUNTIME_CONFIG[name] !== undefined) runtimeConfig[name] = RUNTIME_CONFIG[name];
  }
  if (Object.keys(runtimeConfig).length > 0) config.runtimeConfig = runtimeConfig;
  return config;
}

function invoke(list: ReturnType<typeof conflist>, plugin: Plugin, command: string, prevResult: unknown): Promise<PluginRun> {
  const path = plugin.type === "switchyard" ? join(pluginDir, "switchyard") : join(REFERENCE_DIR, plugin.type);
  return runPlugin({
    binary: "ip",
    args: ["netns", "exec", ovs.ns, path],
    env: {
      CNI_COMMAND: command,
      CNI_CONTAINERID: "cid-chain",
      CNI_NETNS: `/run/netns/${POD_NS}`,
      CNI_IFNAME: "eth0",
      CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=synchainpod",
      CNI_PATH: `${pluginDir}:${REFERENCE_DIR}`,
    },
    config: pluginConfig(list, plugin, prevResult),
  });
}

test("installed launcher runs Node 24", { skip: missing.length > 0 ? `missing ${missing.join(", ")}` : false }, () => {
  const launcher = readFileSync(join(pluginDir, "switchyard"), "utf8");
  const node = /^exec "([^"]+)" "([^"]+)"/m.exec(launcher);
  assert.ok(node !== null, launcher);
  assert.match(sh(node[1] ?? "", ["--version"]).trim(), /^v24\./);
  assert.equal(node[2], join(pluginDir, ".switchyard/main.mjs"));
  const output = execFileSync(join(pluginDir, "switchyard"), [], { input: "{}", env: { CNI_COMMAND: "VERSION" }, encoding: "utf8" });
  assert.deepEqual(JSON.parse(output), { cniVersion: "1.1.0", supportedVersions: ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] });
});

for (const cniVersion of ["1.0.0", "0.4.0"]) {
  test(`chain ADD, CHECK, DEL at ${cniVersion}`, { skip: missing.length > 0 ? `missing ${missing.join(", ")}` : false }, async (t) => {
    const list = conflist(cniVersion);

    // ADD in order; each plugin gets the previous plugin's result. On a failure, DEL
    // everything in reverse order so the next case starts clean.
    let prevResult: Record<string, unknown> | undefined;
    let first: Record<string, unknown> | undefined;
    let deleted = false;
    t.after(async () => {
      if (deleted) return;
      for (const plugin of [...list.plugins].reverse()) await invoke(list, plugin, "DEL", prevResult);
    });
    for (const plugin of list.plugins) {
      const run = await invoke(list, plugin, "ADD", prevResult);
      assert.equal(run.code, 0, `${plugin.type} ADD: ${run.stdout} ${run.stderr}`);
      assert.ok(run.json !== undefined, `${plugin.type} printed no result`);
      assert.equal(run.json.cniVersion, cniVersion);
      first ??= run.json;
      prevResult = run.json;
    }
    const final = prevResult ?? {};
    assert.deepEqual(final.ips, first?.ips, "the chain kept switchyard's addresses");
    assert.deepEqual(final.interfaces, first?.interfaces, "the chain kept switchyard's interfaces");
    if (cniVersion === "0.4.0") assert.equal((final.ips as { version?: string }[])[0]?.version, "4");

    // What each reference plugin did, read back independently.
    const hostIf = ((final.interfaces as { name: string }[])[0]?.name) ?? "";
    assert.match(sh("ip", ["netns", "exec", ovs.ns, "iptables-save", "-t", "nat"]), /--dport 18080 .*-j (CNI-DN|DNAT)/);
    assert.match(sh("ip", ["netns", "exec", ovs.ns, "tc", "qdisc", "show", "dev", hostIf]), /tbf/);
    assert.equal(sh("ip", ["netns", "exec", POD_NS, "sysctl", "-n", "net.core.somaxconn"]).trim(), "512");

    // CHECK in order with the cached result. The portmap of Debian 12's
    // containernetworking-plugins (1.1.1) fails CHECK whenever ip6tables exists, because it
    // looks for its IPv4 rules in the IPv6 nat table, so its CHECK is left out.
    for (const plugin of list.plugins.filter((entry) => entry.type !== "portmap")) {
      const run = await invoke(list, plugin, "CHECK", final);
      assert.equal(run.code, 0, `${plugin.type} CHECK: ${run.stdout} ${run.stderr}`);
    }

    // DEL in reverse order with the cached result.
    deleted = true;
    for (const plugin of [...list.plugins].reverse()) {
      const run = await invoke(list, plugin, "DEL", final);
      assert.equal(run.code, 0, `${plugin.type} DEL: ${run.stdout} ${run.stderr}`);
    }
    assert.doesNotMatch(sh("ip", ["netns", "exec", ovs.ns, "iptables-save", "-t", "nat"]), /--dport 18080/);
    assert.equal(vsctl(ovs, ["list-ports", "synbr-ch"]), "");
    assert.equal(sh("ip", ["-n", POD_NS, "-o", "link", "show"]).includes("eth0"), false);
  });
}
