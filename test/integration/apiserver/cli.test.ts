/** bin/switchyard-apiserver as a user runs it: kubeconfig, state file, SIGTERM. */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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

test("cli rejects a port above 65535", async () => {
  const cli = startCli(["--port", "70000"]);
  assert.notEqual(await cli.exited, 0);
  assert.match(cli.stderr(), /--port must be from 0 to 65535, got 70000/);
});

test("cli rejects an unknown log level", async () => {
  const cli = startCli(["--port", "0", "--log-level", "loud"]);
  assert.notEqual(await cli.exited, 0);
  assert.match(cli.stderr(), /option '--log-level <level>' argument 'loud' is invalid\. Allowed choices are error, warn, info, debug\./);
});

test("cli rejects custom resources missing a field", async (t) => {
  const folder = await mkdtemp(join(tmpdir(), "syf-cli-"));
  t.after(() => rm(folder, { recursive: true, force: true }));
  const path = join(folder, "crds.json");
  const valid = { group: "example.com", version: "v1", kind: "Widget", plural: "widgets", singular: "widget", namespaced: true };
  const cases: { entry: Record<string, unknown>; message: string }[] = [
    { entry: { ...valid, plural: undefined }, message: 'entry 1: missing field "plural"' },
    { entry: { ...valid, group: "" }, message: 'entry 1: field "group" must be a non-empty string, got ""' },
    { entry: { ...valid, namespaced: "yes" }, message: 'entry 1: field "namespaced" must be true or false, got "yes"' },
    { entry: { ...valid, shortNames: "wd" }, message: 'entry 1: field "shortNames" must be an array of non-empty strings, got "wd"' },
  ];
  for (const { entry, message } of cases) {
    await writeFile(path, JSON.stringify([valid, entry]));
    const cli = startCli(["--port", "0", "--custom-resources", path]);
    assert.equal(await cli.exited, 1);
    assert.equal(cli.stderr(), `switchyard-apiserver: --custom-resources ${path}: ${message}\n`);
  }
});

test("cli rejects a kubeconfig in a missing folder", async (t) => {
  const folder = await mkdtemp(join(tmpdir(), "syf-cli-"));
  t.after(() => rm(folder, { recursive: true, force: true }));
  const path = join(folder, "missing", "kubeconfig");
  const cli = startCli(["--port", "0", "--kubeconfig", path]);
  assert.equal(await cli.exited, 1);
  assert.equal(cli.stderr(), `switchyard-apiserver: --kubeconfig ${path}: folder ${join(folder, "missing")} does not exist; create it first\n`);
});
