// Command-line entry of bin/switchyard-cluster: up, down, status, apply, delete, probe,
// matrix and flows on a local cluster (docs/local-cluster.md). Progress goes to stderr;
// stdout carries only results, and --json makes them machine-readable.
import { spawnSync } from "node:child_process";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";

import { parsePortSpecs } from "../cluster/cli.ts";
import { probe, renderMatrix } from "../cluster/index.ts";
import { flushSctpConntrack, probeClusterMatrix } from "./matrix.ts";
import type { PortSpec } from "../cluster/index.ts";
import { maxNodes, resolveStateRoot } from "../lab/index.ts";
import { defaultClusterName, downCluster, loadClusterKubeConfig, requireCluster, upCluster } from "./cluster.ts";
import { clusterModes, parseMode } from "./config.ts";
import { ClusterUpError, ClusterUpErrorCode, errorText } from "./errors.ts";
import { clusterStatus, renderStatus } from "./status.ts";

/** Exit codes: 0 success (reachable, healthy), 1 failure (blocked, unhealthy), 2 error, 3 absent (status). */
export const ExitCode = { Ok: 0, Failed: 1, Error: 2, Absent: 3 } as const;

interface CommonOptions {
  name: string;
  stateDir?: string;
  json?: boolean;
}

function parseNodeCount(value: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1 || count > maxNodes) throw new InvalidArgumentError(`${value} is not a node count from 1 to ${maxNodes}.`);
  return count;
}

function parseModeOption(value: string): string {
  try {
    return parseMode(value);
  } catch (error) {
    throw new InvalidArgumentError(errorText(error));
  }
}

function withCommon(command: Command): Command {
  return command
    .option("--name <name>", "cluster (and lab) name", defaultClusterName)
    .option("--state-dir <dir>", "folder holding lab folders (default: $SWITCHYARD_LAB_DIR, else /var/run/switchyard-lab)")
    .option("--json", "print the result as JSON");
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

function print(options: { json?: boolean }, value: unknown, text: string): void {
  process.stdout.write(options.json === true ? `${JSON.stringify(value, null, 2)}\n` : text);
}

/** Runs kubectl with the cluster's kubeconfig, passing its output through; returns its exit code. */
function kubectl(kubeconfig: string, args: readonly string[]): number {
  const result = spawnSync("kubectl", ["--kubeconfig", kubeconfig, ...args], { stdio: "inherit" });
  if (result.error !== undefined) throw new ClusterUpError(ClusterUpErrorCode.CommandFailed, `kubectl could not run: ${result.error.message}; install kubectl 1.32`, { cause: result.error });
  return result.status ?? ExitCode.Error;
}

/** Returns the options that name this cluster in follow-up commands: --name, and --state-dir unless it is the default folder. */
function clusterFlags(options: CommonOptions): string {
  const root = resolveStateRoot(options.stateDir);
  return root === resolveStateRoot(undefined) ? `--name ${options.name}` : `--name ${options.name} --state-dir ${root}`;
}

function addUp(program: Command): void {
  withCommon(program.command("up").description("start a local cluster: lab, API server, controller, and per node an agent, the CNI plugin and a pod runner"))
    .option("--nodes <n>", `number of nodes, 1 to ${maxNodes}`, parseNodeCount, 2)
    .addOption(new Option("--mode <mode>", `forwarding between nodes: ${clusterModes.join(", ")}`).argParser(parseModeOption).default("geneve"))
    .option("--keep-on-failure", "leave what was started when a step fails, to read its logs")
    .action(async (options: CommonOptions & { nodes: number; mode: string; keepOnFailure?: boolean }) => {
      const cluster = await upCluster({ name: options.name, stateDir: options.stateDir, nodes: options.nodes, mode: parseMode(options.mode), keepOnFailure: options.keepOnFailure, log: progress });
      const where = clusterFlags(options);
      const text = [
        `cluster ${cluster.state.name} is up: ${cluster.state.nodes.length} nodes, mode ${cluster.state.mode}`,
        `  export KUBECONFIG=${cluster.state.kubeconfig}`,
        "  kubectl get nodes -o wide",
        `  bin/switchyard-cluster apply -f FILE ${where}`,
        `  bin/switchyard-cluster down ${where}`,
        "",
      ].join("\n");
      print(options, cluster.state, text);
    });
}

function addDown(program: Command): void {
  withCommon(program.command("down").description("stop every process of the cluster by PID, remove its pods and its lab; harmless when absent")).action(async (options: CommonOptions) => {
    const result = await downCluster({ name: options.name, stateDir: options.stateDir, log: progress });
    const absent = `no cluster named ${options.name} under ${resolveStateRoot(options.stateDir)}: nothing is left to remove (a cluster started with --state-dir or SWITCHYARD_LAB_DIR needs the same folder here)\n`;
    print(options, result, result.existed ? `cluster ${options.name} removed\n` : absent);
  });
}

function addStatus(program: Command): void {
  withCommon(program.command("status").description("report processes, nodes and pods; exit code 0 healthy, 1 unhealthy, 3 absent")).action(async (options: CommonOptions) => {
    const status = await clusterStatus({ name: options.name, stateDir: options.stateDir });
    print(options, status, renderStatus(status));
    if (!status.present) process.exitCode = ExitCode.Absent;
    else process.exitCode = status.healthy ? ExitCode.Ok : ExitCode.Failed;
  });
}

function addKubectlWrappers(program: Command): void {
  for (const verb of ["apply", "delete"] as const) {
    withCommon(program.command(verb).description(`kubectl ${verb} -f FILE with the cluster's kubeconfig`))
      .requiredOption("-f, --filename <file>", "manifest file, folder or URL, as for kubectl")
      .action(async (options: CommonOptions & { filename: string }) => {
        const { state } = await requireCluster(options);
        process.exitCode = kubectl(state.kubeconfig, [verb, "-f", options.filename, ...(options.json === true ? ["-o", "json"] : [])]);
      });
  }
}

function addProbe(program: Command): void {
  withCommon(program.command("probe").description("probe PORT of pod TO from inside pod FROM; exit code 0 reachable, 1 blocked"))
    .argument("<from>", "source pod: NAMESPACE/NAME or NAME (namespace default)")
    .argument("<to>", "target pod: NAMESPACE/NAME or NAME")
    .argument("<port>", "target port, 1 to 65535", (value: string) => parsePortSpecs(value)[0]?.port ?? 0)
    .addOption(new Option("--protocol <protocol>", "tcp (connect), udp (echo round trip) or sctp (INIT seen by the target)").choices(["tcp", "udp", "sctp"]).default("tcp"))
    .action(async (from: string, to: string, port: number, options: CommonOptions & { protocol: "tcp" | "udp" | "sctp" }) => {
      const cluster = await requireCluster(options);
      const { state } = cluster;
      // An earlier SCTP packet between the two pods could make this one pass as a reply.
      if (options.protocol === "sctp") await flushSctpConntrack(cluster);
      const result = await probe({ kubeConfig: loadClusterKubeConfig(state), netnsPrefix: state.netnsPrefix, from, to, port, protocol: options.protocol });
      const verdict = result.reachable ? "reachable" : `blocked (${result.reason ?? "unknown"})`;
      print(options, result, `${result.from} -> ${result.to} ${result.toIp}:${result.port}/${result.protocol}: ${verdict}\n`);
      process.exitCode = result.reachable ? ExitCode.Ok : ExitCode.Failed;
    });
}

function addMatrix(program: Command): void {
  withCommon(program.command("matrix").description("probe every pod from every pod; '.' reachable, 'X' blocked"))
    .option("--namespaces <names>", "namespaces whose pods to include, separated by commas (default: all)")
    .addOption(new Option("--ports <ports>", "PORT[/tcp|/udp|/sctp] separated by commas").argParser(parsePortSpecs).default(parsePortSpecs("80/tcp,81/tcp,80/udp"), "80/tcp,81/tcp,80/udp"))
    .action(async (options: CommonOptions & { namespaces?: string; ports: PortSpec[] }) => {
      const cluster = await requireCluster(options);
      const namespaces = options.namespaces?.split(",").map((name) => name.trim()).filter((name) => name !== "");
      const matrix = await probeClusterMatrix(cluster, { namespaces, ports: options.ports });
      print(options, matrix, `${renderMatrix(matrix)}\n`);
    });
}

/** Returns the ovs-ofctl argv that dumps br-int's flows of a node, with table and port names. */
export function dumpFlowsArgv(options: { mgmtSocket: string; table?: string }): string[] {
  return ["ovs-ofctl", "-O", "OpenFlow15", "--names", "dump-flows", `unix:${options.mgmtSocket}`, ...(options.table === undefined ? [] : [`table=${options.table}`])];
}

function addFlows(program: Command): void {
  withCommon(program.command("flows").description("ovs-ofctl dump-flows --names of a node's br-int"))
    .argument("<node>", "node name (node1) or index (1)")
    .option("--table <table>", "only this table (name or number)")
    .action(async (nodeName: string, options: CommonOptions & { table?: string }) => {
      const { lab } = await requireCluster(options);
      const node = lab.node(/^\d+$/.test(nodeName) ? Number(nodeName) : nodeName);
      const argv = dumpFlowsArgv({ mgmtSocket: node.mgmtSocket("br-int"), table: options.table });
      const output = await node.exec(argv);
      if (options.json === true) print(options, { node: node.name, flows: output.split("\n").filter((line) => line.trim() !== "" && !line.includes("NXST_FLOW") && !line.includes("OFPST_FLOW")).map((line) => line.trim()) }, "");
      else process.stdout.write(output);
    });
}

/** Builds the command-line program. Exported for tests that parse arguments. */
export function buildProgram(): Command {
  const program = new Command("switchyard-cluster")
    .description("A local Kubernetes cluster on one Linux machine: lab nodes with Open vSwitch, the Switchyard agent and CNI plugin, a local API server.")
    .showHelpAfterError()
    // Usage errors throw a CommanderError instead of exiting 1, so main() can exit with
    // ExitCode.Error: exit 1 means "blocked" or "unhealthy" to scripts.
    .exitOverride();
  addUp(program);
  addDown(program);
  addStatus(program);
  addKubectlWrappers(program);
  addProbe(program);
  addMatrix(program);
  addFlows(program);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed the usage error, or the help for --help.
      process.exitCode = error.exitCode === 0 ? ExitCode.Ok : ExitCode.Error;
      return;
    }
    process.stderr.write(`switchyard-cluster: ${errorText(error)}\n`);
    process.exitCode = ExitCode.Error;
  }
}

if (import.meta.main) await main();
