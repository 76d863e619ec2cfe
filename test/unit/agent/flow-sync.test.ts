import { test } from "node:test";
import assert from "node:assert/strict";
import type { MessageBody, OpenFlowConnection } from "../../../openflow/index.ts";
import { formatMessage } from "../../../openflow/index.ts";
import { parseCidr } from "../../../common/net/cidr.ts";
import { FlowSync } from "../../../agent/pipeline/flow-sync.ts";
import { podFlows, tunnelPeerFlows, type NodeFlowContext } from "../../../agent/pipeline/flows.ts";

/** Records bundles instead of sending them; `fail` makes the next bundle reject. */
class RecordingConnection {
  readonly bundles: string[][] = [];
  fail = false;

  async bundle(messages: readonly MessageBody[]): Promise<void> {
    if (this.fail) {
      this.fail = false;
      throw new Error("bundle rejected");
    }
    this.bundles.push(messages.map((message) => formatMessage({ ...message, version: 6, xid: 0 } as Parameters<typeof formatMessage>[0]).split("\n")[0] ?? ""));
  }
}

const context: NodeFlowContext = { round: 1, gateway: { ofport: 2, mac: "0a:00:00:00:00:01", ip: "10.244.1.1" }, tunnel: { ofport: 1 } };
const peer = (node: string, ip: string) => tunnelPeerFlows(context, { node, cidr: parseCidr("10.244.2.0/24"), transportIP: ip });

function setup(): { connection: RecordingConnection; sync: FlowSync } {
  const connection = new RecordingConnection();
  return { connection, sync: new FlowSync({ connection: connection as unknown as OpenFlowConnection }) };
}

test("flow sync: unchanged flows send nothing", async () => {
  const { connection, sync } = setup();
  await sync.setOwnerFlows("node:n2", peer("n2", "192.168.1.12"));
  await sync.setOwnerFlows("node:n2", peer("n2", "192.168.1.12"));
  assert.equal(connection.bundles.length, 1);
  assert.equal(connection.bundles[0]?.length, 1);
  assert.match(connection.bundles[0]?.[0] ?? "", /ADD table:7 priority=200,ip,nw_dst=10\.244\.2\.0\/24/);
});

test("flow sync: owner change deletes before adding", async () => {
  const { connection, sync } = setup();
  await sync.setOwnerFlows("node:n2", peer("n2", "192.168.1.12"));
  await sync.setOwnersFlows(new Map([["node:n3", peer("n3", "192.168.1.13")], ["node:n2", []]]));
  const last = connection.bundles[1] ?? [];
  assert.equal(last.length, 2);
  assert.match(last[0] ?? "", /DEL_STRICT table:7 priority=200,ip,nw_dst=10\.244\.2\.0\/24/);
  assert.match(last[1] ?? "", /ADD table:7 priority=200,ip,nw_dst=10\.244\.2\.0\/24 .*192\.168\.1\.13->tun_dst/);
  assert.deepEqual(sync.owners(), ["node:n3"]);
});

test("flow sync: failed bundle keeps the cache", async () => {
  const { connection, sync } = setup();
  await sync.setOwnerFlows("node:n2", peer("n2", "192.168.1.12"));
  connection.fail = true;
  await assert.rejects(sync.removeOwner("node:n2"), /bundle rejected/);
  assert.equal(sync.flows("node:n2").length, 1);
  await sync.replay();
  assert.equal(connection.bundles.at(-1)?.length, 1);
  assert.match(connection.bundles.at(-1)?.[0] ?? "", /ADD table:7/);
});

test("flow sync: delete round by cookie mask", async () => {
  const { connection, sync } = setup();
  await sync.deleteRound(7);
  assert.match(connection.bundles[0]?.[0] ?? "", /DEL .*cookie:0x7000000000000\/0xffff000000000000/);
});

test("flow sync: changed actions modify in place", async () => {
  const { connection, sync } = setup();
  await sync.setOwnerFlows("node:n2", peer("n2", "192.168.1.12"));
  await sync.setOwnerFlows("node:n2", peer("n2", "192.168.1.13"));
  const last = connection.bundles[1] ?? [];
  assert.equal(last.length, 1);
  // Same cookie, other tun_dst: MODIFY_STRICT, which keeps the installed flow's duration and cookie.
  assert.match(last[0] ?? "", /MOD_STRICT table:7 priority=200,ip,nw_dst=10\.244\.2\.0\/24 .*192\.168\.1\.13->tun_dst/);
});

test("flow sync: new round cookie adds", async () => {
  const { connection, sync } = setup();
  await sync.setOwnerFlows("node:n2", peer("n2", "192.168.1.12"));
  const round2: NodeFlowContext = { ...context, round: 2 };
  await sync.setOwnerFlows("node:n2", tunnelPeerFlows(round2, { node: "n2", cidr: parseCidr("10.244.2.0/24"), transportIP: "192.168.1.12" }));
  const last = connection.bundles[1] ?? [];
  assert.equal(last.length, 1);
  // Round 2 in bits 63..48, category 3 (node) in bits 47..40, the node name's hash in bits 31..0.
  assert.match(last[0] ?? "", /^OFPT_FLOW_MOD .*ADD table:7 priority=200,ip,nw_dst=10\.244\.2\.0\/24 cookie:0x20300[0-9a-f]{8} /);
});

test("flow sync: many owners in one bundle", async () => {
  const { connection, sync } = setup();
  const pods = [5, 6, 7].map((ofport) => podFlows(context, { ofport, mac: `0a:00:00:00:00:0${ofport}`, ips: [`10.244.1.${ofport}`] }));
  await sync.setOwnersFlows(new Map(pods.map((flows, index) => [`pod:${index + 5}`, flows])));
  assert.equal(connection.bundles.length, 1);
  // Five flows per pod: Classifier, two SpoofGuard (IP and ARP), L3Forwarding, L2Forwarding.
  assert.equal(connection.bundles[0]?.length, 15);
  assert.ok(connection.bundles[0]?.every((line) => / ADD /.test(line)));
  assert.deepEqual(sync.owners(), ["pod:5", "pod:6", "pod:7"]);
});

test("flow sync: failed multi-owner bundle keeps all", async () => {
  const { connection, sync } = setup();
  await sync.setOwnerFlows("node:n2", peer("n2", "192.168.1.12"));
  connection.fail = true;
  const pod = podFlows(context, { ofport: 5, mac: "0a:00:00:00:00:05", ips: ["10.244.1.5"] });
  await assert.rejects(sync.setOwnersFlows(new Map([["node:n2", []], ["pod:5", pod]])), /bundle rejected/);
  assert.deepEqual(sync.owners(), ["node:n2"]);
  assert.equal(sync.flows("pod:5").length, 0);
});

test("flow sync: event names a few owners", async () => {
  const connection = new RecordingConnection();
  const events: { owner: string; messages: number }[] = [];
  const sync = new FlowSync({ connection: connection as unknown as OpenFlowConnection, onSync: (event) => events.push(event) });
  const owners = new Map([5, 6, 7, 8, 9, 10].map((ofport) => [`pod:${ofport}`, podFlows(context, { ofport, mac: "0a:00:00:00:00:05", ips: [`10.244.1.${ofport}`] })]));
  await sync.setOwnersFlows(owners);
  assert.equal(events.length, 1);
  assert.equal(events[0]?.owner, "pod:5,pod:6,pod:7,pod:8,... (6 owners)");
  assert.equal(events[0]?.messages, 30);
});
