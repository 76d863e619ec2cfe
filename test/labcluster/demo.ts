// The Star Wars NetworkPolicy demo on a two-node local cluster (docs/demo.md). Deathstar
// pods serve a landing API to an empire tiefighter and an alliance xwing. Both ships land
// until a policy admits only the empire. Then the xwing's request times out, and the flows
// and counters on the deathstar's node show where its packets were dropped.
//
//   node NODE test/labcluster/demo.ts [--keep] [--replace] [--name NAME] [--mode geneve|vxlan|gre|noencap|hybrid]
import { execFile } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Command, Option } from "commander";
import type { V1Pod } from "@kubernetes/client-node";

import { probeMatrix, renderMatrix } from "../cluster/index.ts";
import type { ReachabilityMatrix } from "../cluster/index.ts";
import { downCluster, loadClusterKubeConfig, upCluster } from "./cluster.ts";
import type { RunningCluster } from "./cluster.ts";
import { dumpFlowsArgv } from "./cli.ts";
import { clusterModes, parseMode } from "./config.ts";
import type { ClusterMode } from "./config.ts";
import { ClusterUpError, ClusterUpErrorCode, errorText } from "./errors.ts";
import { grownFlows, isDropFlow, parseFlowCounters } from "./flows.ts";
import type { FlowCounter, GrownFlow } from "./flows.ts";
import { httpFromPod, waitForPodsRunning } from "./pods.ts";
import { validateLabName } from "../lab/index.ts";
import type { HttpOutcome } from "./pods.ts";

const execFileAsync = promisify(execFile);

/** The demo's manifests, next to this file. */
export const demoManifests = {
  pods: join(import.meta.dirname, "manifests", "starwars.yaml"),
  policy: join(import.meta.dirname, "manifests", "deathstar-policy.yaml"),
} as const;

export const demoPods = ["deathstar-1", "deathstar-2", "tiefighter", "xwing"] as const;
export const ships = ["tiefighter", "xwing"] as const;
export type Ship = (typeof ships)[number];

/** Seconds a ship waits for the deathstar's response before it counts as timed out. */
const landingTimeoutSeconds = 3;
/** Wait after the tiefighter lands, so its connection has closed before the xwing's attempt is counted. */
const tiefighterCloseMs = 500;

export interface DemoOptions {
  name?: string;
  stateDir?: string;
  mode?: ClusterMode;
  /** Leave the cluster running after the demo (and after a failure). */
  keep?: boolean;
  /** Demo output for the audience; default stdout. */
  out?: (text: string) => void;
  /** Progress lines of `up`; default stderr. */
  log?: (line: string) => void;
}

/** What each step observed, for tests and --json. */
export interface DemoReport {
  clusterName: string;
  podsWide: string;
  landingsBefore: Record<Ship, HttpOutcome>;
  landingsAfter: Record<Ship, HttpOutcome>;
  /** Flows on the deathstar's node whose counters grew during the xwing's blocked attempt. */
  xwingFlows: GrownFlow[];
  matrix: ReachabilityMatrix;
}

interface DemoContext {
  cluster: RunningCluster;
  out: (text: string) => void;
  pods: Map<string, V1Pod>;
  step: number;
}

function announce(context: DemoContext, title: string): void {
  context.step += 1;
  context.out(`\n==> Step ${context.step}: ${title}\n`);
}

function pod(context: DemoContext, name: string): V1Pod {
  const found = context.pods.get(name);
  if (found === undefined) throw new ClusterUpError(ClusterUpErrorCode.InvalidOption, `demo pod ${name} is not known; the manifest ${demoManifests.pods} defines ${demoPods.join(", ")}`);
  return found;
}

async function kubectl(context: DemoContext, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync("kubectl", ["--kubeconfig", context.cluster.state.kubeconfig, ...args]);
    return stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    throw new ClusterUpError(ClusterUpErrorCode.CommandFailed, "kubectl not found: the demo applies its manifests with it; install kubectl (1.32 tested) and run the demo again", { cause: error });
  }
}

async function land(context: DemoContext, ship: Ship, timeoutSeconds = landingTimeoutSeconds): Promise<HttpOutcome> {
  const target = pod(context, "deathstar-1");
  const url = `http://${target.status?.podIP ?? ""}/v1/request-landing`;
  const outcome = await httpFromPod({ state: context.cluster.state, from: pod(context, ship), method: "POST", url, timeoutSeconds });
  let verdict = `failed (curl exit code ${outcome.curlExitCode})`;
  if (outcome.answered) verdict = `${outcome.status} ${outcome.body}`;
  else if (outcome.curlExitCode === 28) verdict = `timed out after ${timeoutSeconds} s`;
  context.out(`  ${ship} (${pod(context, ship).spec?.nodeName ?? "?"}) -> POST ${url} (deathstar-1 on ${target.spec?.nodeName ?? "?"}): ${verdict}\n`);
  return outcome;
}

async function landBoth(context: DemoContext): Promise<Record<Ship, HttpOutcome>> {
  return { tiefighter: await land(context, "tiefighter"), xwing: await land(context, "xwing") };
}

async function deployStep(context: DemoContext): Promise<string> {
  announce(context, "deploy the deathstar, a tiefighter and an xwing");
  context.out(await kubectl(context, ["apply", "-f", demoManifests.pods]));
  context.pods = await waitForPodsRunning({ state: context.cluster.state, names: demoPods, timeoutMs: 90_000 });
  announce(context, "kubectl get pods -o wide --show-labels");
  const wide = await kubectl(context, ["get", "pods", "-o", "wide", "--show-labels"]);
  context.out(wide);
  return wide;
}

async function policyStep(context: DemoContext): Promise<void> {
  announce(context, "allow ingress to class=deathstar only from org=empire on TCP 80");
  context.out(await kubectl(context, ["apply", "-f", demoManifests.policy]));
  // Policy realization is asynchronous (controller, then agent): wait until the xwing is
  // turned away, for at most 30 s, before the measured attempt.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const target = pod(context, "deathstar-1");
    const probe = await httpFromPod({ state: context.cluster.state, from: pod(context, "xwing"), method: "POST", url: `http://${target.status?.podIP ?? ""}/v1/request-landing`, timeoutSeconds: 1 });
    if (!probe.answered) return;
  }
  context.out("  the xwing still lands 30 s after the policy was applied\n");
}

/** Returns whether a flow belongs to one of the pipeline's NetworkPolicy tables (by its table name). */
function isPolicyFlow(flow: { table: string }): boolean {
  return /policy/i.test(flow.table);
}

async function flowsStep(context: DemoContext): Promise<{ after: Record<Ship, HttpOutcome>; xwingFlows: GrownFlow[] }> {
  const deathstarNode = context.cluster.lab.node(pod(context, "deathstar-1").spec?.nodeName ?? "");
  const argv = dumpFlowsArgv({ mgmtSocket: deathstarNode.mgmtSocket("br-int") });
  announce(context, "the tiefighter still lands, the xwing times out");
  const tiefighter = await land(context, "tiefighter");
  // curl returns before the tiefighter's connection has finished closing. Its last packets
  // would otherwise count in the established bypass flows during the xwing's attempt.
  await sleep(tiefighterCloseMs);
  const before = parseFlowCounters(await deathstarNode.exec(argv));
  const xwing = await land(context, "xwing");
  const after = parseFlowCounters(await deathstarNode.exec(argv));
  const xwingFlows = grownFlows(before, after);

  announce(context, `the NetworkPolicy flows on ${deathstarNode.name} (ovs-ofctl --names dump-flows br-int)`);
  for (const flow of byTableThenPriority(after.filter(isPolicyFlow))) context.out(`  ${flow.line}\n`);
  announce(context, `counters on ${deathstarNode.name} that grew during the xwing's attempt, in policy tables or dropping`);
  const shown = xwingFlows.filter((flow) => isPolicyFlow(flow) || isDropFlow(flow.line));
  for (const flow of shown) context.out(`  +${flow.delta} packets${isDropFlow(flow.line) ? " DROPPED" : ""} in ${flow.table}: ${flow.line}\n`);
  if (shown.length === 0) context.out("  no policy or drop flow counted a packet during the xwing's attempt\n");
  return { after: { tiefighter, xwing }, xwingFlows };
}

/** Orders flows as the pipeline evaluates them: tables in order of first appearance, then priority from high to low. */
function byTableThenPriority(flows: readonly FlowCounter[]): FlowCounter[] {
  const tableOrder = [...new Set(flows.map((flow) => flow.table))];
  const priority = (flow: FlowCounter): number => Number(/\bpriority=(\d+)/.exec(flow.line)?.[1] ?? "32768");
  return [...flows].sort((a, b) => tableOrder.indexOf(a.table) - tableOrder.indexOf(b.table) || priority(b) - priority(a));
}

async function matrixStep(context: DemoContext): Promise<ReachabilityMatrix> {
  announce(context, "connectivity matrix, TCP 80 ('.' reachable, 'X' not reachable: dropped, or nothing listens)");
  const matrix = await probeMatrix({ kubeConfig: loadClusterKubeConfig(context.cluster.state), netnsPrefix: context.cluster.state.netnsPrefix, ports: [{ port: 80, protocol: "tcp" }] });
  context.out(`${renderMatrix(matrix)}\n`);
  return matrix;
}

/**
 * Runs the demo on a new two-node cluster and returns what each step observed. The cluster
 * is removed at the end, also after a failure, unless `keep`; with `keep` the caller runs
 * `switchyard-cluster down`.
 */
export async function runDemo(options: DemoOptions = {}): Promise<{ report: DemoReport; cluster: RunningCluster }> {
  const out = options.out ?? ((text: string) => process.stdout.write(text));
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const name = options.name ?? "demo";
  validateLabName(name);
  out(`==> Bringing up a two-node cluster "${name}" (${options.mode ?? "geneve"})\n`);
  const cluster = await upCluster({ name, stateDir: options.stateDir, nodes: 2, mode: options.mode ?? "geneve", log, keepOnFailure: options.keep });
  const context: DemoContext = { cluster, out, pods: new Map(), step: 0 };
  try {
    const podsWide = await deployStep(context);
    announce(context, "both ships request landing, across nodes");
    const landingsBefore = await landBoth(context);
    await policyStep(context);
    const { after, xwingFlows } = await flowsStep(context);
    const matrix = await matrixStep(context);
    return { report: { clusterName: name, podsWide, landingsBefore, landingsAfter: after, xwingFlows, matrix }, cluster };
  } catch (error) {
    out(`\ndemo failed at step ${context.step}: ${errorText(error)}\n`);
    throw error;
  } finally {
    if (options.keep !== true) {
      out(`\n==> Tearing down cluster ${name}\n`);
      await downCluster({ name, stateDir: options.stateDir, log });
    }
  }
}

/**
 * Builds the demo's command line (`npm run demo -- OPTIONS` and this file). Its action sets
 * process.exitCode: 0 when every step ran, 1 when one failed.
 */
export function buildDemoProgram(options: { commandName: string; defaultName: string }): Command {
  return new Command(options.commandName)
    .description("The Star Wars NetworkPolicy demo on a two-node local cluster with real Open vSwitch (docs/demo.md)")
    .option("--name <name>", "cluster name", options.defaultName)
    .option("--state-dir <dir>", "folder holding lab folders")
    .addOption(new Option("--mode <mode>", "forwarding between nodes").choices([...clusterModes]).default("geneve"))
    .option("--keep", "leave the cluster running afterwards")
    .option("--replace", "remove an existing cluster of the same name first")
    .action(async (parsed: { name: string; stateDir?: string; mode: string; keep?: boolean; replace?: boolean }) => {
      try {
        if (parsed.replace === true) {
          const removed = await downCluster({ name: parsed.name, stateDir: parsed.stateDir });
          if (removed.existed) process.stdout.write(`==> Removed the existing cluster ${parsed.name} (--replace)\n`);
        }
        const { cluster } = await runDemo({ name: parsed.name, stateDir: parsed.stateDir, mode: parseMode(parsed.mode), keep: parsed.keep });
        if (parsed.keep === true) {
          process.stdout.write(
            `\ncluster ${parsed.name} kept:\n  export KUBECONFIG=${cluster.state.kubeconfig}\n` +
              `  bin/switchyard-cluster status --name ${parsed.name}\n  bin/switchyard-cluster down --name ${parsed.name}\n`,
          );
        }
      } catch (error) {
        const hint = error instanceof ClusterUpError && error.code === ClusterUpErrorCode.ClusterExists ? ", or rerun the demo with --replace" : "";
        process.stderr.write(`demo failed: ${errorText(error)}${hint}\n`);
        process.exitCode = 1;
      }
    });
}

if (import.meta.main) await buildDemoProgram({ commandName: "demo.ts", defaultName: "demo" }).parseAsync(process.argv);
