// Reading dump-flows text. The sample lines are ovs-ofctl 3.1 output of `--names dump-flows`
// in the format it prints (cookie, duration, table, counters, ages, match, actions).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { grownFlows, isDropFlow, parseFlowCounters } from "../../labcluster/flows.ts";

const before = [
  "NXST_FLOW reply (xid=0x4):",
  " cookie=0x1050000000002, duration=4.093s, table=IngressPolicy, n_packets=1, n_bytes=74, idle_age=0, priority=100,ip,nw_dst=10.244.1.2 actions=drop",
  " cookie=0x1010000000000, duration=10.396s, table=ConntrackZone, n_packets=34, n_bytes=3182, idle_age=0, priority=200,ip actions=ct(table=ConntrackState,zone=65520)",
  " cookie=0x1010000000000, duration=10.396s, table=Output, n_packets=30, n_bytes=2886, idle_age=3, priority=200,reg0=0x100/0x100 actions=output:NXM_NX_REG1[]",
].join("\n");

const after = [
  " cookie=0x1050000000002, duration=7.101s, table=IngressPolicy, n_packets=4, n_bytes=296, idle_age=0, priority=100,ip,nw_dst=10.244.1.2 actions=drop",
  " cookie=0x1010000000000, duration=13.4s, table=ConntrackZone, n_packets=37, n_bytes=3404, idle_age=0, priority=200,ip actions=ct(table=ConntrackState,zone=65520)",
  " cookie=0x1010000000000, duration=13.4s, table=Output, n_packets=30, n_bytes=2886, idle_age=6, priority=200,reg0=0x100/0x100 actions=output:NXM_NX_REG1[]",
  " cookie=0x1060000000001, duration=1.2s, table=IngressPolicy, n_packets=2, n_bytes=148, priority=200,ip,nw_src=10.244.0.3 actions=goto_table:ConntrackCommit",
].join("\n");

describe("parseFlowCounters", () => {
  test("skips the reply header", () => {
    assert.equal(parseFlowCounters(before).length, 3);
  });

  test("reads table and packets", () => {
    const [first] = parseFlowCounters(before);
    assert.equal(first?.table, "IngressPolicy");
    assert.equal(first?.packets, 1);
  });

  test("key drops changing fields", () => {
    const [first] = parseFlowCounters(before);
    assert.equal(first?.key, "cookie=0x1050000000002, table=IngressPolicy, priority=100,ip,nw_dst=10.244.1.2 actions=drop");
  });
});

describe("grownFlows", () => {
  const grown = grownFlows(parseFlowCounters(before), parseFlowCounters(after));

  test("finds the grown drop flow", () => {
    const drop = grown.find((flow) => flow.table === "IngressPolicy" && isDropFlow(flow.line));
    assert.equal(drop?.delta, 3);
  });

  test("counts a new flow from zero", () => {
    assert.equal(grown.find((flow) => flow.line.includes("nw_src=10.244.0.3"))?.delta, 2);
  });

  test("leaves unchanged flows out", () => {
    assert.equal(grown.some((flow) => flow.table === "Output"), false);
    assert.equal(grown.length, 3);
  });
});

describe("isDropFlow", () => {
  test("explicit drop", () => {
    assert.equal(isDropFlow("table=0, priority=0 actions=drop"), true);
  });

  test("forwarding flow", () => {
    assert.equal(isDropFlow("table=0, priority=0 actions=goto_table:1"), false);
  });
});
