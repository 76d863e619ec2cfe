import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, test } from "node:test";

import { CommandError, LabErrorCode } from "../../lab/errors.ts";
import { checkOvsDirLength, maxSocketPathLength } from "../../lab/ovs.ts";
import { argvMatches, stopProcess, waitForExit } from "../../lab/process.ts";
import { formatArgv, netnsArgv, run, runWithOutput } from "../../lab/run.ts";

describe("run", () => {
  test("returns stdout", async () => {
    assert.equal(await run(["printf", "%s-%s", "a", "b"]), "a-b");
  });

  test("passes input on stdin", async () => {
    assert.equal(await run(["cat"], { input: "line 1\nline 2\n" }), "line 1\nline 2\n");
  });

  test("adds environment variables", async () => {
    assert.equal(await run(["sh", "-c", 'printf %s "$SYL_TEST_VALUE"'], { env: { SYL_TEST_VALUE: "x y" } }), "x y");
  });

  test("returns stderr with runWithOutput", async () => {
    assert.deepEqual(await runWithOutput(["sh", "-c", "echo out; echo err >&2"]), { stdout: "out\n", stderr: "err\n" });
  });

  test("failure names argv, exit code and stderr", async () => {
    await assert.rejects(run(["sh", "-c", "echo broken >&2; exit 3"]), (error: unknown) => {
      assert.ok(error instanceof CommandError);
      assert.equal(error.code, LabErrorCode.CommandFailed);
      assert.equal(error.exitCode, 3);
      assert.equal(error.stderr, "broken\n");
      assert.deepEqual(error.argv, ["sh", "-c", "echo broken >&2; exit 3"]);
      assert.match(error.message, /^sh -c 'echo broken >&2; exit 3' failed \(exit code 3\): broken$/);
      return true;
    });
  });

  test("missing program has its own code", async () => {
    await assert.rejects(run(["syl-no-such-program"]), (error: unknown) => {
      assert.ok(error instanceof CommandError);
      assert.equal(error.code, LabErrorCode.CommandNotFound);
      assert.match(error.message, /syl-no-such-program not found on PATH/);
      return true;
    });
  });

  test("timeout kills the command", async () => {
    const started = Date.now();
    await assert.rejects(run(["sleep", "5"], { timeoutMs: 200 }), (error: unknown) => {
      assert.ok(error instanceof CommandError);
      assert.equal(error.code, LabErrorCode.CommandTimedOut);
      assert.equal(error.signal, "SIGKILL");
      return true;
    });
    assert.ok(Date.now() - started < 3000);
  });

  test("netns wraps argv in ip netns exec", () => {
    assert.deepEqual(netnsArgv(["ping", "-c1", "x"], "lab-n1"), ["ip", "netns", "exec", "lab-n1", "ping", "-c1", "x"]);
    assert.deepEqual(netnsArgv(["ping"], undefined), ["ping"]);
  });

  test("formatArgv quotes what a shell would split", () => {
    assert.equal(formatArgv(["ovs-vsctl", "--db=unix:/x/db.sock", "set", "a b", "it's"]), `ovs-vsctl --db=unix:/x/db.sock set 'a b' 'it'\\''s'`);
  });
});

describe("process identity", () => {
  test("matches program base name and an argument", () => {
    const argv = ["/usr/sbin/ovs-vswitchd", "unix:/r/db.sock", "--pidfile=/r/n1/vswitchd.pid"];
    assert.equal(argvMatches(argv, { program: "ovs-vswitchd", argumentContaining: "--pidfile=/r/n1/vswitchd.pid" }), true);
    assert.equal(argvMatches(argv, { program: "ovs-vswitchd", argumentContaining: "--pidfile=/r/n2/vswitchd.pid" }), false);
    assert.equal(argvMatches(argv, { program: "ovsdb-server", argumentContaining: "/r/n1" }), false);
  });

  test("stopProcess signals only a matching process", async () => {
    const child = spawn("sleep", ["37.25"], { stdio: "ignore" });
    const pid = child.pid;
    assert.ok(pid !== undefined);
    try {
      assert.equal(await stopProcess(pid, { program: "sleep", argumentContaining: "99.5" }), false);
      assert.equal(child.exitCode, null, "a non-matching identity leaves the process alone");
      assert.equal(await stopProcess(pid, { program: "sleep", argumentContaining: "37.25" }), true);
      assert.equal(await waitForExit(pid, 1000), true);
      assert.equal(await stopProcess(pid, { program: "sleep", argumentContaining: "37.25" }), false, "idempotent");
    } finally {
      child.kill("SIGKILL");
    }
  });
});

test("OVS folder length is checked against the socket limit", () => {
  assert.doesNotThrow(() => checkOvsDirLength("/var/run/switchyard-lab/lab/node1"));
  const tooLong = `/${"d".repeat(maxSocketPathLength)}`;
  assert.throws(checkOvsDirLength.bind(undefined, tooLong), /too long for unix sockets/);
});
