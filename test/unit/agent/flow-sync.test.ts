import { test } from "node:test";
import assert from "node:assert/strict";
import type { MessageBody, OpenFlowConnection } from "../../../openflow/index.ts";
import { formatMessage } from "../../../openflow/index.ts";
import { parseCidr } from "../../../controller/ipam/cidr.ts";
import { FlowSync } from "../../../agent/pipeline/flow-sync.ts";
import { tunnelPeerFlows, type NodeFlowContext } from "../../../agent/pipeline/flows.ts";

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
