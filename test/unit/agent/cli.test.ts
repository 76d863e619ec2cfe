import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const binary = join(import.meta.dirname, "..", "..", "..", "bin", "switchyard-agent");
const execFileAsync = promisify(execFile);

async function runAgent(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(binary, args);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test("cli: decode cookie", async () => {
  const result = await runAgent(["--decode-cookie", "0x3020000000005"]);
  assert.equal(result.code, 0);
  assert.equal(result.stdout, "round 3, pod, ofport 5\n");
});

test("cli: invalid config exits 2", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sya-cli-"));
  try {
    const file = join(dir, "agent.yaml");
    await writeFile(file, "trafficEncapMode: ipip\n");
    const result = await runAgent(["--config", file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /trafficEncapMode: invalid value "ipip": expected one of "encap", "noEncap", "hybrid"/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("cli: check-config prints defaults", async () => {
  const dir = await mkdtemp(join(tmpdir(), "sya-cli-"));
  try {
    const file = join(dir, "agent.yaml");
    await writeFile(file, "nodeName: n1\n");
    const result = await runAgent(["--config", file, "--check-config"]);
    assert.equal(result.code, 0);
    const printed = JSON.parse(result.stdout) as { nodeName: string; ovs: { bridge: string } };
    assert.equal(printed.nodeName, "n1");
    assert.equal(printed.ovs.bridge, "br-int");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("cli: missing config exits 2", async () => {
  const result = await runAgent([]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--config <file>/);
});
