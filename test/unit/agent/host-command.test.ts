// runHostCommand against real short-lived processes: commands that exit before reading
// stdin must not crash the agent with an unhandled EPIPE.
import assert from "node:assert/strict";
import { test } from "node:test";

import { HostCommandError, runHostCommand } from "../../../agent/host/command.ts";

test("quick commands ignore closed stdin", async () => {
  const runs = 150;
  const results = await Promise.all(Array.from({ length: runs }, () => runHostCommand(["true"])));
  assert.equal(results.length, runs);
  for (const stdout of results) assert.equal(stdout, "");
});

test("input reaches the command", async () => {
  assert.equal(await runHostCommand(["cat"], { input: "route add\n" }), "route add\n");
});

test("non-zero exit rejects with stderr", async () => {
  await assert.rejects(runHostCommand(["sh", "-c", "echo broken >&2; exit 3"]), (error: unknown) => {
    assert.ok(error instanceof HostCommandError);
    assert.match(error.message, /broken/);
    return true;
  });
});
