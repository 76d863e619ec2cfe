// The policy enforcer against a recording bundle sender: named ports, isolation, diffs sent
// as add/modify_strict/delete_strict, removal back to the baseline, id reuse and rollback.
// Expected flow lines are written by hand as `ovs-ofctl --no-stats dump-flows` prints them.
import { EventEmitter } from "node:events";
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatFlow } from "../../../agent/pipeline/flow.ts";
import { PolicyEnforcer } from "../../../agent/policy/enforcer.ts";
import { PolicyError } from "../../../agent/policy/errors.ts";
import { followPolicyClient } from "../../../agent/policy/follow-client.ts";
import type { SliceChange } from "../../../agent/policyclient/client.ts";
import { diffFlows, diffText, indexFlows } from "../../../agent/pipeline/flow-diff.ts";
import type { FlowModMessage, FlowStats, MessageBody } from "../../../openflow/messages/types.ts";
import type { AddressGroup, AppliedToGroup, AppliedToMember, InternalPolicy, NodeSlice, PolicyRule } from "../../../controller/networkpolicy/types.ts";

const SELECTOR = { namespace: "shop", namespaceSelector: null, podSelector: [] };
const BASE_FLOWS = 4;

function pod(name: string, ip: string, namedPorts: AppliedToMember["namedPorts"] = []): AppliedToMember {
  return { namespace: "shop", name, ips: [ip], namedPorts };
}

function policy(options: { name: string; group: string; types: InternalPolicy["policyTypes"]; rules: Omit<PolicyRule, "id" | "index">[] }): InternalPolicy {
  const id = `shop/${options.name}/uid-${options.name}`;
  const rules = options.rules.map((rule, index) => ({ ...rule, id: `${id}/${rule.direction.toLowerCase()}/${index}`, index }));
  return { id, namespace: "shop", name: options.name, uid: `uid-${options.name}`, appliedToGroup: options.group, policyTypes: options.types, rules };
}

function slice(parts: { policies: InternalPolicy[]; addressGroups?: AddressGroup[]; appliedToGroups?: AppliedToGroup[] }): NodeSlice {
  return { nodeName: "node-1", generation: 1, policies: parts.policies, addressGroups: parts.addressGroups ?? [], appliedToGroups: parts.appliedToGroups ?? [] };
}

/** A bundle sender that records each bundle, or fails when `fail` is set. */
class RecordingSender {
  readonly bundles: MessageBody<FlowModMessage>[][] = [];
  fail = false;

  bundle(messages: readonly MessageBody[]): Promise<void> {
    if (this.fail) return Promise.reject(new Error("OFPBFC_MSG_FAILED"));
    this.bundles.push(messages as MessageBody<FlowModMessage>[]);
    return Promise.resolve();
  }

  lastCommands(): number[] {
    return (this.bundles.at(-1) ?? []).map((message) => message.command);
  }
}

function setup(): { sender: RecordingSender; enforcer: PolicyEnforcer } {
  const sender = new RecordingSender();
  return { sender, enforcer: new PolicyEnforcer({ sender, round: 1 }) };
}

/** Rule and isolation flows, without the base flows. */
function policyLines(enforcer: PolicyEnforcer): string[] {
  return enforcer
    .installedFlows()
    .filter((flow) => flow.priority !== 210 && flow.table.name !== "ConntrackCommit")
    .map(formatFlow);
}

test("named ports: ingress split by pod", async () => {
  const { enforcer } = setup();
  const http = (port: number): AppliedToMember["namedPorts"] => [{ name: "http", protocol: "TCP", port }];
  await enforcer.applySlice(
    slice({
      policies: [policy({ name: "web", group: "g", types: ["Ingress"], rules: [{ direction: "Ingress", peers: null, ports: [{ protocol: "TCP", portName: "http" }] }] })],
      appliedToGroups: [{ id: "g", selector: SELECTOR, members: [pod("a", "10.244.1.1", http(8080)), pod("b", "10.244.1.2", http(8080)), pod("c", "10.244.1.3", http(9090)), pod("d", "10.244.1.4")] }],
    }),
  );
  assert.deepEqual(policyLines(enforcer), [
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_dst=10.244.1.1 actions=conjunction(1,1/2)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_dst=10.244.1.2 actions=conjunction(1,1/2)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,tcp,tp_dst=8080 actions=conjunction(1,2/2)",
    "cookie=0x1050000000001, table=IngressPolicy, priority=200,conj_id=1 actions=set_field:0x1->reg4,goto_table:11",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_dst=10.244.1.3 actions=conjunction(2,1/2)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,tcp,tp_dst=9090 actions=conjunction(2,2/2)",
    "cookie=0x1050000000002, table=IngressPolicy, priority=200,conj_id=2 actions=set_field:0x2->reg4,goto_table:11",
    "cookie=0x1050000000003, table=IngressPolicy, priority=100,ip,nw_dst=10.244.1.1 actions=drop",
    "cookie=0x1050000000004, table=IngressPolicy, priority=100,ip,nw_dst=10.244.1.2 actions=drop",
    "cookie=0x1050000000005, table=IngressPolicy, priority=100,ip,nw_dst=10.244.1.3 actions=drop",
    "cookie=0x1050000000006, table=IngressPolicy, priority=100,ip,nw_dst=10.244.1.4 actions=drop",
  ]);
  assert.deepEqual(enforcer.owner(1), { kind: "rule", ruleId: "shop/web/uid-web/ingress/0", policyId: "shop/web/uid-web", direction: "Ingress", key: "shop/web/uid-web/ingress/0#TCP:8080/65535" });
});

test("named ports: egress split by peer", async () => {
  const { enforcer } = setup();
  await enforcer.applySlice(
    slice({
      policies: [
        policy({
          name: "dns",
          group: "g",
          types: ["Egress"],
          rules: [{ direction: "Egress", peers: { addressGroups: ["a"], ipBlocks: [{ cidr: "192.168.7.0/24", except: [] }] }, ports: [{ protocol: "UDP", portName: "dns" }] }],
        }),
      ],
      addressGroups: [{ id: "a", selector: SELECTOR, members: [{ ip: "10.244.2.1", namedPorts: [{ name: "dns", protocol: "UDP", port: 53 }] }, { ip: "10.244.2.2", namedPorts: [] }] }],
      appliedToGroups: [{ id: "g", selector: SELECTOR, members: [pod("a", "10.244.1.1")] }],
    }),
  );
  assert.deepEqual(policyLines(enforcer), [
    "cookie=0x1050000000000, table=EgressPolicy, priority=200,ip,nw_src=10.244.1.1 actions=conjunction(1,1/3)",
    "cookie=0x1050000000000, table=EgressPolicy, priority=200,ip,nw_dst=10.244.2.1 actions=conjunction(1,2/3)",
    "cookie=0x1050000000000, table=EgressPolicy, priority=200,udp,tp_dst=53 actions=conjunction(1,3/3)",
    "cookie=0x1050000000001, table=EgressPolicy, priority=200,conj_id=1 actions=set_field:0x1->reg3,goto_table:7",
    "cookie=0x1050000000002, table=EgressPolicy, priority=100,ip,nw_src=10.244.1.1 actions=drop",
  ]);
});

test("isolation: policy without rules", async () => {
  const { enforcer } = setup();
  await enforcer.applySlice(
    slice({
      policies: [
        policy({ name: "deny", group: "g", types: ["Egress", "Ingress"], rules: [] }),
        // An egress rule of a policy whose policyTypes lack Egress is ignored, as in Kubernetes.
        policy({ name: "ignored", group: "g2", types: ["Ingress"], rules: [{ direction: "Egress", peers: null, ports: null }] }),
      ],
      appliedToGroups: [
        { id: "g", selector: SELECTOR, members: [pod("a", "10.244.1.1")] },
        { id: "g2", selector: SELECTOR, members: [pod("b", "10.244.1.2")] },
      ],
    }),
  );
  assert.deepEqual(policyLines(enforcer), [
    "cookie=0x1050000000001, table=EgressPolicy, priority=100,ip,nw_src=10.244.1.1 actions=drop",
    "cookie=0x1050000000002, table=IngressPolicy, priority=100,ip,nw_dst=10.244.1.1 actions=drop",
    "cookie=0x1050000000003, table=IngressPolicy, priority=100,ip,nw_dst=10.244.1.2 actions=drop",
  ]);
});

test("empty clause: rule with no peers installs nothing", async () => {
  const { enforcer } = setup();
  await enforcer.applySlice(
    slice({
      policies: [policy({ name: "p", group: "g", types: ["Ingress"], rules: [{ direction: "Ingress", peers: { addressGroups: ["empty"], ipBlocks: [] }, ports: null }] })],
      addressGroups: [{ id: "empty", selector: SELECTOR, members: [] }],
      appliedToGroups: [{ id: "g", selector: SELECTOR, members: [pod("a", "10.244.1.1")] }],
    }),
  );
  assert.deepEqual(policyLines(enforcer), ["cookie=0x1050000000001, table=IngressPolicy, priority=100,ip,nw_dst=10.244.1.1 actions=drop"]);
});

const SHARED_GROUPS = {
  addressGroups: [{ id: "a", selector: SELECTOR, members: [{ ip: "10.244.2.1", namedPorts: [] }] }],
  appliedToGroups: [{ id: "g", selector: SELECTOR, members: [pod("a", "10.244.1.1")] }],
};

function sharedPolicy(name: string): InternalPolicy {
  return policy({ name, group: "g", types: ["Ingress"], rules: [{ direction: "Ingress", peers: { addressGroups: ["a"], ipBlocks: [] }, ports: [{ protocol: "TCP", port: 80 }] }] });
}

test("update: shared flows modified, not replaced", async () => {
  const { sender, enforcer } = setup();
  await enforcer.applySlice(slice({ policies: [sharedPolicy("one"), sharedPolicy("two")], ...SHARED_GROUPS }));
  const result = await enforcer.applySlice(slice({ policies: [sharedPolicy("one")], ...SHARED_GROUPS }));
  assert.deepEqual(result, { added: 0, modified: 3, removed: 1, flows: BASE_FLOWS + 5, seconds: result.seconds });
  // delete_strict is OFPFC 4 and modify_strict is OFPFC 2.
  assert.deepEqual(sender.lastCommands(), [4, 2, 2, 2]);
  assert.deepEqual(policyLines(enforcer), [
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_dst=10.244.1.1 actions=conjunction(1,1/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,ip,nw_src=10.244.2.1 actions=conjunction(1,2/3)",
    "cookie=0x1050000000000, table=IngressPolicy, priority=200,tcp,tp_dst=80 actions=conjunction(1,3/3)",
    "cookie=0x1050000000001, table=IngressPolicy, priority=200,conj_id=1 actions=set_field:0x1->reg4,goto_table:11",
    "cookie=0x1050000000003, table=IngressPolicy, priority=100,ip,nw_dst=10.244.1.1 actions=drop",
  ]);
});

test("diff text: ovs-ofctl bundle lines", async () => {
  const { enforcer } = setup();
  await enforcer.applySlice(slice({ policies: [sharedPolicy("one"), sharedPolicy("two")], ...SHARED_GROUPS }));
  const before = indexFlows(enforcer.installedFlows());
  await enforcer.applySlice(slice({ policies: [sharedPolicy("one")], ...SHARED_GROUPS }));
  const diff = diffFlows(before, indexFlows(enforcer.installedFlows()));
  assert.deepEqual(diffText(diff), [
    "delete_strict table=10,priority=200,conj_id=2",
    "modify_strict cookie=0x1050000000000,table=10,priority=200,ip,nw_dst=10.244.1.1 actions=conjunction(1,1/3)",
    "modify_strict cookie=0x1050000000000,table=10,priority=200,ip,nw_src=10.244.2.1 actions=conjunction(1,2/3)",
    "modify_strict cookie=0x1050000000000,table=10,priority=200,tcp,tp_dst=80 actions=conjunction(1,3/3)",
  ]);
});

test("removal: back to baseline", async () => {
  const { sender, enforcer } = setup();
  await enforcer.applySlice(slice({ policies: [] }));
  const baseline = enforcer.installedFlows().map(formatFlow);
  assert.equal(baseline.length, BASE_FLOWS);
  await enforcer.applySlice(slice({ policies: [sharedPolicy("one"), sharedPolicy("two")], ...SHARED_GROUPS }));
  assert.equal(enforcer.installedFlows().length, BASE_FLOWS + 6);
  const result = await enforcer.applySlice(slice({ policies: [] }));
  assert.equal(result.removed, 6);
  assert.deepEqual(sender.lastCommands(), [4, 4, 4, 4, 4, 4]);
  assert.deepEqual(enforcer.installedFlows().map(formatFlow), baseline);
  assert.deepEqual(enforcer.idsInUse(), []);
});

test("id pool: 50 add/delete cycles", async () => {
  const { enforcer } = setup();
  const steady = slice({ policies: [sharedPolicy("steady")], ...SHARED_GROUPS });
  await enforcer.applySlice(steady);
  const steadyIds = enforcer.idsInUse();
  assert.deepEqual(steadyIds, [1, 2]);
  for (let cycle = 0; cycle < 50; cycle += 1) {
    const extra = policy({
      name: `cycle-${cycle}`,
      group: "g",
      types: ["Ingress", "Egress"],
      rules: [
        { direction: "Ingress", peers: null, ports: [{ protocol: "TCP", port: 1000 + cycle }] },
        { direction: "Egress", peers: { addressGroups: ["a"], ipBlocks: [] }, ports: null },
      ],
    });
    await enforcer.applySlice(slice({ policies: [sharedPolicy("steady"), extra], ...SHARED_GROUPS }));
    assert.equal(enforcer.idsInUse().length, 5, `cycle ${cycle}: 3 rules of steady and extra, plus an egress drop flow`);
    await enforcer.applySlice(steady);
    assert.deepEqual(enforcer.idsInUse(), steadyIds, `cycle ${cycle}`);
  }
  const referenced = new Set<number>();
  for (const line of enforcer.installedFlows().map(formatFlow)) {
    for (const match of line.matchAll(/conj(?:unction\(|_id=)(\d+)/g)) referenced.add(Number(match[1]));
  }
  assert.deepEqual([...referenced].sort(), [1]);
  assert.equal(enforcer.owner(1)?.kind, "rule");
  assert.equal(enforcer.owner(3), undefined);
  assert.ok(enforcer.installedFlows().length === BASE_FLOWS + 5);
});

test("failed bundle: nothing changes", async () => {
  const { sender, enforcer } = setup();
  await enforcer.applySlice(slice({ policies: [sharedPolicy("one")], ...SHARED_GROUPS }));
  const before = enforcer.installedFlows().map(formatFlow);
  sender.fail = true;
  await assert.rejects(
    enforcer.applySlice(slice({ policies: [sharedPolicy("one"), sharedPolicy("two")], ...SHARED_GROUPS })),
    (error: unknown) => error instanceof PolicyError && error.code === "POLICY_INSTALL_FAILED" && error.cause instanceof Error,
  );
  assert.deepEqual(enforcer.installedFlows().map(formatFlow), before);
  assert.deepEqual(enforcer.idsInUse(), [1, 2]);
  sender.fail = false;
  await enforcer.applySlice(slice({ policies: [sharedPolicy("one"), sharedPolicy("two")], ...SHARED_GROUPS }));
  assert.deepEqual(enforcer.idsInUse(), [1, 2, 3]);
});

test("counters: per rule and isolated pod", async () => {
  const { enforcer } = setup();
  await enforcer.applySlice(slice({ policies: [sharedPolicy("one")], ...SHARED_GROUPS }));
  const stat = (cookie: bigint, packets: number): FlowStats => ({
    tableId: 10, durationSec: 0, durationNsec: 0, priority: 0, idleTimeout: 0, hardTimeout: 0, flags: 0, importance: 0,
    cookie, packetCount: BigInt(packets), byteCount: BigInt(packets * 60), match: { entries: [] }, instructions: [],
  });
  const counters = enforcer.counters([stat(0x1050000000001n, 7), stat(0x1050000000002n, 3), stat(0x1050000000000n, 99), stat(0x2050000000001n, 5)]);
  assert.deepEqual(counters, {
    rules: [{ id: 1, ruleId: "shop/one/uid-one/ingress/0", direction: "Ingress", packets: 7n, bytes: 420n }],
    isolation: [{ id: 2, pod: "shop/a", direction: "Ingress", packets: 3n, bytes: 180n }],
  });
});

test("follow client: bursts collapse to newest", async () => {
  const source = new EventEmitter<{ change: [SliceChange] }>();
  const release: (() => void)[] = [];
  const slowSender = { bundle: () => new Promise<void>((resolve) => release.push(resolve)) };
  const enforcer = new PolicyEnforcer({ sender: slowSender, round: 1 });
  const applied: { generation: number; error?: unknown }[] = [];
  let notify: () => void = () => undefined;
  const stop = followPolicyClient({
    client: source,
    enforcer,
    onApplied: (outcome) => {
      applied.push(outcome);
      notify();
    },
  });
  const change = (generation: number, policies: InternalPolicy[]): SliceChange => ({ source: "events", events: [], slice: { ...slice({ policies, ...SHARED_GROUPS }), generation } });
  const nextApplied = (): Promise<void> => new Promise((resolve) => (notify = resolve));

  source.emit("change", change(1, [sharedPolicy("one")]));
  source.emit("change", change(2, [sharedPolicy("two")]));
  source.emit("change", change(3, [sharedPolicy("one"), sharedPolicy("two")]));
  await waitFor(() => release.length === 1);
  let done = nextApplied();
  release.shift()?.();
  await done;
  await waitFor(() => release.length === 1);
  done = nextApplied();
  release.shift()?.();
  await done;

  assert.deepEqual(applied.map((outcome) => outcome.generation), [1, 3], "generation 2 was superseded by 3");
  assert.ok(applied.every((outcome) => outcome.error === undefined));
  assert.deepEqual(enforcer.idsInUse(), [1, 2, 3]);
  stop();
  assert.equal(source.listenerCount("change"), 0);
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !condition(); attempt += 1) await new Promise((resolve) => setImmediate(resolve));
  assert.ok(condition(), "condition not reached");
}

test("replay: every installed flow added", async () => {
  const { sender, enforcer } = setup();
  await enforcer.applySlice(slice({ policies: [sharedPolicy("one")], ...SHARED_GROUPS }));
  await enforcer.replay();
  // OFPFC_ADD is 0: one add per installed flow, base flows included.
  assert.deepEqual(sender.lastCommands(), Array.from({ length: BASE_FLOWS + 5 }, () => 0));
  assert.equal(sender.bundles.length, 2);
});

test("reapply: same slice sends nothing", async () => {
  const { sender, enforcer } = setup();
  const same = () => slice({ policies: [sharedPolicy("one"), sharedPolicy("two")], ...SHARED_GROUPS });
  await enforcer.applySlice(same());
  const bundles = sender.bundles.length;
  // A slice built again from scratch gives structurally equal flows, so the diff is empty.
  const result = await enforcer.applySlice(same());
  assert.equal(result.added, 0);
  assert.equal(result.modified, 0);
  assert.equal(result.removed, 0);
  assert.equal(sender.bundles.length, bundles);
});
