// Checks the first-drop rule of the policy-latency benchmark on hand-written prober records,
// and the parsing of ovs-appctl upcall/show.
// Run: node --test test/bench/policy-latency/analysis.test.ts
import assert from "node:assert/strict";
import { test } from "node:test";

import { median, targetLatency } from "../../bench/policy-latency/analysis.ts";
import { parseUpcallShow } from "../../bench/policy-latency/datapath-stats.ts";
import type { TargetRecord } from "../../bench/policy-latency/record.ts";

/** Builds a record with one datagram every 2 ms from time 1000: "e" for echoed, "-" for lost. */
function record(pattern: string): TargetRecord {
  return {
    name: "node1",
    ip: "10.244.0.5",
    port: 80,
    sentAt: [...pattern].map((_, index) => 1000 + 2 * index),
    echoed: [...pattern].map((mark) => mark === "e"),
  };
}

test("clean drop after t0", () => {
  // Datagrams at 1000 to 1018 are echoed up to 1010 and lost from 1012, with t0 at 1005.
  const result = targetLatency(record("eeeeee----"), { t0: 1005, steadyAt: 1000 });
  assert.equal(result.valid, true);
  if (!result.valid) return;
  assert.equal(result.latencyMs, 7);
  assert.equal(result.resolutionMs, 2);
  assert.equal(result.lostBeforeT0, 0);
});

test("loss between steady and t0 is counted", () => {
  // The loss at 1000 comes before steady echoing (1003) and does not count, but the one at 1006 does.
  const result = targetLatency(record("-ee-eeee---"), { t0: 1009, steadyAt: 1003 });
  assert.equal(result.valid, true);
  if (!result.valid) return;
  assert.equal(result.lostBeforeT0, 1);
  assert.equal(result.latencyMs, 7);
});

test("echo after a loss after t0 is invalid", () => {
  const result = targetLatency(record("eeee-ee---"), { t0: 1001, steadyAt: 1000 });
  assert.equal(result.valid, false);
  if (result.valid) return;
  assert.match(result.problem, /lost, then 2 later datagrams were echoed/);
});

test("drop before t0 is invalid", () => {
  const result = targetLatency(record("eee-------"), { t0: 1010, steadyAt: 1000 });
  assert.equal(result.valid, false);
  if (result.valid) return;
  assert.match(result.problem, /stopped echoing 4\.0 ms before t0/);
});

test("no drop is invalid", () => {
  assert.equal(targetLatency(record("eeeeeeeeee"), { t0: 1001, steadyAt: 1000 }).valid, false);
});

test("nothing echoed is invalid", () => {
  assert.equal(targetLatency(record("----------"), { t0: 1001, steadyAt: 1000 }).valid, false);
});

test("median of odd and even counts", () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test("upcall/show of OVS 3.1 parsed", () => {
  // Layout of ofproto/ofproto-dpif-upcall.c upcall_unixctl_show() in Open vSwitch 3.1.
  const text = ["netdev@ovs-netdev:", "  flows         : (current 37) (avg 35) (max 412) (limit 200000)", "  offloaded flows : 0", "  dump duration : 3ms", "  ufid enabled : true", ""].join("\n");
  const stats = parseUpcallShow("node1", text);
  assert.equal(stats.flows, 37);
  assert.equal(stats.dumpDurationMs, 3);
});

test("upcall/show without figures", () => {
  const stats = parseUpcallShow("node1", "");
  assert.equal(stats.flows, undefined);
  assert.equal(stats.dumpDurationMs, undefined);
});
