// Agent benchmarks on a real Open vSwitch (userspace datapath) in a namespace of its own:
//   1. flows per pod and per node, from the flow generators;
//   2. time to install the flows of 500 pods, one bundle per pod and one bundle for all,
//      against `ovs-ofctl add-flows` of the same flows in the same run;
//   3. heap the agent's flow cache takes for 500 pods;
//   4. pod-to-pod TCP throughput (iperf3) through the full pipeline, against one NORMAL
//      flow on the same bridge in the same run;
//   5. agent start to all flows installed with 500 pod ports in OVSDB, against
//      `ovs-ofctl --bundle add-flows` of the agent's flow dump in the same run;
//   6. memory of the agent process with 500 pods, against the same agent with 0 pods.
// Needs root. Run: node_modules/.bin/node --expose-gc test/bench/agent.bench.ts
import { spawn } from "node:child_process";
import { writeFile, rm } from "node:fs/promises";
import { OpenFlowConnection } from "../../openflow/index.ts";
import { parseCidr } from "../../common/net/cidr.ts";
import { bootstrapBridge } from "../../agent/bridge/bootstrap.ts";
import { FlowSync } from "../../agent/pipeline/flow-sync.ts";
import { formatFlow, type PipelineFlow } from "../../agent/pipeline/flow.ts";
import { localFlows, pipelineFlows, podFlows, tunnelPeerFlows, type NodeFlowContext } from "../../agent/pipeline/flows.ts";
import { run } from "../lab/index.ts";
import { addTestPod, deleteTestPods, startTestNode, type TestPod } from "../integration/agent/fixture.ts";
import { measureAgentProcess, measureAgentStart } from "./agent-start.ts";

const BRIDGE = "br-int";
const PODS = 500;
const IPERF_SECONDS = 3;
/** Flows of a node with no peers and no pods (pipeline defaults, gateway, tunnel) and flows per pod, counted once by dump-flows. */
const BASE_FLOWS = 26;
const FLOWS_PER_POD = 5;

/** Pod `index` (1-based): ofport 100+index, addresses from 10.244.1.10 on, clear of the gateway's 10.244.1.1. */
function podSpec(index: number) {
  const ofport = 100 + index;
  const host = index + 9;
  return { ofport, mac: `0a:00:00:${((index >> 16) & 0xff).toString(16).padStart(2, "0")}:${((index >> 8) & 0xff).toString(16).padStart(2, "0")}:${(index & 0xff).toString(16).padStart(2, "0")}`, ips: [`10.244.${1 + (host >> 8)}.${host & 0xff}`] };
}

/** Converts our dump-style text to `ovs-ofctl add-flows` input: numeric tables, no spaces after commas. */
function addFlowsLine(flow: PipelineFlow): string {
  return formatFlow(flow).replace(/table=[A-Za-z0-9]+, /, `table=${flow.table.id},`).replace(", table", ",table");
}

async function timed<T>(task: () => Promise<T>): Promise<number> {
  const started = process.hrtime.bigint();
  await task();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function iperf(server: TestPod, client: TestPod): Promise<number> {
  const listener = spawn("ip", ["netns", "exec", server.netns, "iperf3", "-s", "-1"], { stdio: "ignore" });
  await new Promise((resolve) => setTimeout(resolve, 500));
  try {
    const output = await run(["iperf3", "-c", server.ip, "-t", String(IPERF_SECONDS), "-J"], { netns: client.netns, timeoutMs: 30_000 });
    const report = JSON.parse(output) as { end: { sum_received: { bits_per_second: number } } };
    return report.end.sum_received.bits_per_second / 1e9;
  } finally {
    listener.kill("SIGTERM");
  }
}

const node = await startTestNode("bn");
const pods: TestPod[] = [];
try {
  const ports = await bootstrapBridge(node.vswitch, { bridge: BRIDGE, datapathType: "netdev", gateway: { name: "sya-gw0", ofport: 2, mtu: 1450, mac: "0a:00:00:ff:ff:01" }, tunnel: { name: "sya-tun0", ofport: 1, type: "geneve", destinationPort: 0, checksum: false } }, { timeoutMs: 10_000 });
  const context: NodeFlowContext = { round: 1, gateway: { ...ports.gateway, ip: "10.244.1.1" }, tunnel: ports.tunnel };
  const base = [...pipelineFlows(context), ...localFlows(context)];
  const perPod = podFlows(context, podSpec(1)).length;
  const perPeer = tunnelPeerFlows(context, { node: "n2", cidr: parseCidr("10.244.2.0/24"), transportIP: "192.168.0.2" }).length;
  console.log(`flows: ${base.length} per node (pipeline + gateway + tunnel), ${perPod} per pod, ${perPeer} per peer node`);

  const connection = await OpenFlowConnection.connect({ address: node.ovs.mgmtSocket(BRIDGE), reconnect: false });
  const podFlowSets = Array.from({ length: PODS }, (_, index) => podFlows(context, podSpec(index + 1)));

  // 2a. One bundle per pod, as pods come and go.
  const perPodSync = new FlowSync({ connection });
  const perPodMs = await timed(async () => {
    await perPodSync.setOwnerFlows("pipeline", base);
    for (const [index, flows] of podFlowSets.entries()) await perPodSync.setOwnerFlows(`pod:${index}`, flows);
  });
  // 2b. Everything in one bundle, as after ovs-vswitchd restarts.
  await run(["ovs-ofctl", "-O", "OpenFlow15", "del-flows", node.ovs.mgmtSocket(BRIDGE)]);
  const replayMs = await timed(() => perPodSync.replay());
  // 2c. Reference: ovs-ofctl add-flows of the same flows from a file.
  await run(["ovs-ofctl", "-O", "OpenFlow15", "del-flows", node.ovs.mgmtSocket(BRIDGE)]);
  const file = `/tmp/sya-bench-flows-${process.pid}.txt`;
  await writeFile(file, [...base, ...podFlowSets.flat()].map(addFlowsLine).join("\n") + "\n");
  const ofctlMs = await timed(() => run(["ovs-ofctl", "-O", "OpenFlow15", "--bundle", "add-flows", node.ovs.mgmtSocket(BRIDGE), file]));
  await rm(file, { force: true });
  const installed = (await run(["ovs-ofctl", "-O", "OpenFlow15", "--no-stats", "dump-flows", node.ovs.mgmtSocket(BRIDGE)])).trim().split("\n").length;
  const total = base.length + podFlowSets.flat().length;
  console.log(`install ${PODS} pods (${total} flows): one bundle per pod ${perPodMs.toFixed(0)} ms; one bundle ${replayMs.toFixed(0)} ms; ovs-ofctl --bundle add-flows ${ofctlMs.toFixed(0)} ms; ratio one bundle / ovs-ofctl ${(replayMs / ofctlMs).toFixed(2)} (ovs-ofctl installed ${installed})`);

  // 3. Heap of the flow cache.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const cache = new FlowSync({ connection: { bundle: async () => undefined } as unknown as OpenFlowConnection });
  // The flows are generated again here so that their objects count too.
  for (let index = 0; index < PODS; index++) await cache.setOwnerFlows(`pod:${index}`, podFlows(context, podSpec(index + 1)));
  gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  console.log(`flow cache for ${PODS} pods: ${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB heap${gc === undefined ? " (run with --expose-gc for a stable figure)" : ""}; process RSS ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB`);

  // 4. Throughput: full pipeline, then one NORMAL flow.
  await run(["ovs-ofctl", "-O", "OpenFlow15", "del-flows", node.ovs.mgmtSocket(BRIDGE)]);
  const common = { bridge: BRIDGE, prefixLength: 24, gateway: "10.244.1.1" };
  pods.push(await addTestPod(node, { ...common, tag: "bn1", ofport: 11, mac: "0a:00:00:00:01:0b", ip: "10.244.1.11" }));
  pods.push(await addTestPod(node, { ...common, tag: "bn2", ofport: 12, mac: "0a:00:00:00:01:0c", ip: "10.244.1.12" }));
  const [server, client] = pods as [TestPod, TestPod];
  const pipeline = new FlowSync({ connection });
  await pipeline.setOwnerFlows("pipeline", base);
  for (const pod of pods) await pipeline.setOwnerFlows(`pod:${pod.ofport}`, podFlows(context, { ofport: pod.ofport, mac: pod.mac, ips: [pod.ip] }));
  // Alternate the two set-ups, because throughput on a shared 2-core machine drifts.
  const usePipeline = async () => {
    await run(["ovs-ofctl", "-O", "OpenFlow15", "del-flows", node.ovs.mgmtSocket(BRIDGE)]);
    await pipeline.replay();
  };
  const useNormal = async () => {
    await run(["ovs-ofctl", "-O", "OpenFlow15", "del-flows", node.ovs.mgmtSocket(BRIDGE)]);
    await run(["ovs-ofctl", "-O", "OpenFlow15", "add-flow", node.ovs.mgmtSocket(BRIDGE), "priority=0,actions=NORMAL"]);
  };
  const pipelineRuns: number[] = [];
  const normalRuns: number[] = [];
  for (let round = 0; round < 2; round++) {
    await usePipeline();
    pipelineRuns.push(await iperf(server, client));
    await useNormal();
    normalRuns.push(await iperf(server, client));
  }
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const show = (values: number[]) => values.map((value) => value.toFixed(2)).join(", ");
  console.log(
    `iperf3 pod to pod, ${IPERF_SECONDS} s per run: pipeline ${show(pipelineRuns)} Gbit/s, NORMAL ${show(normalRuns)} Gbit/s, ` +
      `ratio of means ${(mean(pipelineRuns) / mean(normalRuns)).toFixed(2)}`,
  );
  await connection.close();
} finally {
  await deleteTestPods(pods);
  await node.cleanup();
}

// 5. Agent start with 500 pod ports present (its own OVS, namespace and API server).
const start = await measureAgentStart({ pods: PODS });
const expectedFlows = BASE_FLOWS + FLOWS_PER_POD * PODS;
const marks = start.marks.map((mark) => `${mark.ms.toFixed(0)} ms ${mark.message}`).join("; ");
console.log(
  `agent start with ${PODS} pod ports: ${start.startMs.toFixed(0)} ms to ready (log marks: ${marks}); flows ${start.flowCount} (expected ${expectedFlows}); ` +
    `ovs-ofctl --bundle add-flows of its dump into a fresh bridge ${start.referenceMs.toFixed(0)} ms (${start.referenceFlowCount} flows); ` +
    `ratio start / ovs-ofctl ${(start.startMs / start.referenceMs).toFixed(1)}`,
);
if (start.flowCount !== expectedFlows || start.referenceFlowCount !== expectedFlows) {
  throw new Error(`flow count after agent start is ${start.flowCount} (reference bridge ${start.referenceFlowCount}), expected ${expectedFlows}: the restore path lost or added flows`);
}

// 6. Agent process memory with 0 and 500 pods.
const idle = await measureAgentProcess({ pods: 0 });
const loaded = await measureAgentProcess({ pods: PODS });
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
console.log(
  `agent process, 0 pods: ready in ${idle.readyMs.toFixed(0)} ms, RSS ${mib(idle.rssBytes)} MiB, heapUsed ${mib(idle.heapUsedBytes)} MiB, flows ${idle.flowCount}; ` +
    `${PODS} pods: ready in ${loaded.readyMs.toFixed(0)} ms, RSS ${mib(loaded.rssBytes)} MiB, heapUsed ${mib(loaded.heapUsedBytes)} MiB, flows ${loaded.flowCount}; ` +
    `ratio ${PODS} / 0 pods: RSS ${(loaded.rssBytes / idle.rssBytes).toFixed(2)}, heapUsed ${(loaded.heapUsedBytes / idle.heapUsedBytes).toFixed(2)}`,
);
