// Starting and stopping detached daemons by PID, and waiting with a time limit. Uses
// `sleep` and `sh` as the daemons; /proc is the independent view of whether they run.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";

import { isDaemonAlive, startDaemon, stopDaemon, tailLog, waitFor } from "../../labcluster/daemons.ts";
import { ClusterUpError } from "../../labcluster/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "syk-daemons-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("daemon lifecycle", () => {
  test("start, alive, stop", async () => {
    const daemon = startDaemon({ name: "sleeper", argv: ["sleep", "30"], logFile: join(dir, "sleeper.log") });
    assert.ok(existsSync(`/proc/${daemon.pid}`), "the PID exists");
    assert.equal(isDaemonAlive(daemon), true);
    assert.equal(await stopDaemon(daemon, { graceMs: 2000 }), true);
    assert.equal(isDaemonAlive(daemon), false);
  });

  test("second stop is a no-op", async () => {
    const daemon = startDaemon({ name: "sleeper", argv: ["sleep", "30"], logFile: join(dir, "sleeper2.log") });
    await stopDaemon(daemon, { graceMs: 2000 });
    assert.equal(await stopDaemon(daemon), false);
  });

  test("another program's PID is not alive", () => {
    const daemon = startDaemon({ name: "sleeper", argv: ["sleep", "30"], logFile: join(dir, "sleeper3.log") });
    try {
      assert.equal(isDaemonAlive({ ...daemon, argv: ["/usr/bin/some-other-program"] }), false);
    } finally {
      process.kill(daemon.pid, "SIGKILL");
    }
  });

  test("output goes to the log", async () => {
    const logFile = join(dir, "echo.log");
    const daemon = startDaemon({ name: "echo", argv: ["sh", "-c", "echo hello from the daemon"], logFile });
    await waitFor(async () => (readFileSync(logFile, "utf8").includes("hello") ? true : undefined), { what: "the echo", timeoutMs: 5000, intervalMs: 20 });
    assert.equal(tailLog(logFile), "hello from the daemon");
    assert.ok(daemon.pid > 0);
  });
});

describe("waitFor", () => {
  test("times out with the step", async () => {
    await assert.rejects(
      waitFor(async () => undefined, { what: "the impossible", timeoutMs: 100, intervalMs: 20 }),
      (error: unknown) => error instanceof ClusterUpError && error.code === "TIMEOUT" && /timed out after 100 ms waiting for the impossible/.test(error.message),
    );
  });

  test("reports a dead daemon with its log", async () => {
    const logFile = join(dir, "dies.log");
    const daemon = startDaemon({ name: "short-lived", argv: ["sh", "-c", "echo fatal: no config; exit 2"], logFile });
    await assert.rejects(
      waitFor(async () => undefined, { what: "readiness", timeoutMs: 5000, intervalMs: 20, daemon }),
      (error: unknown) => error instanceof ClusterUpError && error.code === "DAEMON_FAILED" && error.message.includes("fatal: no config"),
    );
  });

  test("returns the first value", async () => {
    let calls = 0;
    const value = await waitFor(async () => (++calls >= 3 ? "ready" : undefined), { what: "three calls", timeoutMs: 5000, intervalMs: 10 });
    assert.equal(value, "ready");
    assert.equal(calls, 3);
  });
});

describe("tailLog", () => {
  test("names a missing log", () => {
    assert.equal(tailLog(join(dir, "absent.log")), `(no log at ${join(dir, "absent.log")})`);
  });
});
