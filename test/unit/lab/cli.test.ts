import assert from "node:assert/strict";
import { test } from "node:test";

import { buildProgram, formatStatus } from "../../lab/cli.ts";
import type { LabStatus } from "../../lab/status.ts";

const unhealthy: LabStatus = {
  name: "ci",
  dir: "/run/labs/ci",
  present: true,
  phase: "ready",
  healthy: false,
  block: "10.200.8.0/24",
  subnets: 1,
  namespaces: [
    { name: "ci-ul", exists: true },
    { name: "ci-out", exists: true },
    { name: "ci-n1", exists: true },
  ],
  outside: { netns: "ci-out", ip: "10.200.8.254" },
  router: undefined,
  nodes: [
    {
      name: "node1",
      netns: "ci-n1",
      netnsExists: true,
      underlayIp: "10.200.8.11",
      underlayPrefixLength: 24,
      gateway: undefined,
      ovsDir: "/run/labs/ci/node1",
      daemons: [
        { daemon: "ovsdb-server", pid: 100, alive: true },
        { daemon: "ovs-vswitchd", pid: 101, alive: false },
      ],
    },
  ],
  problems: ["node1: ovs-vswitchd (PID 101) is not running"],
};

test("status text shows a dead daemon", () => {
  const lines = formatStatus(unhealthy).split("\n");
  assert.equal(lines[0], "lab ci: ready, unhealthy (/run/labs/ci)");
  assert.equal(lines[1], "underlay 10.200.8.0/24 (1 subnet(s)); outside ci-out 10.200.8.254");
  assert.equal(lines[2], "namespaces: ci-ul present, ci-out present, ci-n1 present");
  assert.equal(lines[3], "NODE   NETNS  UNDERLAY        OVSDB-SERVER  OVS-VSWITCHD");
  assert.equal(lines[4], "node1  ci-n1  10.200.8.11/24  100 alive     101 dead");
  assert.equal(lines[5], "problem: node1: ovs-vswitchd (PID 101) is not running");
});

test("status text for an absent lab", () => {
  assert.equal(formatStatus({ ...unhealthy, present: false, dir: "/run/labs/ci" }), "lab ci: absent (/run/labs/ci)\n");
});

function parseError(args: string[]): string {
  const program = buildProgram();
  let output = "";
  program.exitOverride();
  for (const command of [program, ...program.commands]) {
    command.exitOverride();
    command.configureOutput({ writeErr: (text) => (output += text), writeOut: () => {} });
  }
  assert.throws(() => program.parse(["node", "switchyard-lab", ...args]));
  return output;
}

test("up requires --nodes", () => {
  assert.match(parseError(["up"]), /required option '--nodes <n>' not specified/);
});

test("up help marks --nodes required", () => {
  const up = buildProgram().commands.find((command) => command.name() === "up");
  assert.ok(up !== undefined, "the program has an up command");
  const line = up.helpInformation().split("\n").find((text) => text.trimStart().startsWith("--nodes <n>"));
  assert.match(line ?? "", /--nodes <n>\s+required: number of nodes \(1 to \d+\)/);
});

test("up rejects a non-numeric node count", () => {
  assert.match(parseError(["up", "--nodes", "three"]), /three is not a whole number/);
});

test("up rejects three subnets", () => {
  assert.match(parseError(["up", "--nodes", "2", "--subnets", "3"]), /Allowed choices are 1, 2/);
});
