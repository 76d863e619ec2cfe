// Argument parsing of bin/switchyard-podrunner.
import assert from "node:assert/strict";
import { test } from "node:test";

import { buildProgram, parsePortSpecs } from "../../cluster/cli.ts";

test("port specs default to tcp", () => {
  assert.deepEqual(parsePortSpecs("80, 81/TCP,53/udp"), [
    { port: 80, protocol: "tcp" },
    { port: 81, protocol: "tcp" },
    { port: 53, protocol: "udp" },
  ]);
});

test("port specs accept sctp", () => {
  assert.deepEqual(parsePortSpecs("80/sctp"), [{ port: 80, protocol: "sctp" }]);
});

test("invalid port specs are rejected", () => {
  for (const text of ["80/icmp", "0", "65536", "http", "80,"]) {
    assert.throws(() => parsePortSpecs(text), /invalid port .*: write PORT, PORT\/tcp, PORT\/udp or PORT\/sctp/, text);
  }
});

test("program has four commands", () => {
  assert.deepEqual(
    buildProgram().commands.map((command) => command.name()),
    ["run", "schedule", "probe", "matrix"],
  );
});

test("matrix rejects SCTP ports", async () => {
  const program = buildProgram().exitOverride();
  await assert.rejects(
    program.parseAsync(["matrix", "--ports", "80/tcp,80/sctp", "--kubeconfig", "/nonexistent", "--netns-prefix", "lab-p-"], { from: "user" }),
    /SCTP ports need the nodes' conntrack flushed between probe passes: use bin\/switchyard-cluster matrix/,
  );
});
