// Command-line entry of bin/switchyard-lab: up, down and status of a lab. Progress and
// errors go to stderr; stdout carries only what a command reports (status, JSON).
import { Command, InvalidArgumentError, Option } from "commander";

import { LabError } from "./errors.ts";
import { downLab, upLab } from "./lab.ts";
import { defaultLabName, maxNodes } from "./names.ts";
import { defaultStateRoot } from "./state.ts";
import { labStatus } from "./status.ts";
import type { LabStatus } from "./status.ts";

/** Exit codes: 0 success, 1 failure or unhealthy lab, 3 lab absent (status only), 130 interrupted up. */
export const ExitCode = { Ok: 0, Failed: 1, Absent: 3, Interrupted: 130 } as const;

interface CommonOptions {
  name: string;
  stateDir?: string;
}

function parseInteger(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${value} is not a whole number.`);
  return Number(value);
}

function addCommonOptions(command: Command): Command {
  return command
    .option("--name <name>", "lab name: lowercase letters, digits and hyphens", defaultLabName)
    .option("--state-dir <dir>", `folder holding lab folders (default: $SWITCHYARD_LAB_DIR, else ${defaultStateRoot})`);
}

function progress(line: string): void {
  process.stderr.write(`switchyard-lab: ${line}\n`);
}

/** Builds the command-line program; `main` runs it. Exported for tests that parse arguments. */
export function buildProgram(): Command {
  const program = new Command("switchyard-lab")
    .description("Simulated Kubernetes nodes for Switchyard tests: network namespaces, each with its own Open vSwitch, on a shared underlay.")
    .showHelpAfterError();

  addCommonOptions(program.command("up").description("create a lab and start its OVS daemons"))
    // commander's help does not mark required options, so the description says it.
    .requiredOption("--nodes <n>", `required: number of nodes (1 to ${maxNodes})`, parseInteger)
    .addOption(new Option("--subnets <n>", "underlay segments: 1 shared segment, or 2 joined by a router").choices(["1", "2"]).default("1"))
    .option("--underlay-cidr <cidr>", "underlay address block, split in two halves for --subnets 2 (default: derived from the name)")
    .option("--keep-on-failure", "keep what was created when up fails, to read the logs")
    .action(async (options: CommonOptions & { nodes: number; subnets: string; underlayCidr?: string; keepOnFailure?: boolean }) => {
      // An interrupted up leaves a state file in phase "creating"; down removes the rest.
      const stateOption = options.stateDir === undefined ? "" : ` --state-dir ${options.stateDir}`;
      for (const signal of ["SIGINT", "SIGTERM"] as const) {
        process.once(signal, () => {
          progress(`interrupted by ${signal}: run switchyard-lab down --name ${options.name}${stateOption} to remove what was created`);
          process.exit(ExitCode.Interrupted);
        });
      }
      const lab = await upLab({
        name: options.name,
        stateDir: options.stateDir,
        nodes: options.nodes,
        subnets: options.subnets === "2" ? 2 : 1,
        underlayCidr: options.underlayCidr,
        keepOnFailure: options.keepOnFailure === true,
        log: progress,
      });
      for (const node of lab.nodes) {
        process.stdout.write(`${node.name}\t${node.netns}\t${node.underlayIp}/${node.underlayPrefixLength}\t${node.ovsDir}\n`);
      }
      process.stdout.write(`outside\t${lab.outside.netns}\t${lab.outside.ip}\n`);
    });

  addCommonOptions(program.command("down").description("stop the lab's daemons and delete its namespaces and folder"))
    .action(async (options: CommonOptions) => {
      const result = await downLab({ name: options.name, stateDir: options.stateDir, log: progress });
      progress(result.existed ? `lab ${options.name} is down` : `lab ${options.name} does not exist; nothing is left to remove`);
    });

  addCommonOptions(program.command("status").description("show nodes, addresses and daemon PIDs; exit 1 if unhealthy, 3 if absent"))
    .option("--json", "print the status as JSON")
    .action(async (options: CommonOptions & { json?: boolean }) => {
      const status = await labStatus({ name: options.name, stateDir: options.stateDir });
      process.stdout.write(options.json === true ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
      if (!status.present) process.exitCode = ExitCode.Absent;
      else if (!status.healthy) process.exitCode = ExitCode.Failed;
    });

  return program;
}

/** Formats a status as a short report with one table row per node. */
export function formatStatus(status: LabStatus): string {
  if (!status.present) return `lab ${status.name}: absent (${status.dir})\n`;
  const lines = [
    `lab ${status.name}: ${status.phase}, ${status.healthy ? "healthy" : "unhealthy"} (${status.dir})`,
    `underlay ${status.block} (${status.subnets} subnet(s)); outside ${status.outside?.netns} ${status.outside?.ip}` +
      (status.router === undefined ? "" : `; router ${status.router.netns} ${status.router.addresses.join(" ")}`),
  ];
  const namespaces = status.namespaces.map((netns) => `${netns.name} ${netns.exists ? "present" : "missing"}`);
  lines.push(`namespaces: ${namespaces.join(", ")}`);
  const rows = [["NODE", "NETNS", "UNDERLAY", "OVSDB-SERVER", "OVS-VSWITCHD"]];
  for (const node of status.nodes) {
    const daemons = node.daemons.map((daemon) => `${daemon.pid ?? "-"} ${daemon.alive ? "alive" : "dead"}`);
    rows.push([node.name, node.netns + (node.netnsExists ? "" : " (missing)"), `${node.underlayIp}/${node.underlayPrefixLength}`, ...daemons]);
  }
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  for (const row of rows) lines.push(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd());
  for (const problem of status.problems) lines.push(`problem: ${problem}`);
  return `${lines.join("\n")}\n`;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    // A LabError message is written for the user; anything else is a bug, so show its stack.
    let message = String(error);
    if (error instanceof LabError) message = error.message;
    else if (error instanceof Error) message = error.stack ?? error.message;
    process.stderr.write(`switchyard-lab: ${message}\n`);
    process.exitCode = ExitCode.Failed;
  }
}

if (import.meta.main) await main();
