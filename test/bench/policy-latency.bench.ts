// NetworkPolicy realization latency on a local multi-node cluster with real OVS: the time from
// the API call that creates a NetworkPolicy to the first datagram it denies being dropped,
// on every node. The reference, measured in the same run with the same prober and targets,
// is a drop flow added with ovs-ofctl straight into each node's IngressPolicy table. A
// second reference sends the same flow_mod over OpenFlow connections opened beforehand.
// The method, the pod layout and the figures are in docs/benchmarks-policy-latency.md.
//
// Needs root, Open vSwitch, iproute2 and curl. Usage:
//   node test/bench/policy-latency.bench.ts [--nodes 2] [--pods 300] [--rounds 5] [--warmup 2] [--out FILE]
// or the same through POLICY_LATENCY_NODES, POLICY_LATENCY_PODS, POLICY_LATENCY_ROUNDS,
// POLICY_LATENCY_WARMUP. Warm-up rounds run first and are left out of the figures.
// Progress goes to stderr, the figures to stdout; --out also writes every round as JSON.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { parseArgs } from "node:util";
import { NetworkingV1Api } from "@kubernetes/client-node";
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";

import { downCluster, loadClusterKubeConfig, nodeBinary, upCluster } from "../labcluster/cluster.ts";
import type { RunningCluster } from "../labcluster/cluster.ts";
import { podNetns } from "../labcluster/pods.ts";
import { median, targetLatency } from "./policy-latency/analysis.ts";
import type { TargetLatency } from "./policy-latency/analysis.ts";
import { backendNamespace, backendPolicy, buildLayout, policyName, proberNamespace, proberPodName, targetPort } from "./policy-latency/layout.ts";
import type { Layout } from "./policy-latency/layout.ts";
import { readDatapathStats } from "./policy-latency/datapath-stats.ts";
import type { DatapathStats } from "./policy-latency/datapath-stats.ts";
import { agentBreakdown } from "./policy-latency/log-breakdown.ts";
import type { AgentApplied } from "./policy-latency/log-breakdown.ts";
import { createLayout, deleteLayoutPods, killLeftoverWorkloads, recordedWorkloads, waitForLayoutRunning } from "./policy-latency/pods.ts";
import { ProberProcess } from "./policy-latency/prober-process.ts";
import type { ProberSettings } from "./policy-latency/prober-process.ts";
import type { ProbeTarget } from "./policy-latency/record.ts";
import { OpenConnectionDrops, addReferenceDrops, countReferenceDrops, removeReferenceDrops } from "./policy-latency/reference-flow.ts";
import type { ReferenceNode } from "./policy-latency/reference-flow.ts";

interface BenchOptions {
  nodes: number;
  pods: number;
  rounds: number;
  warmup: number;
  out: string | undefined;
}

function readOptions(): BenchOptions {
  const { values } = parseArgs({
    options: { nodes: { type: "string" }, pods: { type: "string" }, rounds: { type: "string" }, warmup: { type: "string" }, out: { type: "string" } },
    strict: true,
  });
  const integer = (flag: string, text: string | undefined, fallback: number, minimum: number): number => {
    const value = Number(text ?? fallback);
    if (!Number.isInteger(value) || value < minimum) throw new RangeError(`invalid ${flag} ${JSON.stringify(text)}: give an integer of at least ${minimum}`);
    return value;
  };
  return {
    nodes: integer("--nodes", values.nodes ?? process.env.POLICY_LATENCY_NODES, 2, 1),
    pods: integer("--pods", values.pods ?? process.env.POLICY_LATENCY_PODS, 300, 1),
    rounds: integer("--rounds", values.rounds ?? process.env.POLICY_LATENCY_ROUNDS, 5, 1),
    warmup: integer("--warmup", values.warmup ?? process.env.POLICY_LATENCY_WARMUP, 2, 0),
    out: values.out,
  };
}

/** Prober settings: a datagram to every target each 2 ms, drop declared after 500 ms of silence. */
const proberSettings: ProberSettings = { intervalMs: 2, silenceMs: 500, timeoutMs: 30_000, echoWindowMs: 1000, steadyCount: 25 };
/** Time for every target to echo steadily again, which also covers the previous change being undone. */
const steadyTimeoutMs = 30_000;
/** Source ports the probers use, each once per run. */
const firstProbePort = 10_000;

const now = (): number => performance.timeOrigin + performance.now();
const startedAt = now();
function progress(line: string): void {
  process.stderr.write(`[${((now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
}

/** What is timed: the policy create call, ovs-ofctl add-flow per node, or a flow_mod on an open connection per node. */
type MeasurementKind = "policy" | "ovs-ofctl" | "open-connection";
const kinds: readonly MeasurementKind[] = ["policy", "ovs-ofctl", "open-connection"];

/** One timed change and its outcome per node. */
interface Measurement {
  kind: MeasurementKind;
  /** 1 and up; warm-up rounds are 0 and below. */
  round: number;
  /** Duration of the request itself (API create call, or the slowest node's flow add), in milliseconds. */
  requestMs: number;
  targets: TargetLatency[];
  /** Max over nodes in milliseconds, or undefined when any node's figure is invalid. */
  maxMs: number | undefined;
  proberStop: string;
  loadAverage: number;
  breakdown: AgentApplied[];
  /** Each node's datapath flow cache just before t0. */
  datapath: DatapathStats[];
}

/** What the measurements need from the running cluster. */
interface RunContext {
  cluster: RunningCluster;
  kubeConfig: KubeConfig;
  proberNetns: string;
  targets: ProbeTarget[];
  referenceNodes: ReferenceNode[];
  /** Each node's ovs-vswitchd control socket, for upcall/show. */
  vswitchdCtls: { name: string; vswitchdCtl: string }[];
  openConnections: OpenConnectionDrops | undefined;
  nextPort: number;
  /** The prober now running, for the cleanup after a failure or SIGINT. */
  prober: ProberProcess | undefined;
}

/** Runs one prober through steady echoing, the change at t0, and silence. Returns the outcome per target. */
async function measure(context: RunContext, kind: MeasurementKind, round: number): Promise<Measurement> {
  const prober = startProber(context);
  try {
    const steadyAt = await prober.waitSteady(steadyTimeoutMs);
    const datapath = await readDatapathStats(context.vswitchdCtls);
    prober.watch();
    const t0 = now();
    if (kind === "policy") {
      await context.kubeConfig.makeApiClient(NetworkingV1Api).createNamespacedNetworkPolicy({ namespace: backendNamespace, body: backendPolicy() });
    } else if (kind === "ovs-ofctl") {
      await addReferenceDrops(context.referenceNodes);
    } else {
      await requireOpenConnections(context).add();
    }
    const requestMs = now() - t0;
    const record = await prober.record(proberSettings.timeoutMs + proberSettings.echoWindowMs + 10_000);
    context.nextPort = record.lastPort + 1;
    const targets = record.targets.map((target) => targetLatency(target, { t0, steadyAt }));
    const latencies = targets.flatMap((target) => (target.valid ? [target.latencyMs] : []));
    const maxMs = latencies.length === targets.length ? Math.max(...latencies) : undefined;
    const breakdown = kind === "policy" ? await policyBreakdown(context, t0) : [];
    return { kind, round, requestMs, targets, maxMs, proberStop: record.reason, loadAverage: loadavg()[0] ?? 0, breakdown, datapath };
  } finally {
    prober.kill();
  }
}

/** Returns the kinds in a different order each round, so a slow phase of the shared machine does not always hit the same kind. */
function kindsOfRound(round: number): MeasurementKind[] {
  const shift = (((round - 1) % kinds.length) + kinds.length) % kinds.length;
  return [...kinds.slice(shift), ...kinds.slice(0, shift)];
}

function startProber(context: RunContext): ProberProcess {
  context.prober = new ProberProcess({ netns: context.proberNetns, nodeBinary, targets: context.targets, firstPort: context.nextPort, settings: proberSettings });
  return context.prober;
}

function requireOpenConnections(context: RunContext): OpenConnectionDrops {
  if (context.openConnections === undefined) throw new Error("the OpenFlow connections of the open-connection reference are not open");
  return context.openConnections;
}

async function policyBreakdown(context: RunContext, t0: number): Promise<AgentApplied[]> {
  const { paths, state } = context.cluster;
  const agentLogs = new Map(state.nodes.map((node) => [node.name, paths.node(node.name).agentLog]));
  return agentBreakdown({ t0, agentLogs, controllerLog: paths.controllerLog, policies: 1 });
}

/** Undoes a measurement's change: deletes the policy, or the reference flows of either kind (checked with dump-flows). */
async function undo(context: RunContext, kind: MeasurementKind): Promise<void> {
  if (kind === "policy") {
    await context.kubeConfig.makeApiClient(NetworkingV1Api).deleteNamespacedNetworkPolicy({ namespace: backendNamespace, name: policyName });
    return;
  }
  await removeReferenceDrops(context.referenceNodes);
  for (const node of context.referenceNodes) {
    const left = await countReferenceDrops(node);
    if (left !== 0) throw new Error(`${left} reference drop flows are left on ${node.name} after del-flows: remove them with ovs-ofctl del-flows by cookie`);
  }
}

function describe(measurement: Measurement, warmup: number): string {
  const perNode = measurement.targets.map((target) => (target.valid ? `${target.name} ${target.latencyMs.toFixed(1)} ms` : `${target.name} INVALID (${target.problem})`)).join(", ");
  const max = measurement.maxMs === undefined ? "invalid" : `${measurement.maxMs.toFixed(1)} ms`;
  const round = measurement.round >= 1 ? `round ${measurement.round}` : `warm-up round ${measurement.round + warmup}`;
  const datapath = measurement.datapath.map((stats) => `${stats.node} ${stats.flows ?? "?"} (dump ${stats.dumpDurationMs ?? "?"} ms)`).join(", ");
  return `${measurement.kind} ${round}: max ${max}; ${perNode}; request ${measurement.requestMs.toFixed(1)} ms; prober stopped: ${measurement.proberStop}; datapath flows before t0: ${datapath}`;
}

/** Resolves the targets' IPs, the prober's namespace and each node's management socket. */
function runContext(cluster: RunningCluster, kubeConfig: KubeConfig, layout: Layout, pods: Map<string, V1Pod>): RunContext {
  const targets: ProbeTarget[] = [];
  const referenceNodes: ReferenceNode[] = [];
  for (const [node, podName] of layout.targets) {
    const ip = pods.get(`${backendNamespace}/${podName}`)?.status?.podIP ?? "";
    targets.push({ name: node, ip, port: targetPort });
    referenceNodes.push({ name: node, mgmtSocket: cluster.lab.node(node).mgmtSocket("br-int"), targetIp: ip, targetPort });
  }
  const prober = pods.get(`${proberNamespace}/${proberPodName}`);
  if (prober === undefined) throw new Error(`the prober pod ${proberNamespace}/${proberPodName} is not running`);
  const vswitchdCtls = cluster.lab.nodes.map((node) => ({ name: node.name, vswitchdCtl: node.vswitchdCtl }));
  return { cluster, kubeConfig, proberNetns: podNetns(cluster.state, prober), targets, referenceNodes, vswitchdCtls, openConnections: undefined, nextPort: firstProbePort, prober: undefined };
}

function printSummary(options: { bench: BenchOptions; layout: Layout; setup: Record<string, number>; measurements: Measurement[]; loadAtStart: number[] }): void {
  const measurements = options.measurements.filter((m) => m.round >= 1);
  const figures = (kind: MeasurementKind): number[] => measurements.filter((m) => m.kind === kind && m.maxMs !== undefined).map((m) => m.maxMs as number);
  const invalid = (kind: MeasurementKind): number => measurements.filter((m) => m.kind === kind && m.maxMs === undefined).length;

  console.log(`\nNetworkPolicy realization latency, ${options.bench.nodes} nodes, ${options.bench.pods} pods (${options.layout.counts.backends} selected, ${options.layout.counts.clients} allowed clients)`);
  console.log(`machine: ${cpus().length} cores, Linux ${release()}, load average at the start ${options.loadAtStart.map((v) => v.toFixed(2)).join(" ")}, at the end ${loadavg().map((v) => v.toFixed(2)).join(" ")}`);
  console.log(`warm-up rounds left out: ${options.bench.warmup}`);
  console.log(`setup: ${Object.entries(options.setup).map(([what, ms]) => `${what} ${(ms / 1000).toFixed(1)} s`).join(", ")}`);
  console.log("\nmax over nodes in ms (per node)");
  console.log(`| round | ${kinds.join(" | ")} | load avg | longest revalidator dump before t0 |`);
  console.log(`|---|${kinds.map(() => "---|").join("")}---|---|`);
  for (let round = 1; round <= options.bench.rounds; round += 1) {
    const cells = kinds.map((kind) => {
      const m = measurements.find((entry) => entry.kind === kind && entry.round === round);
      if (m === undefined) return "-";
      const perNode = m.targets.map((t) => (t.valid ? `${t.name} ${t.latencyMs.toFixed(1)}` : `${t.name} invalid`)).join(", ");
      return `${m.maxMs === undefined ? "invalid" : m.maxMs.toFixed(1)} (${perNode})`;
    });
    const ofRound = measurements.filter((entry) => entry.round === round);
    const load = ofRound[0]?.loadAverage ?? 0;
    const dumps = ofRound.flatMap((entry) => entry.datapath.flatMap((stats) => (stats.dumpDurationMs === undefined ? [] : [stats.dumpDurationMs])));
    console.log(`| ${round} | ${cells.join(" | ")} | ${load.toFixed(2)} | ${dumps.length === 0 ? "?" : `${Math.max(...dumps)} ms`} |`);
  }
  console.log("");
  for (const kind of kinds) console.log(`${kind} median ${median(figures(kind)).toFixed(1)} ms (${figures(kind).length} valid, ${invalid(kind)} invalid)`);
  const policy = median(figures("policy"));
  console.log(`ratio policy / ovs-ofctl: ${(policy / median(figures("ovs-ofctl"))).toFixed(2)}`);
  console.log(`ratio policy / open-connection: ${(policy / median(figures("open-connection"))).toFixed(2)}`);

  printBreakdown(measurements);
}

/** Splits each node's policy figure at the agent's bundle: before it, the bundle, and commit to first drop. */
function printBreakdown(measurements: readonly Measurement[]): void {
  const rows = measurements.flatMap((m) =>
    m.breakdown.flatMap((applied) => {
      const target = m.targets.find((entry) => entry.name === applied.node);
      return target?.valid === true ? [{ applied, latencyMs: target.latencyMs }] : [];
    }),
  );
  if (rows.length === 0) return;
  const med = (values: number[]): string => median(values).toFixed(1);
  console.log(`\npolicy breakdown from the logs, medians over ${rows.length} node figures:`);
  console.log(`  t0 to the agent's bundle start (API server, controller, distribution, translation): ${med(rows.map((r) => r.applied.appliedMs - r.applied.bundleMs))} ms`);
  console.log(`  bundle of ${median(rows.map((r) => r.applied.added))} flows, sent to committed: ${med(rows.map((r) => r.applied.bundleMs))} ms`);
  console.log(`  commit logged to first dropped datagram: ${med(rows.map((r) => r.latencyMs - r.applied.appliedMs))} ms`);
  const reported = rows.flatMap((r) => (r.applied.reportedMs === undefined ? [] : [r.applied.reportedMs]));
  if (reported.length > 0) console.log(`  controller logged the agent's realization report: ${med(reported)} ms after t0`);
}

/** Everything the cleanup must undo, filled in as the run goes. */
interface Cleanup {
  /** True while upCluster runs: a SIGINT then waits for it, so no daemon starts after the teardown. */
  starting: boolean;
  interrupted: boolean;
  cluster: { running: RunningCluster; kubeConfig: KubeConfig } | undefined;
  context: RunContext | undefined;
  layout: Layout | undefined;
  done: Promise<void> | undefined;
}

async function cleanUp(cleanup: Cleanup, name: string, stateDir: string): Promise<void> {
  const { context, cluster } = cleanup;
  context?.prober?.kill();
  await context?.openConnections?.close().catch(() => undefined);
  if (context !== undefined) {
    await removeReferenceDrops(context.referenceNodes).catch((error: unknown) => progress(`could not remove the reference flows: ${String(error)}`));
  }
  let workloads: { pid: number; uid: string }[] = [];
  if (cluster !== undefined) {
    const { paths, state } = cluster.running;
    const nodes = state.nodes.map((node) => node.name);
    workloads = await recordedWorkloads({ paths, nodes });
    if (cleanup.layout !== undefined) {
      progress("deleting the pods through the API, so the runners tear them down concurrently");
      const left = await deleteLayoutPods({ kubeConfig: cluster.kubeConfig, layout: cleanup.layout, paths, nodes, timeoutMs: 90_000 }).catch(() => -1);
      progress(left === 0 ? "every pod is torn down" : `the runners still hold ${left} pods; downCluster removes the rest`);
    }
  }
  progress(`stopping cluster ${name}`);
  await downCluster({ name, stateDir, log: (line) => progress(`down: ${line}`) }).catch((error: unknown) => progress(`downCluster failed: ${String(error)}`));
  const killed = killLeftoverWorkloads(workloads);
  if (killed.length > 0) progress(`killed ${killed.length} leftover workload processes: ${killed.join(" ")}`);
  rmSync(stateDir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const bench = readOptions();
  const name = `syrlat${process.pid % 1000}`;
  const stateDir = mkdtempSync("/tmp/syrlat-");
  const cleanup: Cleanup = { starting: false, interrupted: false, cluster: undefined, context: undefined, layout: undefined, done: undefined };
  const runCleanup = (): Promise<void> => (cleanup.done ??= cleanUp(cleanup, name, stateDir));
  process.on("SIGINT", () => {
    cleanup.interrupted = true;
    if (cleanup.starting) {
      progress("SIGINT: cleaning up once the cluster start returns");
      return;
    }
    progress("SIGINT: cleaning up");
    void runCleanup().finally(() => process.exit(130));
  });

  const loadAtStart = loadavg();
  const setup: Record<string, number> = {};
  const measurements: Measurement[] = [];
  try {
    let mark = now();
    progress(`starting cluster ${name} (${bench.nodes} nodes, geneve) in ${stateDir}`);
    cleanup.starting = true;
    const cluster = await upCluster({ name, nodes: bench.nodes, mode: "geneve", stateDir, log: (line) => progress(`up: ${line}`) }).finally(() => (cleanup.starting = false));
    setup["cluster up"] = now() - mark;
    const kubeConfig = loadClusterKubeConfig(cluster.state);
    cleanup.cluster = { running: cluster, kubeConfig };
    if (cleanup.interrupted) {
      await runCleanup();
      process.exit(130);
    }
    const layout = buildLayout({ nodes: cluster.state.nodes.map((node) => node.name), pods: bench.pods });
    cleanup.layout = layout;

    mark = now();
    progress(`creating ${layout.pods.length} pods in ${layout.namespaces.length} namespaces`);
    await createLayout(kubeConfig, layout);
    setup["pod create calls"] = now() - mark;
    const pods = await waitForLayoutRunning({ kubeConfig, layout, timeoutMs: 240_000, progress: (running) => progress(`${running} of ${layout.pods.length} pods running`) });
    setup["pods created to all running"] = now() - mark;
    progress(`all ${pods.size} pods run after ${(setup["pods created to all running"] / 1000).toFixed(1)} s`);

    const context = runContext(cluster, kubeConfig, layout, pods);
    cleanup.context = context;
    context.openConnections = await OpenConnectionDrops.open(context.referenceNodes);
    progress(`prober in ${context.proberNetns}; targets ${context.targets.map((t) => `${t.name}=${t.ip}`).join(", ")}`);

    for (let round = 1 - bench.warmup; round <= bench.rounds; round += 1) {
      for (const kind of kindsOfRound(round)) {
        const measurement = await measure(context, kind, round);
        measurements.push(measurement);
        progress(describe(measurement, bench.warmup));
        await undo(context, kind);
      }
    }
    // The last undo is checked like the others: every target must echo again.
    const check = startProber(context);
    await check.waitSteady(steadyTimeoutMs);
    await check.stop();
    progress("every target echoes again after the last undo");

    printSummary({ bench, layout, setup, measurements, loadAtStart });
    if (bench.out !== undefined) writeFileSync(bench.out, `${JSON.stringify({ bench, setup, loadAtStart, counts: layout.counts, measurements }, null, 2)}\n`);
  } finally {
    await runCleanup();
  }
}

await main();
