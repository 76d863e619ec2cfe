// NetworkPolicy enforcement benchmarks: flow counts and install times of the policy
// enforcer against a real ovs-vswitchd (userspace datapath, private namespace).
//
// 1. One policy: one pod, one ingress rule with 1,000 peer addresses and 50 ports. The
//    reference is the cross-product form of the same rule (one flow per peer and port,
//    50,000 flows), installed through the same connection in one bundle.
// 2. 1,000 policies on one node: 100 pods, each selected by 10 policies. Each policy has one
//    ingress rule with 20 peers from a pool of 1,000 addresses and a port plus a port range.
//    Then one policy is changed (incremental diff). The reference is `ovs-ofctl --bundle
//    add-flows` of the same flows from a file, timed in the same run.
//
// Needs root and Open vSwitch. Environment: ROUNDS (default 3).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { addFlowMessage } from "../../agent/pipeline/flow-sync.ts";
import type { PipelineFlow } from "../../agent/pipeline/flow.ts";
import { baseFlows } from "../../agent/policy/policy-flows.ts";
import { Tables, tableNamesById } from "../../agent/pipeline/tables.ts";
import { MatchBuilder } from "../../openflow/match/index.ts";
import { lookupField } from "../../openflow/match/fields.ts";
import { PolicyEnforcer } from "../../agent/policy/enforcer.ts";
import { diffText } from "../../agent/pipeline/flow-diff.ts";
import { planSlice } from "../../agent/policy/rule-plan.ts";
import type { AddressGroup, AppliedToGroup, InternalPolicy, NodeSlice } from "../../controller/networkpolicy/types.ts";
import { OpenFlowConnection } from "../../openflow/connection/connection.ts";
import { createNamespaces, deleteNamespaces, startOvs, stopOvs, type OvsInstance } from "../lab/index.ts";

const ROUNDS = Number(process.env.ROUNDS ?? "3");
const BRIDGE = "sypbench";
const NETNS = `sypbench${process.pid}`;
const SELECTOR = { namespace: "bench", namespaceSelector: null, podSelector: [] };

function address(index: number): string {
  return `10.${100 + (index >> 16)}.${(index >> 8) & 255}.${index & 255}`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Returns a slice of one pod and one rule with 1,000 peers and 50 single ports. */
function widePolicySlice(): NodeSlice {
  const policy: InternalPolicy = {
    id: "bench/wide/u",
    namespace: "bench",
    name: "wide",
    uid: "u",
    appliedToGroup: "pods",
    policyTypes: ["Ingress"],
    rules: [
      {
        id: "bench/wide/u/ingress/0",
        direction: "Ingress",
        index: 0,
        peers: { addressGroups: ["peers"], ipBlocks: [] },
        ports: Array.from({ length: 50 }, (_, i) => ({ protocol: "TCP" as const, port: 1000 + i * 7 })),
      },
    ],
  };
  return {
    nodeName: "bench",
    generation: 1,
    policies: [policy],
    addressGroups: [{ id: "peers", selector: SELECTOR, members: Array.from({ length: 1000 }, (_, i) => ({ ip: address(i + 1), namedPorts: [] })) }],
    appliedToGroups: [{ id: "pods", selector: SELECTOR, members: [{ namespace: "bench", name: "pod-0", ips: ["10.244.1.2"], namedPorts: [] }] }],
  };
}

/** Returns the same rule as one flow per (peer, port), which a translation without conjunctions installs. */
function crossProductFlows(): PipelineFlow[] {
  const reg4 = lookupField("reg4");
  if (reg4 === undefined) throw new Error("reg4 is not registered");
  const flows: PipelineFlow[] = [];
  for (let peer = 1; peer <= 1000; peer += 1) {
    for (let port = 0; port < 50; port += 1) {
      const match = new MatchBuilder();
      match.setCanonical("eth_type", 0x0800n);
      match.setCanonical("nw_proto", 6n);
      match.setCanonical("ip_src", BigInt(Number(address(peer).split(".").reduce((v, o) => v * 256 + Number(o), 0))));
      match.setCanonical("ip_dst", 0x0af40102n);
      match.setCanonical("tcp_dst", BigInt(1000 + port * 7));
      flows.push({
        table: Tables.IngressPolicy,
        priority: 200,
        cookie: 0x1050000000001n,
        match: match.build(),
        instructions: [
          { type: "apply_actions", actions: [{ type: "set_field", field: reg4, value: Buffer.from([0, 0, 0, 1]) }] },
          { type: "goto_table", table: Tables.ConntrackCommit.id },
        ],
      });
    }
  }
  return flows;
}

/** 1,000 policies over 100 pods; `variant` changes the ports of policy 0 for the update. */
function manyPoliciesSlice(variant: number): NodeSlice {
  const pods: AppliedToGroup[] = Array.from({ length: 100 }, (_, i) => ({
    id: `pod-${i}`,
    selector: SELECTOR,
    members: [{ namespace: "bench", name: `pod-${i}`, ips: [`10.244.${1 + (i >> 8)}.${(i & 255) + 2}`], namedPorts: [] }],
  }));
  const groups: AddressGroup[] = Array.from({ length: 50 }, (_, g) => ({
    id: `peers-${g}`,
    selector: SELECTOR,
    members: Array.from({ length: 20 }, (_, m) => ({ ip: address(g * 20 + m + 1), namedPorts: [] })),
  }));
  const policies: InternalPolicy[] = Array.from({ length: 1000 }, (_, i) => {
    const id = `bench/p${String(i).padStart(4, "0")}/u`;
    const port = i === 0 ? 9000 + variant : 80 + (i % 10);
    return {
      id,
      namespace: "bench",
      name: `p${i}`,
      uid: "u",
      appliedToGroup: `pod-${i % 100}`,
      policyTypes: ["Ingress"],
      rules: [
        {
          id: `${id}/ingress/0`,
          direction: "Ingress",
          index: 0,
          peers: { addressGroups: [`peers-${i % 50}`], ipBlocks: [] },
          ports: [
            { protocol: "TCP", port },
            { protocol: "TCP", port: 8000, endPort: 8080 },
          ],
        },
      ],
    };
  });
  return { nodeName: "bench", generation: 1, policies, addressGroups: groups, appliedToGroups: pods };
}

async function main(): Promise<void> {
  const dir = mkdtempSync("/tmp/sypbench");
  let ovs: OvsInstance | undefined;
  let connection: OpenFlowConnection | undefined;
  await createNamespaces([NETNS]);
  try {
    ovs = await startOvs({ dir, netns: NETNS });
    const tables = Object.entries(tableNamesById()).flatMap(([id, name]) => ["--", `--id=@t${id}`, "create", "Flow_Table", `name=${name}`, "--", "add", "Bridge", BRIDGE, "flow_tables", `${id}=@t${id}`]);
    await ovs.vsctl(["add-br", BRIDGE, "--", "set", "Bridge", BRIDGE, "datapath_type=netdev", "fail_mode=secure", "protocols=OpenFlow13,OpenFlow15", ...tables]);
    const socket = ovs.mgmtSocket(BRIDGE);
    connection = await OpenFlowConnection.connect({ address: `unix:${socket}`, reconnect: false, echoIntervalMs: 0 });
    const open = connection;
    const ofctl = (args: string[]): string => execFileSync("ip", ["netns", "exec", NETNS, "ovs-ofctl", "-O", "OpenFlow15", ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
    const countFlows = (): number => ofctl(["--no-stats", "dump-flows", socket]).split("\n").filter((line) => line.includes("actions=")).length;
    const clear = (): void => void ofctl(["del-flows", socket]);

    console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "unknown"}), Linux ${release()}, Node.js ${process.version}, ${ROUNDS} rounds, medians`);

    // Part 1: one wide rule.
    const wide = widePolicySlice();
    const planStart = performance.now();
    const plan = planSlice(wide);
    const planMs = performance.now() - planStart;
    const conjunctive: number[] = [];
    const cross: number[] = [];
    let wideFlows = 0;
    const crossFlows = crossProductFlows();
    for (let round = 0; round < ROUNDS; round += 1) {
      clear();
      const enforcer = new PolicyEnforcer({ sender: open, round: 1 });
      const started = performance.now();
      await enforcer.applySlice(wide);
      conjunctive.push(performance.now() - started);
      wideFlows = countFlows();
      clear();
      const crossStarted = performance.now();
      await open.bundle(crossFlows.map(addFlowMessage));
      cross.push(performance.now() - crossStarted);
      if (countFlows() !== crossFlows.length) throw new Error(`cross product: expected ${crossFlows.length} flows on the switch`);
    }
    console.log(`one rule, 1 pod x 1000 peers x 50 ports: ${plan.conjunctions.length} conjunction, planned in ${planMs.toFixed(1)} ms`);
    console.log(`  conjunctive: ${wideFlows} flows (${baseFlows(1).length} base + 1+1000+50+1 rule + 1 drop), translate+install ${median(conjunctive).toFixed(0)} ms`);
    console.log(`  cross product (reference): ${crossFlows.length} flows, install ${median(cross).toFixed(0)} ms`);
    console.log(`  ratio: ${(crossFlows.length / wideFlows).toFixed(1)}x fewer flows, ${(median(cross) / median(conjunctive)).toFixed(1)}x less install time`);

    // Part 2: 1,000 policies.
    const many = manyPoliciesSlice(0);
    const installs: number[] = [];
    const ofctlInstalls: number[] = [];
    const updates: number[] = [];
    let manyFlows = 0;
    let updateResult = { added: 0, modified: 0, removed: 0 };
    const file = join(dir, "flows.txt");
    for (let round = 0; round < ROUNDS; round += 1) {
      clear();
      const enforcer = new PolicyEnforcer({ sender: open, round: 1 });
      const started = performance.now();
      await enforcer.applySlice(many);
      installs.push(performance.now() - started);
      manyFlows = countFlows();
      const updateStarted = performance.now();
      const result = await enforcer.applySlice(manyPoliciesSlice(1));
      updates.push(performance.now() - updateStarted);
      updateResult = { added: result.added, modified: result.modified, removed: result.removed };
      writeFileSync(file, `${diffText({ add: enforcer.installedFlows(), modify: [], remove: [] }).join("\n")}\n`);
      clear();
      const ofctlStarted = performance.now();
      ofctl(["--bundle", "add-flows", socket, file]);
      ofctlInstalls.push(performance.now() - ofctlStarted);
      if (countFlows() !== enforcer.installedFlows().length) throw new Error("ovs-ofctl installed a different number of flows");
    }
    console.log(`1000 policies, 100 pods, 20 peers and 2 port entries each: ${manyFlows} flows`);
    console.log(`  translate+install ${median(installs).toFixed(0)} ms; ovs-ofctl --bundle add-flows of the same flows (reference) ${median(ofctlInstalls).toFixed(0)} ms; ratio ${(median(installs) / median(ofctlInstalls)).toFixed(2)}`);
    console.log(`  update of one policy's port: ${updateResult.added} added, ${updateResult.modified} modified, ${updateResult.removed} removed, ${median(updates).toFixed(0)} ms (whole slice re-translated)`);
  } finally {
    await connection?.close().catch(() => undefined);
    await stopOvs({ dir, pids: ovs === undefined ? [] : [ovs.ovsdbPid, ...(ovs.vswitchdPid === undefined ? [] : [ovs.vswitchdPid])] });
    await deleteNamespaces([NETNS]);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
