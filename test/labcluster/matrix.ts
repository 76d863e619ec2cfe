// Probing every pod of a local cluster from every pod, SCTP included. Open vSwitch 3.1's userspace conntrack keys
// SCTP by the address pair alone and counts any SCTP packet from B to A as the reply of an
// entry that a packet from A to B opened. A probe from B to A after one from A to B would
// then pass as established, whatever the policies allow from B to A.
//
// So a round runs in two passes, with every node's SCTP conntrack entries flushed before
// each. The forward pass probes each pod's own address and the pods after it in name order,
// the backward pass the pods before it, so each pass probes a pair in one direction only.
// TCP and UDP probes have their own conntrack entries and go along with the forward pass, in
// the same probe client, which saves a process per pod.
import { CoreV1Api } from "@kubernetes/client-node";
import type { V1Pod } from "@kubernetes/client-node";

import type { RunningCluster } from "./cluster.ts";
import { loadClusterKubeConfig } from "./cluster.ts";
import { ovsPaths, run } from "../lab/index.ts";
import { buildMatrix, podKey, probeFrom } from "../cluster/index.ts";
import type { PortSpec, ProbeResult, ProbeTarget, ReachabilityMatrix } from "../cluster/index.ts";
import { isProbeable } from "../cluster/probe.ts";

/** IP protocol number of SCTP, the ct_nw_proto of the entries to flush. */
const sctpProtocolNumber = 132;

/**
 * Removes every SCTP conntrack entry, in all zones, from each node's ovs-vswitchd. Leaves
 * TCP, UDP and ICMP entries alone. Idempotent.
 */
export async function flushSctpConntrack(cluster: RunningCluster): Promise<void> {
  await Promise.all(
    cluster.lab.nodes.map((node) => run(["ovs-appctl", "-t", ovsPaths(node.ovsDir).vswitchdCtl, "dpctl/flush-conntrack", `ct_nw_proto=${sctpProtocolNumber}`], { timeoutMs: 10_000 })),
  );
}

/**
 * Probes every Running pod of `namespaces` (default: every namespace) from every such pod on
 * each of `ports`, in the
 * passes described above, with one probe client per source pod and pass, all at once.
 * Returns the matrix in probeMatrix's form. Raises PROBE_FAILED when a probe client fails.
 */
export async function probeClusterMatrix(cluster: RunningCluster, options: { namespaces?: readonly string[]; ports: readonly PortSpec[] }): Promise<ReachabilityMatrix> {
  const context = { kubeConfig: loadClusterKubeConfig(cluster.state), netnsPrefix: cluster.state.netnsPrefix };
  const pods = await listProbeablePods(cluster, options.namespaces);
  const sctpPorts = options.ports.filter((port) => port.protocol === "sctp");
  const otherPorts = options.ports.filter((port) => port.protocol !== "sctp");
  const targetsOf = (peers: readonly V1Pod[], ports: readonly PortSpec[]): ProbeTarget[] => peers.flatMap((pod) => ports.map((port) => ({ pod, port })));

  const passes = [
    pods.map((_from, index) => [...targetsOf(pods, otherPorts), ...targetsOf(pods.slice(index), sctpPorts)]),
    pods.map((_from, index) => targetsOf(pods.slice(0, index), sctpPorts)),
  ];
  const probes: ProbeResult[] = [];
  for (const pass of passes) {
    if (sctpPorts.length > 0) await flushSctpConntrack(cluster);
    const results = await Promise.all(pods.map((from, index) => {
      const targets = pass[index] ?? [];
      return targets.length === 0 ? [] : probeFrom({ context, from, targets });
    }));
    probes.push(...results.flat());
  }
  return buildMatrix({ pods: pods.map(podKey), ports: options.ports, probes });
}

async function listProbeablePods(cluster: RunningCluster, namespaces: readonly string[] | undefined): Promise<V1Pod[]> {
  const core = loadClusterKubeConfig(cluster.state).makeApiClient(CoreV1Api);
  const lists = namespaces === undefined ? [await core.listPodForAllNamespaces()] : await Promise.all(namespaces.map((namespace) => core.listNamespacedPod({ namespace })));
  return lists
    .flatMap((list) => list.items)
    .filter(isProbeable)
    .sort((a, b) => (podKey(a) < podKey(b) ? -1 : podKey(a) > podKey(b) ? 1 : 0));
}
