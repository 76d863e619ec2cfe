// Bridge bootstrap and the pipeline against a real Open vSwitch in a namespace of its own:
// OVSDB state checked with ovs-vsctl, flows compared with `ovs-ofctl --names dump-flows`,
// forwarding checked with ofproto/trace and with ping between pod namespaces.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { OpenFlowConnection } from "../../../openflow/index.ts";
import { parseCidr } from "../../../common/net/cidr.ts";
import { bootstrapBridge, type BridgeLayout, type BridgePorts } from "../../../agent/bridge/bootstrap.ts";
import { FlowSync } from "../../../agent/pipeline/flow-sync.ts";
import { localFlows, pipelineFlows, podFlows, tunnelPeerFlows, type NodeFlowContext } from "../../../agent/pipeline/flows.ts";
import { addTestPod, deleteTestPods, dumpFlows, startTestNode, type TestNode, type TestPod } from "./fixture.ts";

const BRIDGE = "br-int";
const layout: BridgeLayout = {
  bridge: BRIDGE,
  datapathType: "netdev",
  gateway: { name: "sya-gw0", ofport: 2, mtu: 1450, mac: "0a:00:00:00:01:01" },
  tunnel: { name: "sya-tun0", ofport: 1, type: "geneve", destinationPort: 0, checksum: false },
};
const GATEWAY_IP = "10.244.1.1";
const PEER = { node: "n2", cidr: parseCidr("10.244.2.0/24"), transportIP: "192.168.77.12" };

let node: TestNode;
let ports: BridgePorts;
let connection: OpenFlowConnection;
let sync: FlowSync;
let context: NodeFlowContext;
const pods: TestPod[] = [];

before(async () => {
  node = await startTestNode("pl");
  ports = await bootstrapBridge(node.vswitch, layout, { timeoutMs: 10_000 });
  await node.exec(["ip", "addr", "add", `${GATEWAY_IP}/24`, "dev", "sya-gw0"]);
  await node.exec(["ip", "link", "set", "sya-gw0", "up"]);
  pods.push(await addTestPod(node, { tag: "pl1", bridge: BRIDGE, ofport: 11, mac: "0a:00:00:00:01:0b", ip: "10.244.1.11", prefixLength: 24, gateway: GATEWAY_IP }));
  pods.push(await addTestPod(node, { tag: "pl2", bridge: BRIDGE, ofport: 12, mac: "0a:00:00:00:01:0c", ip: "10.244.1.12", prefixLength: 24, gateway: GATEWAY_IP }));
  connection = await OpenFlowConnection.connect({ address: node.ovs.mgmtSocket(BRIDGE), reconnect: false });
  sync = new FlowSync({ connection });
  context = { round: 3, gateway: { ...ports.gateway, ip: GATEWAY_IP }, tunnel: ports.tunnel };
  await sync.setOwnerFlows("pipeline", pipelineFlows(context));
  await sync.setOwnerFlows("local", localFlows(context));
  for (const pod of pods) await sync.setOwnerFlows(`pod:${pod.ofport}`, podFlows(context, { ofport: pod.ofport, mac: pod.mac, ips: [pod.ip] }));
  await sync.setOwnerFlows("node:n2", tunnelPeerFlows(context, PEER));
});

after(async () => {
  await connection?.close();
  await deleteTestPods(pods);
  await node?.cleanup();
});

async function vsctlGet(table: string, record: string, column: string): Promise<string> {
  return (await node.ovs.vsctl(["get", table, record, column])).trim();
}

async function trace(flowText: string): Promise<string> {
  return node.exec(["ovs-appctl", "-t", node.ovs.vswitchdCtl, "ofproto/trace", BRIDGE, flowText, "--ct-next", "trk,new"]);
}

test("bootstrap: bridge settings", async () => {
  assert.equal(await vsctlGet("bridge", BRIDGE, "datapath_type"), "netdev");
  assert.equal(await vsctlGet("bridge", BRIDGE, "protocols"), "[OpenFlow13, OpenFlow15]");
  assert.equal(await vsctlGet("bridge", BRIDGE, "fail_mode"), "secure");
  assert.equal(await vsctlGet("bridge", BRIDGE, "external_ids:switchyard-owner"), "switchyard-agent");
});

test("bootstrap: gateway and tunnel ports", async () => {
  assert.equal(await vsctlGet("interface", "sya-gw0", "type"), "internal");
  assert.equal(await vsctlGet("interface", "sya-gw0", "ofport"), "2");
  assert.equal(await vsctlGet("interface", "sya-gw0", "mtu_request"), "1450");
  assert.equal(await vsctlGet("port", "sya-gw0", "external_ids:switchyard-port-type"), "gateway");
  assert.equal(await vsctlGet("interface", "sya-tun0", "type"), "geneve");
  assert.equal(await vsctlGet("interface", "sya-tun0", "ofport"), "1");
  assert.equal(await vsctlGet("interface", "sya-tun0", "options"), '{csum="false", dst_port="6081", key=flow, remote_ip=flow}');
  assert.equal(await vsctlGet("interface", "sya-tun0", "external_ids:switchyard-port-type"), "tunnel");
  assert.equal(await vsctlGet("interface", "sya-gw0", "mac_in_use"), '"0a:00:00:00:01:01"');
  assert.equal(ports.gateway.mac, "0a:00:00:00:01:01");
});

test("bootstrap: table names in Flow_Table", async () => {
  const text = await node.ovs.vsctl(["--format=csv", "--no-headings", "--columns=name", "list", "Flow_Table"]);
  const names = text.split("\n").filter((line) => line !== "").sort();
  assert.deepEqual(names, [
    "ARPResponder", "Classifier", "ConntrackCommit", "ConntrackState", "ConntrackZone", "EgressPolicy",
    "IngressPolicy", "L2Forwarding", "L3DecTTL", "L3Forwarding", "Output", "ServiceHook", "SpoofGuard",
  ]);
});

test("bootstrap: second run changes nothing", async () => {
  const portsBefore = (await node.ovs.vsctl(["list-ports", BRIDGE])).trim();
  const again = await bootstrapBridge(node.vswitch, layout, { timeoutMs: 10_000 });
  assert.deepEqual(again, ports);
  assert.equal((await node.ovs.vsctl(["list-ports", BRIDGE])).trim(), portsBefore);
});

test("flows: dump-flows shows the pipeline", async () => {
  const gw = ports.gateway.mac;
  const expected = [
    "cookie=0x3010000000000, table=Classifier, priority=0 actions=drop",
    "cookie=0x3010000000000, table=SpoofGuard, priority=0 actions=drop",
    "cookie=0x3010000000000, table=ARPResponder, priority=190,arp actions=NORMAL",
    "cookie=0x3010000000000, table=ARPResponder, priority=0 actions=drop",
    "cookie=0x3010000000000, table=ConntrackZone, priority=200,ip actions=ct(table=ConntrackState,zone=65520)",
    "cookie=0x3010000000000, table=ConntrackZone, priority=0 actions=drop",
    "cookie=0x3010000000000, table=ConntrackState, priority=200,ct_state=+inv+trk,ip actions=drop",
    "cookie=0x3010000000000, table=ConntrackState, priority=0 actions=goto_table:ServiceHook",
    "cookie=0x3010000000000, table=ServiceHook, priority=0 actions=goto_table:EgressPolicy",
    "cookie=0x3010000000000, table=EgressPolicy, priority=0 actions=goto_table:L3Forwarding",
    "cookie=0x3010000000000, table=L3Forwarding, priority=0 actions=goto_table:L2Forwarding",
    "cookie=0x3010000000000, table=L3DecTTL, priority=0,ip actions=dec_ttl,goto_table:L2Forwarding",
    "cookie=0x3010000000000, table=L2Forwarding, priority=0 actions=goto_table:IngressPolicy",
    "cookie=0x3010000000000, table=IngressPolicy, priority=0 actions=goto_table:ConntrackCommit",
    "cookie=0x3010000000000, table=ConntrackCommit, priority=200,ct_state=+new+trk,ip actions=ct(commit,zone=65520,exec(move:NXM_NX_REG0[0..3]->NXM_NX_CT_MARK[0..3],move:NXM_NX_REG3[]->NXM_NX_CT_LABEL[0..31],move:NXM_NX_REG4[]->NXM_NX_CT_LABEL[32..63])),goto_table:Output",
    "cookie=0x3010000000000, table=ConntrackCommit, priority=0 actions=goto_table:Output",
    "cookie=0x3010000000000, table=Output, priority=200,reg0=0x100/0x100 actions=output:NXM_NX_REG1[]",
    "cookie=0x3010000000000, table=Output, priority=0 actions=drop",
    `cookie=0x3040000000000, table=Classifier, priority=200,in_port="sya-gw0" actions=set_field:0x1/0xf->reg0,goto_table:SpoofGuard`,
    `cookie=0x3040000000000, table=Classifier, priority=200,in_port="sya-tun0" actions=set_field:0x2/0xf->reg0,goto_table:ConntrackZone`,
    `cookie=0x3040000000000, table=SpoofGuard, priority=200,ip,in_port="sya-gw0" actions=goto_table:ConntrackZone`,
    `cookie=0x3040000000000, table=SpoofGuard, priority=200,arp,in_port="sya-gw0" actions=goto_table:ARPResponder`,
    `cookie=0x3040000000000, table=ARPResponder, priority=200,arp,reg0=0x3/0xf,arp_tpa=10.244.1.1,arp_op=1 actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],set_field:${gw}->eth_src,set_field:2->arp_op,move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],set_field:${gw}->arp_sha,move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],set_field:10.244.1.1->arp_spa,IN_PORT`,
    `cookie=0x3040000000000, table=L3Forwarding, priority=200,ip,dl_dst=aa:bb:cc:dd:ee:ff,nw_dst=10.244.1.1 actions=set_field:${gw}->eth_dst,goto_table:L3DecTTL`,
    `cookie=0x3040000000000, table=L2Forwarding, priority=200,dl_dst=${gw} actions=set_field:0x2->reg1,set_field:0x100/0x100->reg0,goto_table:IngressPolicy`,
    "cookie=0x3040000000000, table=L2Forwarding, priority=200,dl_dst=aa:bb:cc:dd:ee:ff actions=set_field:0x1->reg1,set_field:0x100/0x100->reg0,goto_table:IngressPolicy",
    "cookie=0x302000000000b, table=Classifier, priority=190,in_port=syapl1h actions=set_field:0x3/0xf->reg0,goto_table:SpoofGuard",
    "cookie=0x302000000000b, table=SpoofGuard, priority=200,ip,in_port=syapl1h,dl_src=0a:00:00:00:01:0b,nw_src=10.244.1.11 actions=goto_table:ConntrackZone",
    "cookie=0x302000000000b, table=SpoofGuard, priority=200,arp,in_port=syapl1h,dl_src=0a:00:00:00:01:0b,arp_spa=10.244.1.11,arp_sha=0a:00:00:00:01:0b actions=goto_table:ARPResponder",
    `cookie=0x302000000000b, table=L3Forwarding, priority=200,ip,dl_dst=aa:bb:cc:dd:ee:ff,nw_dst=10.244.1.11 actions=set_field:${gw}->eth_src,set_field:0a:00:00:00:01:0b->eth_dst,goto_table:L3DecTTL`,
    "cookie=0x302000000000b, table=L2Forwarding, priority=200,dl_dst=0a:00:00:00:01:0b actions=set_field:0xb->reg1,set_field:0x100/0x100->reg0,goto_table:IngressPolicy",
    "cookie=0x302000000000c, table=Classifier, priority=190,in_port=syapl2h actions=set_field:0x3/0xf->reg0,goto_table:SpoofGuard",
    "cookie=0x302000000000c, table=SpoofGuard, priority=200,ip,in_port=syapl2h,dl_src=0a:00:00:00:01:0c,nw_src=10.244.1.12 actions=goto_table:ConntrackZone",
    "cookie=0x302000000000c, table=SpoofGuard, priority=200,arp,in_port=syapl2h,dl_src=0a:00:00:00:01:0c,arp_spa=10.244.1.12,arp_sha=0a:00:00:00:01:0c actions=goto_table:ARPResponder",
    `cookie=0x302000000000c, table=L3Forwarding, priority=200,ip,dl_dst=aa:bb:cc:dd:ee:ff,nw_dst=10.244.1.12 actions=set_field:${gw}->eth_src,set_field:0a:00:00:00:01:0c->eth_dst,goto_table:L3DecTTL`,
    "cookie=0x302000000000c, table=L2Forwarding, priority=200,dl_dst=0a:00:00:00:01:0c actions=set_field:0xc->reg1,set_field:0x100/0x100->reg0,goto_table:IngressPolicy",
    // Owner 0x0735e0b9: FNV-1a 32 of "n2".
    `cookie=0x303000735e0b9, table=L3Forwarding, priority=200,ip,nw_dst=10.244.2.0/24 actions=set_field:${gw}->eth_src,set_field:aa:bb:cc:dd:ee:ff->eth_dst,set_field:192.168.77.12->tun_dst,goto_table:L3DecTTL`,
  ];
  assert.deepEqual(await dumpFlows(node, BRIDGE), expected.sort());
});

test("trace: local pod to pod", async () => {
  const [a, b] = pods as [TestPod, TestPod];
  const output = await trace(`in_port=${a.port},ip,dl_src=${a.mac},dl_dst=${b.mac},nw_src=${a.ip},nw_dst=${b.ip},nw_ttl=64`);
  assert.match(output, /-> output port is 12\n/);
});

test("trace: pod to remote pod", async () => {
  const [a] = pods as [TestPod];
  const output = await trace(`in_port=${a.port},ip,dl_src=${a.mac},dl_dst=${ports.gateway.mac},nw_src=${a.ip},nw_dst=10.244.2.5,nw_ttl=64`);
  assert.match(output, /-> output port is 1\n/);
  assert.match(output, /Final flow: .*tun_dst=192\.168\.77\.12,.*dl_src=[0-9a-f:]+,dl_dst=aa:bb:cc:dd:ee:ff,.*nw_ttl=63/);
});

test("trace: pod to gateway", async () => {
  const [a] = pods as [TestPod];
  const output = await trace(`in_port=${a.port},ip,dl_src=${a.mac},dl_dst=${ports.gateway.mac},nw_src=${a.ip},nw_dst=${GATEWAY_IP},nw_ttl=64`);
  assert.match(output, /-> output port is 2\n/);
});

test("trace: tunnel to local pod rewrites MACs", async () => {
  const [a] = pods as [TestPod];
  const output = await trace(`in_port=sya-tun0,tun_src=192.168.77.12,tun_dst=192.168.77.11,ip,dl_src=${ports.gateway.mac},dl_dst=aa:bb:cc:dd:ee:ff,nw_src=10.244.2.5,nw_dst=${a.ip},nw_ttl=63`);
  assert.match(output, /-> output port is 11\n/);
  assert.match(output, new RegExp(`Final flow: .*dl_src=${ports.gateway.mac},dl_dst=${a.mac},.*nw_ttl=62`));
});

test("trace: spoofed source dropped", async () => {
  const [a, b] = pods as [TestPod, TestPod];
  const output = await trace(`in_port=${a.port},ip,dl_src=${a.mac},dl_dst=${b.mac},nw_src=10.244.1.99,nw_dst=${b.ip},nw_ttl=64`);
  assert.doesNotMatch(output, /output port is/);
  assert.match(output, /Datapath actions: drop/);
  const forgedMac = await trace(`in_port=${a.port},ip,dl_src=0a:00:00:00:09:09,dl_dst=${b.mac},nw_src=${a.ip},nw_dst=${b.ip},nw_ttl=64`);
  assert.match(forgedMac, /Datapath actions: drop/);
});

test("trace: ARP for gateway answered", async () => {
  const [a] = pods as [TestPod];
  const output = await trace(`in_port=${a.port},arp,dl_src=${a.mac},dl_dst=ff:ff:ff:ff:ff:ff,arp_op=1,arp_spa=${a.ip},arp_sha=${a.mac},arp_tpa=${GATEWAY_IP}`);
  assert.match(output, new RegExp(`Final flow: arp,.*dl_src=${ports.gateway.mac},dl_dst=${a.mac},arp_spa=10\\.244\\.1\\.1,arp_tpa=${a.ip.replaceAll(".", "\\.")},arp_op=2,arp_sha=${ports.gateway.mac},arp_tha=${a.mac}`));
});

test("flows: pod removed and added as a whole", async () => {
  const [, b] = pods as [TestPod, TestPod];
  const podCookie = "cookie=0x302000000000c,";
  await sync.removeOwner(`pod:${b.ofport}`);
  assert.equal((await dumpFlows(node, BRIDGE)).filter((line) => line.startsWith(podCookie)).length, 0);
  await sync.setOwnerFlows(`pod:${b.ofport}`, podFlows(context, { ofport: b.ofport, mac: b.mac, ips: [b.ip] }));
  assert.equal((await dumpFlows(node, BRIDGE)).filter((line) => line.startsWith(podCookie)).length, 5);
});

test("traffic: ping pod to pod and gateway", async () => {
  const [a, b] = pods as [TestPod, TestPod];
  const ping = (target: string) => node.exec(["ip", "netns", "exec", a.netns, "ping", "-c", "2", "-i", "0.2", "-W", "2", target]);
  assert.match(await ping(b.ip), / 0% packet loss/);
  assert.match(await ping(GATEWAY_IP), / 0% packet loss/);
});
