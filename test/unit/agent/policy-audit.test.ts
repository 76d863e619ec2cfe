// Audit logging: the controller actions on allow and drop flows (as ovs-ofctl prints them,
// written by hand), the meter message, and packet-ins turned into records. Packets are byte
// literals built from the Ethernet, IPv4 and TCP header layouts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatFlow } from "../../../agent/pipeline/flow.ts";
import { AuditLog, auditMeterMessage, summarizePacket } from "../../../agent/policy/audit.ts";
import type { IdOwner } from "../../../agent/policy/enforcer.ts";
import { PolicyEnforcer } from "../../../agent/policy/enforcer.ts";
import type { NodeSlice } from "../../../controller/networkpolicy/types.ts";
import type { PacketIn2Message } from "../../../openflow/messages/types.ts";

const SELECTOR = { namespace: "shop", namespaceSelector: null, podSelector: [] };

function sliceWith(names: string[]): NodeSlice {
  return {
    nodeName: "node-1",
    generation: 1,
    policies: names.map((name) => ({
      id: `shop/${name}`,
      namespace: "shop",
      name,
      uid: "",
      appliedToGroup: "g",
      policyTypes: ["Ingress"],
      rules: [{ id: `shop/${name}/ingress/0`, direction: "Ingress", index: 0, peers: null, ports: [{ protocol: "TCP", port: name === "audited" ? 80 : 443 }] }],
    })),
    addressGroups: [],
    appliedToGroups: [{ id: "g", selector: SELECTOR, members: [{ namespace: "shop", name: "web", ips: ["10.244.1.5"], namedPorts: [] }] }],
  };
}

test("audit flows: controller actions", async () => {
  const enforcer = new PolicyEnforcer({ sender: { bundle: () => Promise.resolve() }, round: 1, audit: { meterId: 7, audited: (id) => id === "shop/audited" } });
  await enforcer.applySlice(sliceWith(["audited", "quiet"]));
  const lines = enforcer.installedFlows().map(formatFlow).filter((line) => line.includes("conj_id") || line.includes("priority=100"));
  assert.deepEqual(lines, [
    "cookie=0x1050000000001, table=IngressPolicy, priority=200,conj_id=1 actions=set_field:0x1->reg4,controller(max_len=128,userdata=00.00.00.01.01,meter_id=7),goto_table:11",
    "cookie=0x1050000000002, table=IngressPolicy, priority=200,conj_id=2 actions=set_field:0x2->reg4,goto_table:11",
    "cookie=0x1050000000003, table=IngressPolicy, priority=100,ip,nw_dst=10.244.1.5 actions=controller(max_len=128,userdata=00.00.00.03.01,meter_id=7)",
  ]);
});

test("audit flows: off by default", async () => {
  const enforcer = new PolicyEnforcer({ sender: { bundle: () => Promise.resolve() }, round: 1 });
  await enforcer.applySlice(sliceWith(["audited"]));
  assert.ok(enforcer.installedFlows().every((flow) => !formatFlow(flow).includes("controller")));
});

test("audit meter: packets per second", () => {
  assert.deepEqual(auditMeterMessage({ meterId: 7, packetsPerSecond: 100, burst: 20 }), {
    kind: "meter_mod",
    command: 0,
    // OFPMF_PKTPS 2 | OFPMF_BURST 4 | OFPMF_STATS 8.
    flags: 14,
    meterId: 7,
    bands: [{ type: 1, rate: 100, burstSize: 20 }],
  });
  assert.equal(auditMeterMessage({ meterId: 7, packetsPerSecond: 5, burst: 1, modify: true }).command, 1);
});

/** A TCP SYN from 10.244.2.7:40000 to 10.244.1.5:80, as bytes on the wire. */
const SYN = Buffer.from(
  [
    // Ethernet: destination, source, EtherType IPv4.
    "0a5800f40105", "0a5800f40207", "0800",
    // IPv4: version 4, IHL 5, TOS, total length 40, id, flags, TTL 64, protocol 6, checksum, addresses.
    "4500", "0028", "0000", "4000", "40", "06", "0000", "0af40207", "0af40105",
    // TCP: source port 40000 (0x9c40), destination port 80, sequence, ack, offset/flags SYN, window, checksum, urgent.
    "9c40", "0050", "00000000", "00000000", "5002", "ffff", "0000", "0000",
  ].join(""),
  "hex",
);

test("packet summary: TCP over IPv4", () => {
  assert.deepEqual(summarizePacket(SYN), { source: "10.244.2.7", destination: "10.244.1.5", protocol: 6, sourcePort: 40000, destinationPort: 80 });
  assert.equal(summarizePacket(SYN.subarray(0, 20)), undefined);
  assert.deepEqual(summarizePacket(SYN.subarray(0, 36)), { source: "10.244.2.7", destination: "10.244.1.5", protocol: 6 });
  const arp = Buffer.from(SYN);
  arp.writeUInt16BE(0x0806, 12);
  assert.equal(summarizePacket(arp), undefined);
});

test("audit log: allow and drop records", () => {
  const owners = new Map<number, IdOwner>([
    [1, { kind: "rule", ruleId: "shop/web/ingress/0", policyId: "shop/web", direction: "Ingress", key: "shop/web/ingress/0" }],
    [3, { kind: "isolation", pod: "shop/web", direction: "Ingress", address: "10.244.1.5/32", key: "Ingress/10.244.1.5" }],
  ]);
  const logged: Record<string, unknown>[] = [];
  const log = new AuditLog({ owner: (id) => owners.get(id), logger: { info: (_message, meta) => logged.push(meta ?? {}) } });
  const packetIn = (userdata: number[]): PacketIn2Message => ({ kind: "nx_packet_in2", version: 6, xid: 0, data: SYN, userdata: Buffer.from(userdata) });

  assert.deepEqual(log.handlePacketIn(packetIn([0, 0, 0, 1, 1])), {
    disposition: "allow",
    direction: "Ingress",
    ruleId: "shop/web/ingress/0",
    policyId: "shop/web",
    packet: { source: "10.244.2.7", destination: "10.244.1.5", protocol: 6, sourcePort: 40000, destinationPort: 80 },
  });
  assert.equal(log.handlePacketIn(packetIn([0, 0, 0, 3, 1]))?.pod, "shop/web");
  assert.equal(log.handlePacketIn(packetIn([0, 0, 0, 9, 1])), undefined, "unknown id");
  assert.equal(log.handlePacketIn(packetIn([1])), undefined, "userdata of another controller action");
  assert.equal(logged.length, 2);
  assert.equal(logged[1]?.disposition, "drop");
  assert.equal(logged[1]?.destinationPort, 80);
});

test("reject flows: drop flow to controller", async () => {
  const enforcer = new PolicyEnforcer({
    sender: { bundle: () => Promise.resolve() },
    round: 1,
    audit: { meterId: 7, audited: (id) => id === "shop/audited" },
    reject: { meterId: 8, rejected: (id) => id === "shop/quiet" },
  });
  await enforcer.applySlice(sliceWith(["quiet"]));
  assert.deepEqual(enforcer.installedFlows().map(formatFlow).filter((line) => line.includes("priority=100")), [
    "cookie=0x1050000000002, table=IngressPolicy, priority=100,ip,nw_dst=10.244.1.5 actions=controller(max_len=128,userdata=00.00.00.02.02,meter_id=8)",
  ]);
  await enforcer.applySlice(sliceWith(["audited", "quiet"]));
  assert.deepEqual(enforcer.installedFlows().map(formatFlow).filter((line) => line.includes("priority=100")), [
    "cookie=0x1050000000002, table=IngressPolicy, priority=100,ip,nw_dst=10.244.1.5 actions=controller(max_len=128,userdata=00.00.00.02.03,meter_id=8)",
  ]);
});

test("audit log: reject-only packet-in ignored", () => {
  const log = new AuditLog({ owner: () => ({ kind: "isolation", pod: "shop/web", direction: "Ingress", address: "10.244.1.5/32", key: "k" }), logger: { info: () => undefined } });
  const message: PacketIn2Message = { kind: "nx_packet_in2", version: 6, xid: 0, data: SYN, userdata: Buffer.from([0, 0, 0, 2, 0x02]) };
  assert.equal(log.handlePacketIn(message), undefined);
});
