// Runs the README's main job the way a user does and checks what it shows: every node
// reaches every other node and the outside, and nothing of the lab remains afterwards.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { listNetns } from "../lab/index.ts";

const execFileAsync = promisify(execFile);
const root = join(import.meta.dirname, "..", "..");
const labName = "sye2e-demo";

test("demo connects three nodes and cleans up", { timeout: 120_000 }, async () => {
  const { stdout } = await execFileAsync(process.execPath, [join(root, "build", "demo.ts"), "--name", labName, "--nodes", "3"], {
    cwd: root,
  });

  const rows = stdout.split("\n").filter((line) => /^\s+node\d -> /.test(line));
  assert.equal(rows.length, 3, `expected one ping row per node, got:\n${stdout}`);
  for (const row of rows) {
    assert.equal((row.match(/: ok/g) ?? []).length, 3, `row should show 3 reachable targets: ${row}`);
    assert.doesNotMatch(row, /FAIL/);
  }
  assert.match(stdout, /done: every node reached every other node/);

  const leftover = [...(await listNetns())].filter((name) => name.startsWith(`${labName}-`));
  assert.deepEqual(leftover, [], "the demo must remove its namespaces");
});
