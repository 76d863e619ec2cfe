/** bin/switchyard-apiserver as a user runs it: kubeconfig, state file, SIGTERM. */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { waitFor } from "./helpers.ts";

const BINARY = join(import.meta.dirname, "../../../bin/switchyard-apiserver");

function startCli(args: string[]): { exited: Promise<number | null>; stderr: () => string; pid: number | undefined; stop: () => void } {
  const child = spawn(BINARY, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { exited, stderr: () => stderr, pid: child.pid, stop: () => child.kill("SIGTERM") };
}

async function serverUrl(kubeconfigPath: string): Promise<string> {
  await waitFor("the kubeconfig", () => existsSync(kubeconfigPath), 10_000);
  const match = /server: "(http:\/\/127\.0\.0\.1:\d+)"/.exec(await readFile(kubeconfigPath, "utf8"));
  assert.ok(match?.[1], "the kubeconfig names the server");
  return match[1];
}

test("cli keeps state across restart", async (t) => {
  const folder = await mkdtemp(join(tmpdir(), "sya-cli-"));
  const running: ReturnType<typeof startCli>[] = [];
  t.after(async () => {
    for (const cli of running) cli.stop();
    await Promise.all(running.map((cli) => cli.exited));
    await rm(folder, { recursive: true, force: true });
  });
  const stateFile = join(folder, "state.json");

  const firstConfig = join(folder, "first.kubeconfig");
  const first = startCli(["--port", "0", "--state-file", stateFile, "--kubeconfig", firstConfig, "--log-level", "debug"]);
  running.push(first);
  const firstUrl = await serverUrl(firstConfig);
  const created = await fetch(`${firstUrl}/api/v1/nodes`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ metadata: { name: "n1" } }) });
  assert.equal(created.status, 201);
  const node = (await created.json()) as { metadata: { uid: string } };
  first.stop();
  assert.equal(await first.exited, 0);
  assert.match(first.stderr(), /"message":"request served"/, "debug level logs each request");
  assert.match(first.stderr(), /"message":"stopping","signal":"SIGTERM"/);

  const secondConfig = join(folder, "second.kubeconfig");
  const second = startCli(["--port", "0", "--state-file", stateFile, "--kubeconfig", secondConfig]);
  running.push(second);
  const secondUrl = await serverUrl(secondConfig);
  const read = await fetch(`${secondUrl}/api/v1/nodes/n1`);
  assert.equal(read.status, 200);
  const restored = (await read.json()) as { metadata: { uid: string } };
  assert.equal(restored.metadata.uid, node.metadata.uid);
});

test("cli rejects a bad port", async () => {
  const cli = startCli(["--port", "abc"]);
  assert.notEqual(await cli.exited, 0);
  assert.match(cli.stderr(), /--port must be a non-negative integer, got "abc"/);
});
