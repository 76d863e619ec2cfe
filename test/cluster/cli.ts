// Command-line entry of bin/switchyard-podrunner: `run` (one node's pod runner), `schedule`
// (the round-robin scheduler), `probe` and `matrix`. Logs go to stderr. Stdout carries only
// what probe and matrix report.
import { Command, InvalidArgumentError, Option } from "commander";
import { KubeConfig } from "@kubernetes/client-node";
import winston from "winston";
import type { Logger } from "winston";

import { ClusterError, ClusterErrorCode, errorMessage } from "./errors.ts";
import { probeMatrix, renderMatrix } from "./matrix.ts";
import { defaultProbeTimeoutMs, probe } from "./probe.ts";
import type { PortSpec, ProbeContext } from "./probe.ts";
import { PodRunner } from "./runner.ts";
import { RoundRobinScheduler } from "./scheduler.ts";

/** Exit codes: 0 success (or reachable for probe), 1 blocked (probe only), 2 error. */
export const ExitCode = { Ok: 0, Blocked: 1, Failed: 2 } as const;

/** Default CNI_PATH folder: where Debian installs the reference plugins. */
export const defaultCniBinDir = "/usr/lib/cni";

/** Ports of the Kubernetes network policy conformance matrix. */
const defaultMatrixPorts = "80/tcp,81/tcp,80/udp";

/** Parses "80", "80/tcp", "80/udp" or "80/sctp" items separated by commas. */
export function parsePortSpecs(text: string): PortSpec[] {
  return text.split(",").map((item) => {
    const match = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/.exec(item.trim().toLowerCase());
    const port = Number(match?.[1]);
    if (match === null || port < 1 || port > 65535) {
      throw new InvalidArgumentError(`invalid port ${JSON.stringify(item)}: write PORT, PORT/tcp, PORT/udp or PORT/sctp, for example 80/tcp,81/tcp,80/udp`);
    }
    return { port, protocol: match[2] === "udp" || match[2] === "sctp" ? match[2] : "tcp" };
  });
}

/**
 * Raises INVALID_OPTION for SCTP ports: without access to the nodes' conntrack, an SCTP probe
 * from B to A after one from A to B can pass as a reply (docs/cluster.md, "SCTP").
 */
function rejectSctp(ports: readonly PortSpec[]): void {
  if (ports.some((port) => port.protocol === "sctp")) {
    throw new ClusterError(ClusterErrorCode.InvalidOption, "SCTP ports need the nodes' conntrack flushed between probe passes: use bin/switchyard-cluster matrix, which does it");
  }
}

function parsePositiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) === 0) throw new InvalidArgumentError(`${value} is not a positive whole number.`);
  return Number(value);
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function loadKubeConfig(path: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (path === undefined) kubeConfig.loadFromDefault();
  else kubeConfig.loadFromFile(path);
  return kubeConfig;
}

function makeLogger(level: string): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ["error", "warn", "info", "debug"] })],
  });
}

/** Resolves when SIGINT or SIGTERM arrives. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve(signal));
  });
}

interface ProbeCliOptions {
  kubeconfig?: string;
  netnsPrefix: string;
  timeoutMs: number;
}

function probeContext(options: ProbeCliOptions): ProbeContext {
  return { kubeConfig: loadKubeConfig(options.kubeconfig), netnsPrefix: options.netnsPrefix, timeoutMs: options.timeoutMs };
}

function addProbeOptions(command: Command): Command {
  return command
    .option("--kubeconfig <path>", "kubeconfig of the API server (default: $KUBECONFIG, else ~/.kube/config)")
    .requiredOption("--netns-prefix <prefix>", "the pod runners' --netns-prefix, used to find each pod's network namespace")
    .option("--timeout-ms <ms>", "time limit of one connection attempt, in milliseconds", parsePositiveInteger, defaultProbeTimeoutMs);
}

/** Builds the command-line program. Exported for tests that parse arguments. */
export function buildProgram(): Command {
  const program = new Command("switchyard-podrunner")
    .description("The lab cluster's kubelet stand-in: runs pods bound to a node, schedules pods, probes reachability between pods.")
    .showHelpAfterError();

  program
    .command("run")
    .description("run one node's pod runner until SIGINT or SIGTERM; pods keep running after it stops")
    .option("--kubeconfig <path>", "kubeconfig of the API server (default: $KUBECONFIG, else ~/.kube/config)")
    .requiredOption("--node <name>", "Node name whose pods to run (spec.nodeName)")
    .option("--node-netns <netns>", "network namespace of the node, where CNI plugins run (default: the runner's own)")
    .requiredOption("--host-ip <ip>", "the node's address, written as the pods' status.hostIP and the Node's InternalIP")
    .requiredOption("--cni-conf-dir <dir>", "folder whose first .conflist configures pod networking")
    .option("--cni-bin-dir <dir>", `CNI_PATH folder, repeatable (default: ${defaultCniBinDir})`, collect)
    .requiredOption("--state-dir <dir>", "per-node folder for the state file, the CNI result cache and workload logs")
    .requiredOption("--netns-prefix <prefix>", "prefix of pod network namespace names")
    .option("--no-register-node", "do not create the Node object or mark it Ready")
    .option("--log-level <level>", "error, warn, info or debug", "info")
    .action(async (options: { kubeconfig?: string; node: string; nodeNetns?: string; hostIp: string; cniConfDir: string; cniBinDir?: string[]; stateDir: string; netnsPrefix: string; registerNode: boolean; logLevel: string }) => {
      const logger = makeLogger(options.logLevel);
      const runner = new PodRunner({
        kubeConfig: loadKubeConfig(options.kubeconfig),
        nodeName: options.node,
        nodeNetns: options.nodeNetns,
        hostIp: options.hostIp,
        cniConfDir: options.cniConfDir,
        cniBinDirs: options.cniBinDir ?? [defaultCniBinDir],
        stateDir: options.stateDir,
        netnsPrefix: options.netnsPrefix,
        registerNode: options.registerNode,
        logger,
      });
      await runner.start();
      const signal = await untilSignal();
      logger.info("stopping", { signal });
      await runner.stop();
    });

  program
    .command("schedule")
    .description("bind unscheduled pods round-robin to the given nodes until SIGINT or SIGTERM")
    .option("--kubeconfig <path>", "kubeconfig of the API server (default: $KUBECONFIG, else ~/.kube/config)")
    .requiredOption("--nodes <names>", "Node names in binding order, separated by commas")
    .option("--log-level <level>", "error, warn, info or debug", "info")
    .action(async (options: { kubeconfig?: string; nodes: string; logLevel: string }) => {
      const logger = makeLogger(options.logLevel);
      const nodes = options.nodes.split(",").map((node) => node.trim()).filter((node) => node !== "");
      const scheduler = new RoundRobinScheduler({ kubeConfig: loadKubeConfig(options.kubeconfig), nodes, logger });
      await scheduler.start();
      const signal = await untilSignal();
      logger.info("stopping", { signal });
      await scheduler.stop();
    });

  addProbeOptions(program.command("probe").description("probe PORT of pod TO from inside pod FROM; exit code 0 reachable, 1 blocked"))
    .argument("<from>", "source pod: NAMESPACE/NAME or NAME (namespace default)")
    .argument("<to>", "target pod: NAMESPACE/NAME or NAME")
    .argument("<port>", "target port", parsePositiveInteger)
    .option("--protocol <protocol>", "tcp (connect) or udp (echo round trip)", "tcp")
    .action(async (from: string, to: string, port: number, options: ProbeCliOptions & { protocol: string }) => {
      if (options.protocol !== "tcp" && options.protocol !== "udp") {
        const hint = options.protocol === "sctp" ? "; for SCTP use bin/switchyard-cluster probe, which flushes the nodes' SCTP conntrack first" : "";
        throw new ClusterError(ClusterErrorCode.InvalidOption, `invalid protocol ${JSON.stringify(options.protocol)}: use tcp or udp${hint}`);
      }
      const result = await probe({ ...probeContext(options), from, to, port, protocol: options.protocol });
      const verdict = result.reachable ? "reachable" : `blocked (${result.reason ?? "unknown"})`;
      process.stdout.write(`${result.from} -> ${result.to} ${result.toIp}:${result.port}/${result.protocol}: ${verdict}\n`);
      process.exitCode = result.reachable ? ExitCode.Ok : ExitCode.Blocked;
    });

  addProbeOptions(program.command("matrix").description("probe every pod from every pod and print truth tables ('.' reachable, 'X' blocked)"))
    .option("--namespaces <names>", "namespaces whose pods to include, separated by commas (default: all)")
    .addOption(
      new Option("--ports <ports>", "ports to probe: PORT[/tcp|/udp] separated by commas").argParser(parsePortSpecs).default(parsePortSpecs(defaultMatrixPorts), defaultMatrixPorts),
    )
    .option("--json", "print the matrix as JSON")
    .action(async (options: ProbeCliOptions & { namespaces?: string; ports: PortSpec[]; json?: boolean }) => {
      rejectSctp(options.ports);
      const namespaces = options.namespaces?.split(",").map((name) => name.trim()).filter((name) => name !== "");
      const matrix = await probeMatrix({ ...probeContext(options), namespaces, ports: options.ports });
      process.stdout.write(options.json === true ? `${JSON.stringify(matrix, null, 2)}\n` : `${renderMatrix(matrix)}\n`);
    });

  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    process.stderr.write(`switchyard-podrunner: ${errorMessage(error)}\n`);
    process.exitCode = ExitCode.Failed;
  }
}

if (import.meta.main) await main();
