import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";

import { LabError, LabErrorCode } from "../../lab/errors.ts";
import { listLabStates, parseLabState, readLabState, resolveStateRoot, stateNamespaces, writeLabState } from "../../lab/state.ts";

// A state file as `up` writes it for two subnets, typed out by hand.
const twoSubnetText = `{
  "version": 1,
  "name": "ci",
  "phase": "ready",
  "upPid": 4242,
  "createdAt": "2026-01-02T03:04:05.000Z",
  "subnets": 2,
  "block": "10.200.8.0/23",
  "segments": [
    { "name": "a", "cidr": "10.200.8.0/24", "prefixLength": 24, "gateway": "10.200.8.1", "bridge": "br-a" },
    { "name": "b", "cidr": "10.200.9.0/24", "prefixLength": 24, "gateway": "10.200.9.1", "bridge": "br-b" }
  ],
  "underlayNetns": "ci-ul",
  "router": { "netns": "ci-rt" },
  "outside": { "netns": "ci-out", "ip": "10.200.8.254", "segment": "a" },
  "nodes": [
    { "name": "node1", "index": 1, "netns": "ci-n1", "segment": "a", "underlayIp": "10.200.8.11", "underlayPrefixLength": 24,
      "gateway": "10.200.8.1", "mac": "02:00:0a:c8:08:0b", "ovsDir": "/run/x/ci/node1", "pids": { "ovsdbServer": 100, "vswitchd": 101 } },
    { "name": "node2", "index": 2, "netns": "ci-n2", "segment": "b", "underlayIp": "10.200.9.12", "underlayPrefixLength": 24,
      "gateway": "10.200.9.1", "mac": "02:00:0a:c8:09:0c", "ovsDir": "/run/x/ci/node2", "pids": {} }
  ]
}`;

function isStateInvalid(pattern: RegExp): (error: unknown) => boolean {
  return (error: unknown) => error instanceof LabError && error.code === LabErrorCode.StateInvalid && pattern.test(error.message);
}

describe("state file parsing", () => {
  test("reads every field", () => {
    const state = parseLabState(twoSubnetText, "state.json");
    assert.equal(state.name, "ci");
    assert.equal(state.phase, "ready");
    assert.equal(state.subnets, 2);
    assert.equal(state.router?.netns, "ci-rt");
    assert.deepEqual(state.outside, { netns: "ci-out", ip: "10.200.8.254", segment: "a" });
    assert.equal(state.segments[1]?.gateway, "10.200.9.1");
    assert.deepEqual(state.nodes[0]?.pids, { ovsdbServer: 100, vswitchd: 101 });
    assert.deepEqual(state.nodes[1]?.pids, { ovsdbServer: undefined, vswitchd: undefined });
  });

  test("lists namespaces in creation order", () => {
    assert.deepEqual(stateNamespaces(parseLabState(twoSubnetText, "state.json")), ["ci-ul", "ci-rt", "ci-out", "ci-n1", "ci-n2"]);
  });

  test("accepts a state without router", () => {
    const value = JSON.parse(twoSubnetText) as Record<string, unknown>;
    delete value.router;
    value.subnets = 1;
    assert.equal(parseLabState(JSON.stringify(value), "s").router, undefined);
  });

  test("rejects text that is not JSON", () => {
    assert.throws(() => parseLabState("{", "/x/state.json"), isStateInvalid(/\/x\/state\.json is not valid JSON/));
  });

  const corruptions: Array<[string, (value: Record<string, unknown>) => void, RegExp]> = [
    ["missing name", (value) => delete value.name, /field name is missing/],
    ["newer version", (value) => (value.version = 2), /field version is 2/],
    ["unknown phase", (value) => (value.phase = "up"), /field phase is "up"/],
    ["three subnets", (value) => (value.subnets = 3), /field subnets is 3/],
    ["nodes not an array", (value) => (value.nodes = {}), /field nodes is missing or not an array/],
    ["PID as text", (value) => ((value.nodes as Array<{ pids: unknown }>)[0]!.pids = { vswitchd: "7" }), /field nodes\[0\]\.pids\.vswitchd/],
    ["bad segment name", (value) => ((value.segments as Array<{ name: unknown }>)[1]!.name = "c"), /field segments\[1\]\.name is "c"/],
    ["node on an unlisted segment", (value) => (value.segments as unknown[]).pop(), /field nodes\[1\]\.segment is "b", which no segment has/],
  ];
  for (const [what, corrupt, message] of corruptions) {
    test(`rejects ${what}`, () => {
      const value = JSON.parse(twoSubnetText) as Record<string, unknown>;
      corrupt(value);
      assert.throws(() => parseLabState(JSON.stringify(value), "s"), isStateInvalid(message));
    });
  }
});

describe("state file storage", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "syl-unit-"));
    dirs.push(dir);
    return dir;
  }

  test("write then read returns the same state", async () => {
    const dir = await tempDir();
    const state = parseLabState(twoSubnetText, "s");
    await writeLabState(join(dir, "state.json"), state);
    assert.deepEqual(await readLabState(join(dir, "state.json")), state);
    assert.deepEqual(await readdir(dir), ["state.json"], "no temporary file stays behind");
    assert.deepEqual(JSON.parse(await readFile(join(dir, "state.json"), "utf8")), JSON.parse(twoSubnetText));
  });

  test("a missing file reads as undefined", async () => {
    assert.equal(await readLabState(join(await tempDir(), "state.json")), undefined);
  });

  test("listing skips folders without a valid state", async () => {
    const root = await tempDir();
    await writeFile(join(root, "stray-file"), "");
    for (const [name, text] of [["good", twoSubnetText], ["broken", "{"]]) {
      const { mkdir } = await import("node:fs/promises");
      await mkdir(join(root, name!));
      await writeFile(join(root, name!, "state.json"), text!);
    }
    const states = await listLabStates(root);
    assert.deepEqual(states.map((state) => state.name), ["ci"]);
  });

  test("state root: option, then environment, then default", () => {
    const saved = process.env.SWITCHYARD_LAB_DIR;
    try {
      process.env.SWITCHYARD_LAB_DIR = "/from/env";
      assert.equal(resolveStateRoot("/from/option"), "/from/option");
      assert.equal(resolveStateRoot(undefined), "/from/env");
      delete process.env.SWITCHYARD_LAB_DIR;
      assert.equal(resolveStateRoot(undefined), "/var/run/switchyard-lab");
      assert.equal(resolveStateRoot("relative/dir"), join(process.cwd(), "relative/dir"), "made absolute");
    } finally {
      if (saved === undefined) delete process.env.SWITCHYARD_LAB_DIR;
      else process.env.SWITCHYARD_LAB_DIR = saved;
    }
  });
});
