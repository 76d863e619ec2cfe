// The shared flow diff of FlowSync and the policy enforcer. Expected FLOW_MODs are the text
// `ovs-ofctl ofp-print` prints for the encoded bytes (run at test time), so the command,
// table, match, cookie and actions are read back by Open vSwitch, not by our printer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { encodeMessage, type MessageBody, type OpenFlowMessage } from "../../../openflow/index.ts";
import { flow, type PipelineFlow } from "../../../agent/pipeline/flow.ts";
import { concatDiffs, diffFlows, diffMessages, diffText, EMPTY_DIFF, indexFlows, isEmptyDiff } from "../../../agent/pipeline/flow-diff.ts";
import { Tables } from "../../../agent/pipeline/tables.ts";

const ROUND_1_POD_5 = 0x1020000000005n;
const ROUND_2_POD_5 = 0x2020000000005n;

/** Classifier flow of the port at ofport 5, sending its packets to `options.next`. */
function classifier(options: { cookie: bigint; next: typeof Tables.SpoofGuard | typeof Tables.ConntrackZone }): PipelineFlow {
  return flow(Tables.Classifier, { priority: 190, cookie: options.cookie }).inPort(5).gotoTable(options.next).build();
}

/** L2Forwarding flow sending packets for `mac` out of `port`. */
function l2(mac: string, port: number, cookie = ROUND_1_POD_5): PipelineFlow {
  return flow(Tables.L2Forwarding, { priority: 200, cookie }).ethDst(mac).setField("eth_src", "0a:00:00:00:00:01").output(port).build();
}

/** Returns `ovs-ofctl ofp-print` of each encoded FLOW_MOD, without the header up to the colon. */
function ofpPrint(messages: readonly MessageBody[]): string[] {
  return messages.map((message) => {
    const hex = encodeMessage({ ...message, version: 6, xid: 0 } as OpenFlowMessage).toString("hex");
    const text = execFileSync("ovs-ofctl", ["ofp-print", hex], { encoding: "utf8" }).trim();
    return text.replace(/^OFPT_FLOW_MOD \(OF1\.5\) \(xid=0x0\): /, "");
  });
}

test("flow diff: new, changed and gone flows", () => {
  const installed = indexFlows([classifier({ cookie: ROUND_1_POD_5, next: Tables.SpoofGuard }), l2("0a:00:00:00:00:05", 5)]);
  const desired = indexFlows([classifier({ cookie: ROUND_1_POD_5, next: Tables.ConntrackZone }), l2("0a:00:00:00:00:06", 6)]);
  const diff = diffFlows(installed, desired);
  assert.equal(diff.add.length, 1);
  assert.equal(diff.modify.length, 1);
  assert.equal(diff.remove.length, 1);
  assert.deepEqual(ofpPrint(diffMessages(diff)), [
    "DEL_STRICT table:9 priority=200,dl_dst=0a:00:00:00:00:05 actions=drop",
    "MOD_STRICT priority=190,in_port=5 actions=goto_table:3",
    "ADD table:9 priority=200,dl_dst=0a:00:00:00:00:06 cookie:0x1020000000005 actions=set_field:0a:00:00:00:00:01->eth_src,output:6",
  ]);
});

test("flow diff: new cookie is an add", () => {
  // modify_strict would keep the round-1 cookie on the switch, so the new round must add.
  const installed = indexFlows([classifier({ cookie: ROUND_1_POD_5, next: Tables.SpoofGuard })]);
  const desired = indexFlows([classifier({ cookie: ROUND_2_POD_5, next: Tables.ConntrackZone })]);
  const diff = diffFlows(installed, desired);
  assert.equal(diff.modify.length, 0);
  assert.equal(diff.remove.length, 0);
  assert.deepEqual(ofpPrint(diffMessages(diff)), ["ADD priority=190,in_port=5 cookie:0x2020000000005 actions=goto_table:3"]);
});

test("flow diff: equal flows give nothing", () => {
  const installed = indexFlows([classifier({ cookie: ROUND_1_POD_5, next: Tables.SpoofGuard }), l2("0a:00:00:00:00:05", 5)]);
  const desired = indexFlows([l2("0a:00:00:00:00:05", 5), classifier({ cookie: ROUND_1_POD_5, next: Tables.SpoofGuard })]);
  const diff = diffFlows(installed, desired);
  assert.ok(isEmptyDiff(diff));
  assert.deepEqual(diffMessages(diff), []);
});

test("flow diff: action byte change is a modify", () => {
  const installed = indexFlows([l2("0a:00:00:00:00:05", 5)]);
  const desired = indexFlows([l2("0a:00:00:00:00:05", 7)]);
  const diff = diffFlows(installed, desired);
  assert.deepEqual(ofpPrint(diffMessages(diff)), ["MOD_STRICT table:9 priority=200,dl_dst=0a:00:00:00:00:05 actions=set_field:0a:00:00:00:00:01->eth_src,output:7"]);
});

test("flow diff: empty installed adds all", () => {
  const desired = [classifier({ cookie: ROUND_1_POD_5, next: Tables.SpoofGuard }), l2("0a:00:00:00:00:05", 5)];
  const diff = diffFlows(new Map(), indexFlows(desired));
  assert.equal(diff.add.length, 2);
  assert.equal(diff.modify.length + diff.remove.length, 0);
});

test("flow diff: bundle file lines", () => {
  const installed = indexFlows([classifier({ cookie: ROUND_1_POD_5, next: Tables.SpoofGuard }), l2("0a:00:00:00:00:05", 5)]);
  const desired = indexFlows([classifier({ cookie: ROUND_1_POD_5, next: Tables.ConntrackZone }), l2("0a:00:00:00:00:06", 6)]);
  assert.deepEqual(diffText(diffFlows(installed, desired)), [
    "delete_strict table=9,priority=200,dl_dst=0a:00:00:00:00:05",
    "modify_strict cookie=0x1020000000005,table=0,priority=190,in_port=5 actions=goto_table:3",
    "add cookie=0x1020000000005,table=9,priority=200,dl_dst=0a:00:00:00:00:06 actions=set_field:0a:00:00:00:00:01->eth_src,output:6",
  ]);
});

test("flow diff: concatenation orders kinds", () => {
  const first = diffFlows(indexFlows([l2("0a:00:00:00:00:05", 5)]), indexFlows([l2("0a:00:00:00:00:05", 7)]));
  const second = diffFlows(indexFlows([l2("0a:00:00:00:00:06", 6)]), indexFlows([l2("0a:00:00:00:00:08", 8)]));
  const combined = concatDiffs([first, EMPTY_DIFF, second]);
  // Every delete comes before every modify, and every modify before every add.
  assert.deepEqual(ofpPrint(diffMessages(combined)), [
    "DEL_STRICT table:9 priority=200,dl_dst=0a:00:00:00:00:06 actions=drop",
    "MOD_STRICT table:9 priority=200,dl_dst=0a:00:00:00:00:05 actions=set_field:0a:00:00:00:00:01->eth_src,output:7",
    "ADD table:9 priority=200,dl_dst=0a:00:00:00:00:08 cookie:0x1020000000005 actions=set_field:0a:00:00:00:00:01->eth_src,output:8",
  ]);
});
