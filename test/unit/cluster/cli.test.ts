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

test("invalid port specs are rejected", () => {
  for (const text of ["80/sctp", "0", "65536", "http", "80,"]) {
    assert.throws(() => parsePortSpecs(text), /invalid port .*: write PORT or PORT\/tcp or PORT\/udp/, text);
  }
});

test("program has four commands", () => {
  assert.deepEqual(
    buildProgram().commands.map((command) => command.name()),
    ["run", "schedule", "probe", "matrix"],
  );
});
