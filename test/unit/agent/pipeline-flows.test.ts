// Flow generation compared as ovs-ofctl text. The expected lines are written by hand in the
// form `ovs-ofctl -O OpenFlow15 --no-stats dump-flows` prints (table names in table=, numbers
// elsewhere), from the pipeline's design in docs/pipeline.md.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCidr } from "../../../common/net/cidr.ts";
import { formatFlow } from "../../../agent/pipeline/flow.ts";
import { localFlows, pipelineFlows, podFlows, tunnelPeerFlows, type NodeFlowContext } from "../../../agent/pipeline/flows.ts";
import { PIPELINE, Tables, tableNamesById } from "../../../agent/pipeline/tables.ts";

const context: NodeFlowContext = {
  round: 3,
  gateway: { ofport: 2, mac: "0a:00:00:00:00:01", ip: "10.244.1.1" },
  tunnel: { ofport: 1 },
};

test("pipeline flows: table-miss of every table", () => {
  const lines = pipelineFlows(context).map(formatFlow);
  assert.deepEqual(lines, [
    "cookie=0x3010000000000, table=Classifier, priority=0 actions=drop",
    "cookie=0x3010000000000, table=SpoofGuard, priority=0 actions=drop",
    "cookie=0x3010000000000, table=ARPResponder, priority=190,arp actions=NORMAL",
    "cookie=0x3010000000000, table=ARPResponder, priority=0 actions=drop",
    "cookie=0x3010000000000, table=ConntrackZone, priority=200,ip actions=ct(table=4,zone=65520)",
    "cookie=0x3010000000000, table=ConntrackZone, priority=0 actions=drop",
    "cookie=0x3010000000000, table=ConntrackState, priority=200,ct_state=+inv+trk,ip actions=drop",
    "cookie=0x3010000000000, table=ConntrackState, priority=0 actions=goto_table:5",
    "cookie=0x3010000000000, table=ServiceHook, priority=0 actions=goto_table:6",
    "cookie=0x3010000000000, table=EgressPolicy, priority=0 actions=goto_table:7",
    "cookie=0x3010000000000, table=L3Forwarding, priority=0 actions=goto_table:9",
    "cookie=0x3010000000000, table=L3DecTTL, priority=0,ip actions=dec_ttl,goto_table:9",
    "cookie=0x3010000000000, table=L2Forwarding, priority=0 actions=goto_table:10",
    "cookie=0x3010000000000, table=IngressPolicy, priority=0 actions=goto_table:11",
    "cookie=0x3010000000000, table=ConntrackCommit, priority=200,ct_state=+new+trk,ip actions=ct(commit,zone=65520,exec(move:NXM_NX_REG0[0..3]->NXM_NX_CT_MARK[0..3],move:NXM_NX_REG3[]->NXM_NX_CT_LABEL[0..31],move:NXM_NX_REG4[]->NXM_NX_CT_LABEL[32..63])),goto_table:12",
    "cookie=0x3010000000000, table=ConntrackCommit, priority=0 actions=goto_table:12",
    "cookie=0x3010000000000, table=Output, priority=200,reg0=0x100/0x100 actions=output:NXM_NX_REG1[]",
    "cookie=0x3010000000000, table=Output, priority=0 actions=drop",
  ]);
});

test("local flows: gateway and tunnel", () => {
  const lines = localFlows(context).map(formatFlow);
  assert.deepEqual(lines, [
    "cookie=0x3040000000000, table=Classifier, priority=200,in_port=2 actions=set_field:0x1/0xf->reg0,goto_table:1",
    "cookie=0x3040000000000, table=SpoofGuard, priority=200,ip,in_port=2 actions=goto_table:3",
    "cookie=0x3040000000000, table=SpoofGuard, priority=200,arp,in_port=2 actions=goto_table:2",
    "cookie=0x3040000000000, table=ARPResponder, priority=200,arp,reg0=0x3/0xf,arp_tpa=10.244.1.1,arp_op=1 actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:0a:00:00:00:00:01->eth_src,set_field:2->arp_op,move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],set_field:0a:00:00:00:00:01->arp_sha,move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],set_field:10.244.1.1->arp_spa,IN_PORT",
    "cookie=0x3040000000000, table=L2Forwarding, priority=200,dl_dst=0a:00:00:00:00:01 actions=set_field:0x2->reg1,set_field:0x100/0x100->reg0,goto_table:10",
    "cookie=0x3040000000000, table=Classifier, priority=200,in_port=1 actions=set_field:0x2/0xf->reg0,goto_table:3",
    "cookie=0x3040000000000, table=L3Forwarding, priority=200,ip,dl_dst=aa:bb:cc:dd:ee:ff,nw_dst=10.244.1.1 actions=set_field:0a:00:00:00:00:01->eth_dst,goto_table:8",
    "cookie=0x3040000000000, table=L2Forwarding, priority=200,dl_dst=aa:bb:cc:dd:ee:ff actions=set_field:0x1->reg1,set_field:0x100/0x100->reg0,goto_table:10",
  ]);
});

test("local flows: noEncap has no tunnel flows", () => {
  const lines = localFlows({ round: 1, gateway: context.gateway }).map(formatFlow);
  assert.equal(lines.length, 5);
  assert.ok(lines.every((line) => !line.includes("aa:bb:cc:dd:ee:ff") && !line.includes("in_port=1 ")));
});

test("pod flows: spoof guard, L3 and L2", () => {
  const lines = podFlows(context, { ofport: 5, mac: "0a:00:00:00:00:05", ips: ["10.244.1.5"] }).map(formatFlow);
  assert.deepEqual(lines, [
    "cookie=0x3020000000005, table=Classifier, priority=190,in_port=5 actions=set_field:0x3/0xf->reg0,goto_table:1",
    "cookie=0x3020000000005, table=SpoofGuard, priority=200,ip,in_port=5,dl_src=0a:00:00:00:00:05,nw_src=10.244.1.5 actions=goto_table:3",
    "cookie=0x3020000000005, table=SpoofGuard, priority=200,arp,in_port=5,dl_src=0a:00:00:00:00:05,arp_spa=10.244.1.5,arp_sha=0a:00:00:00:00:05 actions=goto_table:2",
    "cookie=0x3020000000005, table=L3Forwarding, priority=200,ip,dl_dst=aa:bb:cc:dd:ee:ff,nw_dst=10.244.1.5 actions=set_field:0a:00:00:00:00:01->eth_src,set_field:0a:00:00:00:00:05->eth_dst,goto_table:8",
    "cookie=0x3020000000005, table=L2Forwarding, priority=200,dl_dst=0a:00:00:00:00:05 actions=set_field:0x5->reg1,set_field:0x100/0x100->reg0,goto_table:10",
  ]);
});

test("peer flows: tunnel toward a remote CIDR", () => {
  // Owner 0x0735e0b9 is FNV-1a 32 of "n2", computed with a separate Python script.
  const lines = tunnelPeerFlows(context, { node: "n2", cidr: parseCidr("10.244.2.0/24"), transportIP: "192.168.77.12" }).map(formatFlow);
  assert.deepEqual(lines, [
    "cookie=0x303000735e0b9, table=L3Forwarding, priority=200,ip,nw_dst=10.244.2.0/24 actions=set_field:0a:00:00:00:00:01->eth_src,set_field:aa:bb:cc:dd:ee:ff->eth_dst,set_field:192.168.77.12->tun_dst,goto_table:8",
  ]);
});

test("pipeline tables: ids ascend from 0 and names are unique", () => {
  assert.deepEqual(
    PIPELINE.map((entry) => entry.id),
    PIPELINE.map((_, index) => index),
  );
  assert.equal(new Set(PIPELINE.map((entry) => entry.name)).size, PIPELINE.length);
  assert.equal(tableNamesById()[Tables.Output.id], "Output");
});

test("node with pods and peers: flows per table", () => {
  const pods = [1, 2, 3].map((n) => ({ ofport: 10 + n, mac: `0a:00:00:00:01:0${n}`, ips: [`10.244.1.${10 + n}`] }));
  const peers = ["n2", "n3"].map((name, index) => ({ node: name, cidr: parseCidr(`10.244.${index + 2}.0/24`), transportIP: `192.168.77.${index + 12}` }));
  const all = [...pipelineFlows(context), ...localFlows(context), ...pods.flatMap((pod) => podFlows(context, pod)), ...peers.flatMap((peer) => tunnelPeerFlows(context, peer))];
  const counts = new Map<string, number>();
  for (const entry of all) counts.set(entry.table.name, (counts.get(entry.table.name) ?? 0) + 1);
  // Per table: defaults + gateway/tunnel + 3 pods + 2 peers, from the flow design.
  assert.equal(counts.get("Classifier"), 1 + 2 + 3);
  assert.equal(counts.get("SpoofGuard"), 1 + 2 + 6);
  assert.equal(counts.get("L3Forwarding"), 1 + 1 + 3 + 2);
  assert.equal(counts.get("L2Forwarding"), 1 + 2 + 3);
  assert.equal(all.length, 18 + 8 + 15 + 2);
});

test("pod flows: IPv6 addresses get no flows yet", () => {
  const lines = podFlows(context, { ofport: 6, mac: "0a:00:00:00:00:06", ips: ["10.244.1.6", "fd00:10:244:1::6"] }).map(formatFlow);
  assert.equal(lines.length, 5);
  assert.ok(lines.every((line) => !line.includes("fd00")));
});
