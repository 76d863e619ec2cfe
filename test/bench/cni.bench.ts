// CNI benchmark (run: node test/bench/cni.bench.ts, or npm run bench cni).
//
// 100 pods, each ADD then DEL, sequentially and 20 at a time, measured the way a runtime
// experiences it: from spawning the plugin process to its exit. Ours is the installed launcher
// (bin/switchyard-cni behind build/install-cni.sh) talking to the CNI server in the
// namespace of its own ovs-vswitchd. The reference, in the same run, is Debian's bridge
// plugin with host-local IPAM (/usr/lib/cni). Both run through `ip netns exec NODE_NS`,
// so both pay the same wrapper cost. Also reported: the binary's start-up (VERSION)
// against bare `node -e 0` and the reference's VERSION, and the agent-side ADD and DEL
// time from the server's own debug log.
// Needs root. Creates only syn-prefixed namespaces and removes them at the end.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { agentProcess, NODE, ROOT, sh, shQuiet, startOvs } from "../integration/cni/harness.ts";

const PODS = Number(process.env.SYN_BENCH_PODS ?? 100);
const PARALLEL = 20;
const REFERENCE = "/usr/lib/cni";

type Sample = { ms: number; code: number; stdout: string };

function runTimed(file: string, args: string[], env: Record<string, string>, stdin: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...env }, stdio: ["pipe", "pipe", "ignore"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ ms: performance.now() - started, code: code ?? -1, stdout }));
    // `node -e 0` exits without reading stdin.
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin);
  });
}

async function inBatches<T>(count: number, width: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const workers = Array.from({ length: Math.min(width, count) }, async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  });
  await Promise.all(workers);
  return results;
}

function stats(samples: number[]): { mean: number; p50: number; p95: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { mean: samples.reduce((sum, value) => sum + value, 0) / samples.length, p50: at(0.5), p95: at(0.95) };
}

const format = (value: number) => value.toFixed(1).padStart(8);

type Plugin = { label: string; nodeNs: string; binary: string; config: Record<string, unknown>; podNs: (i: number) => string };

async function phase(plugin: Plugin, command: "ADD" | "DEL", width: number): Promise<{ wallMs: number; samples: number[] }> {
  const started = performance.now();
  const samples = await inBatches(PODS, width, async (i) => {
    const sample = await runTimed("ip", ["netns", "exec", plugin.nodeNs, plugin.binary], {
      CNI_COMMAND: command,
      CNI_CONTAINERID: `bench-${i}`,
      CNI_NETNS: `/run/netns/${plugin.podNs(i)}`,
      CNI_IFNAME: "eth0",
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAME=synb${i};K8S_POD_NAMESPACE=bench`,
      CNI_PATH: REFERENCE,
    }, JSON.stringify(plugin.config));
    if (sample.code !== 0) throw new Error(`${plugin.label} ${command} bench-${i} failed: ${sample.stdout}`);
    return sample.ms;
  });
  return { wallMs: performance.now() - started, samples };
}

async function startup(label: string, file: string, args: string[], env: Record<string, string>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) samples.push((await runTimed(file, args, env, '{"cniVersion":"1.0.0"}')).ms);
  const s = stats(samples);
  console.log(`${label.padEnd(36)} mean ${format(s.mean)} ms  p50 ${format(s.p50)} ms  p95 ${format(s.p95)} ms`);
  return samples;
}

function logLines(logFile: string): string[] {
  return readFileSync(logFile, "utf8").split("\n");
}

/** Server-side durations of `command` requests logged from line `from` on. */
function agentTimes(logFile: string, command: string, from = 0): number[] {
  return logLines(logFile)
    .slice(from)
    .filter((line) => line.includes('"CNI request done"'))
    .map((line) => JSON.parse(line) as { command: string; ms: number })
    .filter((entry) => entry.command === command)
    .map((entry) => entry.ms);
}

const dir = mkdtempSync(join(tmpdir(), "synbn-"));
const ovs = startOvs({ ns: "synbn-ovs", bridge: "synbr-bn" });
const agent = agentProcess({ ovs, podCidrs: ["10.80.0.0/24"], dir, logLevel: "debug" });
const refNs = "synbn-ref";
const podNames = (prefix: string) => Array.from({ length: PODS }, (_, i) => `${prefix}${i}`);
try {
  sh("ip", ["netns", "add", refNs]);
  sh("ip", ["-batch", "-"], [...podNames("synbn-o"), ...podNames("synbn-r")].map((name) => `netns add ${name}`).join("\n") + "\n");
  sh(join(ROOT, "build/install-cni.sh"), [join(dir, "bin")]);
  await agent.start();

  const ours: Plugin = {
    label: "switchyard",
    nodeNs: ovs.ns,
    binary: join(dir, "bin/switchyard"),
    config: { cniVersion: "1.0.0", name: "synbench", type: "switchyard", socketPath: agent.socketPath, logFile: join(dir, "cni.log") },
    podNs: (i) => `synbn-o${i}`,
  };
  const reference: Plugin = {
    label: "bridge + host-local",
    nodeNs: refNs,
    binary: join(REFERENCE, "bridge"),
    config: {
      cniVersion: "1.0.0",
      name: "synbench-ref",
      type: "bridge",
      bridge: "synbnbr0",
      isGateway: true,
      ipam: { type: "host-local", ranges: [[{ subnet: "10.81.0.0/24" }]], dataDir: join(dir, "host-local") },
    },
    podNs: (i) => `synbn-r${i}`,
  };

  console.log(`CNI benchmark: ${PODS} pods, kernel ${execFileSync("uname", ["-r"], { encoding: "utf8" }).trim()}, ${cpus().length} CPUs, load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
  console.log("\nstart-up (VERSION, 20 runs each, no namespace wrapper)");
  const bare = await startup("node -e 0 (Node 24, lower bound)", NODE, ["-e", "0"], {});
  const ourStart = await startup("switchyard VERSION", join(dir, "bin/switchyard"), [], { CNI_COMMAND: "VERSION" });
  const refStart = await startup("bridge VERSION (reference)", join(REFERENCE, "bridge"), [], { CNI_COMMAND: "VERSION" });

  console.log("\nwhole invocations through `ip netns exec` (ms per invocation)");
  const rows: { label: string; ours: { wallMs: number; samples: number[] }; ref: { wallMs: number; samples: number[] }; agent: number[] }[] = [];
  const agentLog = join(dir, "agent.log");
  for (const width of [1, PARALLEL]) {
    for (const command of ["ADD", "DEL"] as const) {
      const from = logLines(agentLog).length - 1;
      const ourPhase = await phase(ours, command, width);
      const agent = agentTimes(agentLog, command, from);
      const refPhase = await phase(reference, command, width);
      rows.push({ label: `${command} ${width === 1 ? "sequential" : `${width}-way`}`, ours: ourPhase, ref: refPhase, agent });
    }
  }
  console.log(`${"phase".padEnd(16)} ${"ours p50".padStart(9)} ${"ours p95".padStart(9)} ${"ours wall".padStart(10)} ${"ref p50".padStart(9)} ${"ref p95".padStart(9)} ${"ref wall".padStart(10)}  wall ratio`);
  for (const row of rows) {
    const o = stats(row.ours.samples);
    const r = stats(row.ref.samples);
    console.log(`${row.label.padEnd(16)} ${format(o.p50)} ${format(o.p95)} ${format(row.ours.wallMs).padStart(10)} ${format(r.p50)} ${format(r.p95)} ${format(row.ref.wallMs).padStart(10)}  ${(row.ours.wallMs / row.ref.wallMs).toFixed(2)}`);
  }

  console.log("\nagent-side work per request (server log, request received to reply), against the reference's whole invocation");
  for (const row of rows) {
    const a = stats(row.agent);
    const r = stats(row.ref.samples);
    console.log(`${row.label.padEnd(16)} agent p50 ${format(a.p50)} p95 ${format(a.p95)}   reference whole p50 ${format(r.p50)}   ratio ${(a.p50 / r.p50).toFixed(2)} (<= 1 meets the goal)`);
  }
  console.log(`start-up: switchyard p50 ${stats(ourStart).p50.toFixed(1)} ms, node -e 0 p50 ${stats(bare).p50.toFixed(1)} ms, bridge p50 ${stats(refStart).p50.toFixed(1)} ms`);
} finally {
  await agent.stop();
  shQuiet("sh", ["-c", `printf '${[...podNames("synbn-o"), ...podNames("synbn-r"), refNs].map((name) => `netns del ${name}`).join("\\n")}\\n' | ip -force -batch -`]);
  ovs.stop();
  if (process.env.SYN_BENCH_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}
