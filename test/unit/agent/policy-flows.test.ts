// NetworkPolicy rules translated into flows of the policy tables, compared as the lines
// `ovs-ofctl -O OpenFlow15 --no-stats dump-flows` prints (table names in table=). Expected
// lines are written by hand from the flow layout in docs/policy-enforcement.md.
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatFlow, type PipelineFlow } from "../../../agent/pipeline/flow.ts";
import { baseFlows, buildPolicyFlows } from "../../../agent/policy/policy-flows.ts";
import { planSlice } from "../../../agent/policy/rule-plan.ts";
import type { AddressGroup, AppliedToGroup, AppliedToMember, InternalPolicy, NodeSlice, PolicyRule } from "../../../controller/networkpolicy/types.ts";

const SELECTOR = { namespace: "shop", namespaceSelector: null, podSelector: [] };

function pod(name: string, ip: string, namedPorts: AppliedToMember["namedPorts"] = []): AppliedToMember {
  return { namespace: "shop", name, ips: [ip], namedPorts };
}

function appliedTo(id: string, members: AppliedToMember[]): AppliedToGroup {
  return { id, selector: SELECTOR, members };
}

function addresses(id: string, ips: string[]): AddressGroup {
  return { id, selector: SELECTOR, members: ips.map((ip) => ({ ip, namedPorts: [] })) };
}

function policy(options: { name: string; group: string; types: InternalPolicy["policyTypes"]; rules: Omit<PolicyRule, "id" | "index">[] }): InternalPolicy {
  const id = `shop/${options.name}/uid-${options.name}`;
  const counters = { Ingress: 0, Egress: 0 };
  const rules = options.rules.map((rule) => {
    const index = counters[rule.direction]++;
    return { ...rule, id: `${id}/${rule.direction.toLowerCase()}/${index}`, index };
  });
  return { id, namespace: "shop", name: options.name, uid: `uid-${options.name}`, appliedToGroup: options.group, policyTypes: options.types, rules };
}

function slice(parts: { policies: InternalPolicy[]; addressGroups?: AddressGroup[]; appliedToGroups: AppliedToGroup[] }): NodeSlice {
  return { nodeName: "node-1", generation: 1, policies: parts.policies, addressGroups: parts.addressGroups ?? [], appliedToGroups: parts.appliedToGroups };
}

/** Builds the flows of a slice, giving conjunctions ids 1, 2, ... and isolation flows ids from 101. */
function flowsOf(input: NodeSlice): PipelineFlow[] {
  const plan = planSlice(input);
  return buildPolicyFlows({
    round: 1,
    conjunctions: plan.conjunctions.map((entry, index) => ({ plan: entry, id: index + 1 })),
    isolation: plan.isolation.map((entry, index) => ({ plan: entry, id: 101 + index })),
  });
}

const lines = (flows: PipelineFlow[]): string[] => flows.map(formatFlow);

test("base flows: established bypass", () => {
  assert.deepEqual(lines(baseFlows(1)), [
    "cookie=0x1050000000000, table=EgressPolicy, priority=210,ct_state=-new+est+trk,ip actions=goto_table:7",
    "cookie=0x1050000000000, table=EgressPolicy, priority=210,ct_state=+rel+trk,ip actions=goto_table:7",
    "cookie=0x1050000000000, table=IngressPolicy, priority=210,ct_state=-new+est+trk,ip actions=goto_table:11",
    "cookie=0x1050000000000, table=IngressPolicy, priority=210,ct_state=+rel+trk,ip actions=goto_table:11",
  ]);
});

test("ingress rule: three clauses", () => {
  const input = slice({
    policies: [
      policy({
        name: "web",
        group: "g-web",
        types: ["Ingress"],
        rules: [{ direction: "Ingress", peers: { addressGroups: ["a-client"], ipBlocks: [{ cidr: "192.168.1.0/24", except: [] }] }, ports: [{ protocol: "TCP", port: 80 }, { protocol: "UDP", port: 5000, endPort: 5003 }] }],
      }),
    ],
    addressGroups: [addresses("a-client", ["10.244.2.7", "10.244.1.9"])],
    appliedToGroups: [appliedTo("g-web", [pod("web-1", "10.244.1.5")])],
  });
  assert.deepEqual(lines(flowsOf(input)), [
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_dst=10.244.1.5 actions=conjunction(1,1/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_src=10.244.1.9 actions=conjunction(1,2/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_src=10.244.2.7 actions=conjunction(1,2/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_src=192.168.1.0/24 actions=conjunction(1,2/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,tcp,tp_dst=80 actions=conjunction(1,3/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,udp,tp_dst=0x1388/0xfffc actions=conjunction(1,3/3)",
    "cookie=0x1050000000001, table=IngressPolicy, priority=200,conj_id=1 actions=set_field:0x1->reg4,goto_table:11",
    "cookie=0x1050000000065, table=IngressPolicy, priority=100,ip,nw_dst=10.244.1.5 actions=drop",
  ]);
});

test("egress rule: every peer, SCTP range", () => {
  const input = slice({
    policies: [policy({ name: "out", group: "g", types: ["Egress"], rules: [{ direction: "Egress", peers: null, ports: [{ protocol: "SCTP", port: 1024, endPort: 2047 }, { protocol: "UDP" }] }] })],
    appliedToGroups: [appliedTo("g", [pod("a", "10.244.1.5"), pod("b", "10.244.1.6")])],
  });
  assert.deepEqual(lines(flowsOf(input)), [
    "cookie=0x1050000000000, table=EgressPolicy, priority=200,ip,nw_src=10.244.1.5 actions=conjunction(1,1/2)",
    "cookie=0x1050000000000, table=EgressPolicy, priority=200,ip,nw_src=10.244.1.6 actions=conjunction(1,1/2)",
    "cookie=0x1050000000000, table=EgressPolicy, priority=200,sctp,tp_dst=0x400/0xfc00 actions=conjunction(1,2/2)",
    "cookie=0x1050000000000, table=EgressPolicy, priority=200,udp actions=conjunction(1,2/2)",
    "cookie=0x1050000000001, table=EgressPolicy, priority=200,conj_id=1 actions=set_field:0x1->reg3,goto_table:7",
    "cookie=0x1050000000065, table=EgressPolicy, priority=100,ip,nw_src=10.244.1.5 actions=drop",
    "cookie=0x1050000000066, table=EgressPolicy, priority=100,ip,nw_src=10.244.1.6 actions=drop",
  ]);
});

test("single-clause rule: plain allow flows", () => {
  const input = slice({
    policies: [policy({ name: "all", group: "g", types: ["Ingress"], rules: [{ direction: "Ingress", peers: null, ports: null }] })],
    appliedToGroups: [appliedTo("g", [pod("a", "10.244.1.5")])],
  });
  assert.deepEqual(lines(flowsOf(input)), [
    "cookie=0x1050000000001, table=IngressPolicy, priority=201,ip,nw_dst=10.244.1.5 actions=set_field:0x1->reg4,goto_table:11",
    "cookie=0x1050000000065, table=IngressPolicy, priority=100,ip,nw_dst=10.244.1.5 actions=drop",
  ]);
});

test("shared match flows: several conjunctions", () => {
  const rules: Omit<PolicyRule, "id" | "index">[] = [
    { direction: "Ingress", peers: { addressGroups: ["a1"], ipBlocks: [] }, ports: [{ protocol: "TCP", port: 80 }] },
    { direction: "Ingress", peers: { addressGroups: ["a2"], ipBlocks: [] }, ports: [{ protocol: "TCP", port: 80 }, { protocol: "TCP", port: 443 }] },
  ];
  const input = slice({
    policies: [policy({ name: "p", group: "g", types: ["Ingress"], rules })],
    addressGroups: [addresses("a1", ["10.244.2.1"]), addresses("a2", ["10.244.2.1", "10.244.2.2"])],
    appliedToGroups: [appliedTo("g", [pod("a", "10.244.1.5")])],
  });
  assert.deepEqual(lines(flowsOf(input)), [
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_dst=10.244.1.5 actions=conjunction(1,1/3),conjunction(2,1/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_src=10.244.2.1 actions=conjunction(1,2/3),conjunction(2,2/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,tcp,tp_dst=80 actions=conjunction(1,3/3),conjunction(2,3/3)",
    "cookie=0x1050000000001, table=IngressPolicy, priority=200,conj_id=1 actions=set_field:0x1->reg4,goto_table:11",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_src=10.244.2.2 actions=conjunction(2,2/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,tcp,tp_dst=443 actions=conjunction(2,3/3)",
    "cookie=0x1050000000002, table=IngressPolicy, priority=200,conj_id=2 actions=set_field:0x2->reg4,goto_table:11",
    "cookie=0x1050000000065, table=IngressPolicy, priority=100,ip,nw_dst=10.244.1.5 actions=drop",
  ]);
});

test("flow count: N peers, M pods, P ports", () => {
  const shapes = [
    { peers: 1, pods: 1, ports: 1 },
    { peers: 3, pods: 2, ports: 4 },
    { peers: 10, pods: 5, ports: 7 },
    { peers: 200, pods: 50, ports: 30 },
  ];
  for (const shape of shapes) {
    const peerIps = Array.from({ length: shape.peers }, (_, i) => `10.245.${Math.floor(i / 250)}.${(i % 250) + 1}`);
    const pods = Array.from({ length: shape.pods }, (_, i) => pod(`p${i}`, `10.244.1.${i + 1}`));
    const ports = Array.from({ length: shape.ports }, (_, i) => ({ protocol: "TCP" as const, port: 1000 + i * 3 }));
    const input = slice({
      policies: [policy({ name: "p", group: "g", types: ["Ingress"], rules: [{ direction: "Ingress", peers: { addressGroups: ["a"], ipBlocks: [] }, ports }] })],
      addressGroups: [addresses("a", peerIps)],
      appliedToGroups: [appliedTo("g", pods)],
    });
    const flows = flowsOf(input);
    const ruleFlows = flows.filter((flow) => flow.priority === 200);
    assert.equal(ruleFlows.length, shape.peers + shape.pods + shape.ports + 1, `rule flows for ${JSON.stringify(shape)}`);
    assert.equal(flows.filter((flow) => flow.priority === 100).length, shape.pods, `drop flows for ${JSON.stringify(shape)}`);
  }
});

test("ipBlock except: complement prefixes as peers", () => {
  const input = slice({
    policies: [
      policy({
        name: "p",
        group: "g",
        types: ["Egress"],
        rules: [{ direction: "Egress", peers: { addressGroups: [], ipBlocks: [{ cidr: "172.16.0.0/12", except: ["172.16.0.0/14", "172.30.0.0/15"] }] }, ports: null }],
      }),
    ],
    appliedToGroups: [appliedTo("g", [pod("a", "10.244.1.5")])],
  });
  assert.deepEqual(lines(flowsOf(input)), [
    "cookie=0x1050000000000, table=EgressPolicy, priority=200,ip,nw_src=10.244.1.5 actions=conjunction(1,1/2)",
    "cookie=0x1050000000000, table=EgressPolicy, priority=200,ip,nw_dst=172.20.0.0/14 actions=conjunction(1,2/2)",
    "cookie=0x1050000000000, table=EgressPolicy, priority=200,ip,nw_dst=172.24.0.0/14 actions=conjunction(1,2/2)",
    "cookie=0x1050000000000, table=EgressPolicy, priority=200,ip,nw_dst=172.28.0.0/15 actions=conjunction(1,2/2)",
    "cookie=0x1050000000001, table=EgressPolicy, priority=200,conj_id=1 actions=set_field:0x1->reg3,goto_table:7",
    "cookie=0x1050000000065, table=EgressPolicy, priority=100,ip,nw_src=10.244.1.5 actions=drop",
  ]);
});

test("ipBlock 0.0.0.0/0: peer clause is ip", () => {
  const input = slice({
    policies: [policy({ name: "any", group: "g", types: ["Ingress"], rules: [{ direction: "Ingress", peers: { addressGroups: [], ipBlocks: [{ cidr: "0.0.0.0/0", except: ["10.0.0.0/8"] }] }, ports: [{ protocol: "TCP", port: 443 }] }] })],
    appliedToGroups: [appliedTo("g", [pod("a", "10.244.1.5")])],
  });
  const peerLines = lines(flowsOf(input)).filter((line) => line.includes("2/3"));
  assert.deepEqual(peerLines, [
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_src=0.0.0.0/5 actions=conjunction(1,2/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_src=8.0.0.0/7 actions=conjunction(1,2/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_src=11.0.0.0/8 actions=conjunction(1,2/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_src=12.0.0.0/6 actions=conjunction(1,2/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_src=16.0.0.0/4 actions=conjunction(1,2/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_src=32.0.0.0/3 actions=conjunction(1,2/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_src=64.0.0.0/2 actions=conjunction(1,2/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_src=128.0.0.0/1 actions=conjunction(1,2/3)",
  ]);
  const whole = slice({
    policies: [policy({ name: "any", group: "g", types: ["Ingress"], rules: [{ direction: "Ingress", peers: { addressGroups: [], ipBlocks: [{ cidr: "0.0.0.0/0", except: [] }] }, ports: [{ protocol: "TCP", port: 443 }] }] })],
    appliedToGroups: [appliedTo("g", [pod("a", "10.244.1.5")])],
  });
  assert.ok(lines(flowsOf(whole)).includes("cookie=0x1050000000000, table=IngressPolicy, priority=200,ip actions=conjunction(1,2/3)"));
});
