// Measures one pod attachment through the pod runner's CNI chain: ADD then DEL of the
// reference plugins bridge + host-local, then tuning, run by addNetworkList/delNetworkList.
// The reference, measured in the same run, runs the same plugin binaries with the same
// stdin and environment by plain spawnSync calls, without lookup, result cache or parsing.
// The ratio is the cost of the libcni semantics the runner adds around the plugins.
//
// Needs root and /usr/lib/cni. Usage: node test/bench/cluster.bench.ts [rounds] (default 20).
// Prints the median and range of each figure in milliseconds.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { parseNetworkConfigList } from "../cluster/cni/conflist.ts";
import { addNetworkList, buildPluginEnv, buildPluginStdin, delNetworkList, processExecutor } from "../cluster/cni/invoke.ts";
import type { CniResult } from "../cluster/cni/invoke.ts";
import { podRuntimeArgs } from "../cluster/runtime-args.ts";

const rounds = Number(process.argv[2] ?? "20");
const nodeNetns = `syrbench${process.pid % 10000}-node`;
const podNetns = `syrbench${process.pid % 10000}-pod`;
const cniBin = "/usr/lib/cni";

function sh(argv: string[]): void {
  const result = spawnSync(argv[0] ?? "", argv.slice(1), { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${argv.join(" ")} failed: ${result.stderr}`);
}

function summary(samples: number[]): { median: number; min: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? 0, min: sorted[0] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}

function format(value: { median: number; min: number; max: number }): string {
  return `${value.median.toFixed(1)} ms (${value.min.toFixed(1)}-${value.max.toFixed(1)})`;
}

const dir = mkdtempSync(join(tmpdir(), "syr-bench-"));
const conflist = parseNetworkConfigList(
  Buffer.from(
    JSON.stringify({
      cniVersion: "1.0.0",
      name: "syr-bench",
      plugins: [
        { type: "bridge", bridge: "syrbr0", isGateway: true, ipMasq: false, ipam: { type: "host-local", ranges: [[{ subnet: "10.98.0.0/24" }]], dataDir: join(dir, "ipam") } },
        { type: "tuning", mtu: 1400 },
      ],
    }),
  ),
  "bench.conflist",
);
const runtime = podRuntimeArgs({ pod: { namespace: "default", name: "bench", uid: "bench-uid" }, sandboxId: "b".repeat(64), netns: podNetns, portMappings: [] });
const call = { list: conflist, runtime, cniPath: [cniBin], cacheDir: join(dir, "cache"), executor: processExecutor({ netns: nodeNetns }) };

/** Runs one plugin the plain way: spawnSync in the node namespace, output returned as parsed JSON. */
function runPlain(command: "ADD" | "DEL", pluginIndex: number, prevResult: CniResult | undefined): CniResult | undefined {
  const plugin = conflist.plugins[pluginIndex] ?? { type: "" };
  const result = spawnSync("ip", ["netns", "exec", nodeNetns, join(cniBin, plugin.type)], {
    input: buildPluginStdin({ list: conflist, plugin, prevResult, capabilityArgs: {} }),
    env: { ...process.env, ...buildPluginEnv({ command, runtime, cniPath: [cniBin] }) },
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`${plugin.type} ${command} failed: ${result.stdout} ${result.stderr}`);
  return command === "ADD" ? (JSON.parse(result.stdout) as CniResult) : undefined;
}

try {
  sh(["ip", "netns", "add", nodeNetns]);
  sh(["ip", "netns", "add", podNetns]);
  const ours: number[] = [];
  const plain: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    let start = performance.now();
    await addNetworkList(call);
    await delNetworkList(call);
    ours.push(performance.now() - start);

    start = performance.now();
    const first = runPlain("ADD", 0, undefined);
    const last = runPlain("ADD", 1, first);
    runPlain("DEL", 1, last);
    runPlain("DEL", 0, last);
    plain.push(performance.now() - start);
  }
  const oursSummary = summary(ours);
  const plainSummary = summary(plain);
  console.log(`CNI ADD+DEL, bridge + host-local + tuning, ${rounds} rounds`);
  console.log(`  addNetworkList + delNetworkList: ${format(oursSummary)}`);
  console.log(`  plain spawnSync of the plugins:  ${format(plainSummary)}`);
  console.log(`  ratio (ours / plain, medians):   ${(oursSummary.median / plainSummary.median).toFixed(2)}`);
} finally {
  spawnSync("ip", ["netns", "del", podNetns]);
  spawnSync("ip", ["netns", "del", nodeNetns]);
  rmSync(dir, { recursive: true, force: true });
}
