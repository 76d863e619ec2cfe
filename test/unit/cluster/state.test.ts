// The pod runner's state file and the CNI result cache on disk.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { readCachedResult } from "../../cluster/cni/cache.ts";
import { ClusterErrorCode } from "../../cluster/errors.ts";
import { readRunnerState, writeRunnerState } from "../../cluster/state.ts";
import type { RunnerState } from "../../cluster/state.ts";

async function withFolder(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "syr-state-"));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("missing state file is empty", async () => {
  await withFolder(async (dir) => {
    assert.deepEqual(await readRunnerState({ path: join(dir, "state.json"), node: "node1" }), { version: 1, node: "node1", pods: {} });
  });
});

test("state round-trips through the file", async () => {
  await withFolder(async (dir) => {
    const path = join(dir, "sub", "state.json");
    const state: RunnerState = {
      version: 1,
      node: "node1",
      pods: {
        u1: { uid: "u1", namespace: "default", name: "web", netns: "syr-default-web-1", sandboxId: "s", phase: "running", workloadPid: 42, podIps: ["10.99.1.2"], portMappings: [], startTime: "2026-01-01T00:00:00Z", restartCount: 0 },
      },
    };
    await writeRunnerState(path, state);
    assert.deepEqual(JSON.parse(await readFile(path, "utf8")), state);
    assert.deepEqual(await readRunnerState({ path, node: "node1" }), state);
  });
});

test("state of another node is rejected", async () => {
  await withFolder(async (dir) => {
    const path = join(dir, "state.json");
    await writeRunnerState(path, { version: 1, node: "node2", pods: {} });
    await assert.rejects(readRunnerState({ path, node: "node1" }), { code: ClusterErrorCode.StateInvalid, message: /belongs to node node2, not node1/ });
  });
});

test("corrupt state and cache are rejected", async () => {
  await withFolder(async (dir) => {
    const path = join(dir, "state.json");
    await writeFile(path, "{");
    await assert.rejects(readRunnerState({ path, node: "node1" }), { code: ClusterErrorCode.StateInvalid });
    await writeFile(path, JSON.stringify({ version: 2, node: "node1", pods: {} }));
    await assert.rejects(readRunnerState({ path, node: "node1" }), { code: ClusterErrorCode.StateInvalid, message: /not a version 1 state file/ });

    const key = { cacheDir: dir, networkName: "net", containerId: "c", ifName: "eth0" };
    assert.equal(await readCachedResult(key), undefined);
    await mkdir(join(dir, "results"));
    await writeFile(join(dir, "results", "net-c-eth0"), JSON.stringify({ kind: "other" }));
    await assert.rejects(readCachedResult(key), { code: ClusterErrorCode.StateInvalid, message: /is not a cniCacheV1 entry/ });
  });
});
