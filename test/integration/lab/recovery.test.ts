// Cleanup guarantees: down after a crashed or failed up, a second down, two labs side by
// side, and the CLI as a user runs it.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { LabError, LabErrorCode, downLab, labStatus, readLab, upLab } from "../../lab/index.ts";
import { isPidLive, liveProcessesMentioning, namespacesOf, pingTtl, tempStateRoot, uniqueLabName } from "./helpers.ts";

const cli = fileURLToPath(new URL("../../../bin/switchyard-lab", import.meta.url));

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(cli, args, { encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function assertNothingLeft(name: string, stateDir: string): Promise<void> {
  assert.deepEqual(namespacesOf(name), [], "namespaces left");
  assert.deepEqual(await liveProcessesMentioning(join(stateDir, name)), [], "OVS daemons left");
  assert.equal(await readLab({ name, stateDir }), undefined, "state file left");
}

describe("lab cleanup", () => {
  let stateDir = "";
  const names: string[] = [];
  function labName(suffix: string): string {
    const name = uniqueLabName(suffix);
    names.push(name);
    return name;
  }

  before(async () => {
    stateDir = await tempStateRoot();
  });

  after(async () => {
    for (const name of names) await downLab({ name, stateDir });
    await rm(stateDir, { recursive: true, force: true });
  });

  test("CLI up, status, down as a user runs them", async () => {
    const name = labName("cli");
    const up = runCli(["up", "--name", name, "--nodes", "2", "--state-dir", stateDir]);
    assert.equal(up.status, 0, up.stderr);
    assert.match(up.stderr, /switchyard-lab: building the underlay/);
    assert.match(up.stdout, new RegExp(`^node1\\t${name}-n1\\t10\\.200\\.\\d+\\.11/24\\t`, "m"));

    const status = runCli(["status", "--name", name, "--state-dir", stateDir]);
    assert.equal(status.status, 0, status.stdout);
    assert.match(status.stdout, /healthy/);
    assert.equal(status.stdout.match(/ alive/g)?.length, 4);

    const json = runCli(["status", "--name", name, "--state-dir", stateDir, "--json"]);
    const parsed = JSON.parse(json.stdout) as { healthy: boolean; nodes: Array<{ underlayIp: string }> };
    assert.equal(parsed.healthy, true);
    assert.equal(pingTtl(`${name}-n1`, parsed.nodes[1]?.underlayIp ?? ""), 64);

    const down = runCli(["down", "--name", name, "--state-dir", stateDir]);
    assert.equal(down.status, 0, down.stderr);
    assert.match(down.stderr, /is down/);
    await assertNothingLeft(name, stateDir);

    const secondDown = runCli(["down", "--name", name, "--state-dir", stateDir]);
    assert.equal(secondDown.status, 0, secondDown.stderr);
    assert.match(secondDown.stderr, /nothing is left/);

    const absent = runCli(["status", "--name", name, "--state-dir", stateDir]);
    assert.equal(absent.status, 3);
    assert.match(absent.stdout, /absent/);
  });

  test("CLI rejects a bad name and node count", () => {
    const badName = runCli(["up", "--name", "Bad_Name", "--nodes", "1", "--state-dir", stateDir]);
    assert.equal(badName.status, 1);
    assert.match(badName.stderr, /invalid lab name "Bad_Name"/);
    const tooMany = runCli(["up", "--name", labName("many"), "--nodes", "99", "--state-dir", stateDir]);
    assert.equal(tooMany.status, 1);
    assert.match(tooMany.stderr, /invalid node count 99: use an integer from 1 to 16/);
  });

  test("down cleans up after up was killed halfway", async () => {
    const name = labName("kill");
    const child = spawn(cli, ["up", "--name", name, "--nodes", "3", "--state-dir", stateDir], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    const killed = new Promise<void>((resolve) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        // Kill the first time a node starts ovs-vswitchd: namespaces, links and some
        // daemons exist, the lab is not ready.
        if (stderr.includes("starting ovs-vswitchd")) child.kill("SIGKILL");
      });
      child.on("exit", () => resolve());
    });
    await killed;
    assert.equal(child.signalCode, "SIGKILL", `up finished before it was killed:\n${stderr}`);

    const state = JSON.parse(await readFile(join(stateDir, name, "state.json"), "utf8")) as { phase: string };
    assert.equal(state.phase, "creating");
    assert.ok(namespacesOf(name).length > 0, "the killed up left namespaces behind");

    const down = runCli(["down", "--name", name, "--state-dir", stateDir]);
    assert.equal(down.status, 0, down.stderr);
    await assertNothingLeft(name, stateDir);
  });

  test("down cleans up what a failed up kept", async () => {
    const name = labName("keep");
    const failure = upLab({
      name,
      nodes: 2,
      stateDir,
      keepOnFailure: true,
      log: (line) => {
        if (line.startsWith("node2: starting ovs-vswitchd")) throw new Error("injected failure");
      },
    });
    await assert.rejects(failure, (error: unknown) => error instanceof LabError && /its resources are kept: run switchyard-lab down/.test(error.message));

    const status = await labStatus({ name, stateDir });
    assert.equal(status.phase, "failed");
    assert.equal(status.healthy, false);
    const pids = status.nodes.flatMap((node) => node.daemons.flatMap((daemon) => (daemon.pid === undefined ? [] : [daemon.pid])));
    assert.ok(pids.length >= 2, `expected recorded PIDs, got ${pids.join(",")}`);

    await downLab({ name, stateDir });
    for (const pid of pids) assert.equal(await isPidLive(pid), false, `PID ${pid}`);
    await assertNothingLeft(name, stateDir);
  });

  test("a failed up removes what it created", async () => {
    const name = labName("fail");
    const failure = upLab({
      name,
      nodes: 2,
      stateDir,
      log: (line) => {
        if (line.startsWith("node1: starting ovs-vswitchd")) throw new Error("injected failure");
      },
    });
    await assert.rejects(failure, (error: unknown) => error instanceof LabError && /failed to come up and was removed again: injected failure/.test(error.message));
    await assertNothingLeft(name, stateDir);
  });

  test("two labs coexist and down of one spares the other", async () => {
    const first = labName("a");
    const second = labName("b");
    const labA = await upLab({ name: first, nodes: 2, stateDir });
    const labB = await upLab({ name: second, nodes: 2, stateDir });
    assert.notEqual(labA.block, labB.block, "distinct underlay blocks");

    await assert.rejects(upLab({ name: first, nodes: 1, stateDir }), (error: unknown) => {
      assert.ok(error instanceof LabError);
      assert.equal(error.code, LabErrorCode.LabExists);
      assert.match(error.message, new RegExp(`run switchyard-lab down --name ${first}`));
      return true;
    });

    await downLab({ name: first, stateDir });
    await assertNothingLeft(first, stateDir);
    const status = await labStatus({ name: second, stateDir });
    assert.equal(status.healthy, true, status.problems.join("; "));
    assert.equal(pingTtl(labB.node(1).netns, labB.node(2).underlayIp), 64);
    await downLab({ name: second, stateDir });
    await assertNothingLeft(second, stateDir);
  });

  test("status exits 1 and names a dead daemon", async () => {
    const name = labName("dead");
    const lab = await upLab({ name, nodes: 1, stateDir });
    const pid = lab.node(1).pids.vswitchd;
    assert.ok(pid !== undefined);
    process.kill(pid, "SIGKILL");
    for (let i = 0; i < 100 && (await isPidLive(pid)); i += 1) await new Promise((resolve) => setTimeout(resolve, 20));

    const status = runCli(["status", "--name", name, "--state-dir", stateDir]);
    assert.equal(status.status, 1);
    assert.match(status.stdout, new RegExp(`${pid} dead`));
    assert.match(status.stdout, new RegExp(`problem: node1: ovs-vswitchd \\(PID ${pid}\\) is not running`));
    await downLab({ name, stateDir });
    await assertNothingLeft(name, stateDir);
  });

  test("up rejects a namespace that no state records", async () => {
    const name = labName("clash");
    spawnSync("ip", ["netns", "add", `${name}-n1`]);
    try {
      await assert.rejects(
        upLab({ name, nodes: 1, stateDir }),
        (error: unknown) => error instanceof LabError && error.code === LabErrorCode.ResourceConflict && error.message.includes("under another state folder (--state-dir or SWITCHYARD_LAB_DIR)"),
      );
      assert.deepEqual(namespacesOf(name), [`${name}-n1`], "the foreign namespace is left alone");
      assert.equal(await readLab({ name, stateDir }), undefined);
    } finally {
      spawnSync("ip", ["netns", "del", `${name}-n1`]);
    }
  });
});
