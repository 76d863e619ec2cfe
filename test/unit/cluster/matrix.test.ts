// Truth-table rendering of the reachability matrix.
import assert from "node:assert/strict";
import { test } from "node:test";

import { buildMatrix, renderMatrix, renderTruthTable } from "../../cluster/matrix.ts";
import type { ProbeResult } from "../../cluster/probe.ts";

function result(from: string, to: string, reachable: boolean, port = 80, protocol: "tcp" | "udp" = "tcp"): ProbeResult {
  return { from, to, toIp: "10.0.0.1", port, protocol, reachable };
}

test("renders rows as sources and columns as targets", () => {
  const matrix = buildMatrix({
    pods: ["x/a", "x/b", "y/a"],
    ports: [{ port: 80, protocol: "tcp" }],
    probes: [
      result("x/a", "x/a", true),
      result("x/a", "x/b", false),
      result("x/a", "y/a", true),
      result("x/b", "x/a", true),
      result("x/b", "x/b", true),
      result("x/b", "y/a", false),
      result("y/a", "x/a", false),
      result("y/a", "x/b", false),
    ],
  });
  assert.equal(renderMatrix(matrix), ["TCP/80", "-\tx/a\tx/b\ty/a", "x/a\t.\tX\t.", "x/b\t.\t.\tX", "y/a\tX\tX\t?"].join("\n"));
});

test("one table per port, blank line between", () => {
  const matrix = buildMatrix({
    pods: ["n/p"],
    ports: [
      { port: 80, protocol: "tcp" },
      { port: 80, protocol: "udp" },
    ],
    probes: [result("n/p", "n/p", true, 80, "tcp"), result("n/p", "n/p", false, 80, "udp")],
  });
  assert.equal(renderMatrix(matrix), "TCP/80\n-\tn/p\nn/p\t.\n\nUDP/80\n-\tn/p\nn/p\tX");
  assert.deepEqual(matrix.ports[1]?.reachable, { "n/p": { "n/p": false } });
  assert.equal(renderTruthTable({ pods: [], table: { port: 81, protocol: "tcp", reachable: {} } }), "TCP/81\n-");
});
