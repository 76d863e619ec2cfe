// Command-line handling of bin/switchyard-cluster: argument errors, exit codes and output
// formats, on a state folder with no cluster in it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { CommanderError } from "commander";

import { buildProgram, dumpFlowsArgv } from "../../labcluster/cli.ts";

const cli = join(import.meta.dirname, "../../../bin/switchyard-cluster");
const stateDir = mkdtempSync(join(tmpdir(), "syk-cli-"));
after(() => rmSync(stateDir, { recursive: true, force: true }));

/** Parses argv with commander's exits turned into errors; returns the error or undefined. */
async function parseError(argv: readonly string[]): Promise<CommanderError | undefined> {
  const program = buildProgram();
  for (const command of [program, ...program.commands]) {
    command.exitOverride();
    command.configureOutput({ writeErr: () => {}, writeOut: () => {} });
    // Replace the actions, so a valid command line runs nothing.
    if (command !== program) command.action(() => {});
  }
  try {
    await program.parseAsync(["node", "switchyard-cluster", ...argv]);
    return undefined;
  } catch (error) {
    if (error instanceof CommanderError) return error;
    throw error;
  }
}

function runCli(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(cli, [...args, "--state-dir", stateDir], { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("argument handling", () => {
  test("up accepts nodes and mode", async () => {
    assert.equal(await parseError(["up", "--nodes", "3", "--mode", "hybrid", "--name", "sykx"]), undefined);
  });

  test("up rejects zero nodes", async () => {
    const error = await parseError(["up", "--nodes", "0"]);
    assert.equal(error?.code, "commander.invalidArgument");
    assert.match(error.message, /node count from 1 to 16/);
  });

  test("up rejects an unknown mode", async () => {
    const error = await parseError(["up", "--mode", "ipip"]);
    assert.equal(error?.code, "commander.invalidArgument");
    assert.match(error.message, /geneve, vxlan, gre, noencap, hybrid/);
  });

  test("probe rejects udpx protocol", async () => {
    const error = await parseError(["probe", "a", "b", "80", "--protocol", "udpx"]);
    assert.equal(error?.code, "commander.invalidArgument");
  });

  test("probe rejects port 70000", async () => {
    const error = await parseError(["probe", "a", "b", "70000"]);
    assert.equal(error?.code, "commander.invalidArgument");
  });

  test("apply requires a file", async () => {
    const error = await parseError(["apply"]);
    assert.equal(error?.code, "commander.missingMandatoryOptionValue");
  });

  test("flows requires a node", async () => {
    const error = await parseError(["flows"]);
    assert.equal(error?.code, "commander.missingArgument");
  });
});

describe("dumpFlowsArgv", () => {
  test("whole bridge with names", () => {
    assert.deepEqual(dumpFlowsArgv({ mgmtSocket: "/run/x/br-int.mgmt" }), ["ovs-ofctl", "-O", "OpenFlow15", "--names", "dump-flows", "unix:/run/x/br-int.mgmt"]);
  });

  test("one table", () => {
    assert.equal(dumpFlowsArgv({ mgmtSocket: "/run/x/br-int.mgmt", table: "IngressPolicy" }).at(-1), "table=IngressPolicy");
  });
});

describe("absent cluster", () => {
  test("status exits 3", () => {
    const result = runCli(["status", "--name", "sykabsent"]);
    assert.equal(result.status, 3);
    assert.equal(result.stdout, `cluster sykabsent: absent under ${stateDir} (a cluster started with --state-dir or SWITCHYARD_LAB_DIR needs the same folder here)\n`);
  });

  test("status --json", () => {
    const result = runCli(["status", "--name", "sykabsent", "--json"]);
    assert.equal(result.status, 3);
    const status = JSON.parse(result.stdout) as { name: string; present: boolean; healthy: boolean };
    assert.equal(status.name, "sykabsent");
    assert.equal(status.present, false);
    assert.equal(status.healthy, false);
  });

  test("down is harmless", () => {
    const result = runCli(["down", "--name", "sykabsent"]);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /nothing is left to remove/);
  });

  test("down --json", () => {
    const result = runCli(["down", "--name", "sykabsent", "--json"]);
    assert.equal(result.status, 0);
    assert.deepEqual(JSON.parse(result.stdout), { existed: false, stoppedPids: [] });
  });

  test("probe names the fix", () => {
    const result = runCli(["probe", "a", "b", "80", "--name", "sykabsent"]);
    assert.equal(result.status, 2);
    assert.ok(
      result.stderr.includes(`no cluster named sykabsent under ${stateDir}: start one with switchyard-cluster up --name sykabsent, or pass the --state-dir it was started with`),
      result.stderr,
    );
  });
});

describe("usage errors", () => {
  test("exit 2, not the blocked code", () => {
    const result = spawnSync(cli, ["probe", "a", "b", "80", "--protocol", "icmp", "--state-dir", stateDir], { encoding: "utf8" });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /icmp/);
  });

  test("help exits 0", () => {
    const result = spawnSync(cli, ["--help"], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Usage: switchyard-cluster/);
  });
});
