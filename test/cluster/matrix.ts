// The reachability matrix: every selected pod probes every selected pod, itself included, on
// every port. The result prints as truth tables in the style of the Kubernetes network
// policy conformance tests. Rows are sources and columns are targets. A cell is '.' for
// reachable, 'X' for blocked and '?' for not probed. Cells are separated by tabs, and the
// corner contains '-'.
import { CoreV1Api } from "@kubernetes/client-node";
import type { V1Pod } from "@kubernetes/client-node";

import { conformancePorts, isProbeable, podKey, probeFrom } from "./probe.ts";
import type { PortSpec, ProbeContext, ProbeResult } from "./probe.ts";

/** Reachability of one port: reachable[from][to]. */
export interface PortReachability {
  port: number;
  protocol: PortSpec["protocol"];
  reachable: Record<string, Record<string, boolean>>;
}

/** Result of probeMatrix, and also its --json form. */
export interface ReachabilityMatrix {
  /** "namespace/name" of every probed pod, sorted, in the order of rows and columns. */
  pods: string[];
  ports: PortReachability[];
  /** Every single probe with its reason for a blocked result. */
  probes: ProbeResult[];
}

/** Maximum source pods probed at the same time. Each runs one probe client process. */
const maxConcurrentSources = 4;

/**
 * Probes every Running pod with an IP in `namespaces` (default: all namespaces) from every
 * such pod on each of `ports` (default TCP 80, TCP 81, UDP 80).
 */
export async function probeMatrix(options: ProbeContext & { namespaces?: readonly string[]; ports?: readonly PortSpec[] }): Promise<ReachabilityMatrix> {
  const ports = options.ports ?? conformancePorts;
  const pods = await listProbeablePods(options);
  const targets = pods.flatMap((pod) => ports.map((port) => ({ pod, port })));

  const probes: ProbeResult[] = [];
  for (let start = 0; start < pods.length; start += maxConcurrentSources) {
    const batch = pods.slice(start, start + maxConcurrentSources);
    const results = await Promise.all(batch.map((from) => probeFrom({ context: options, from, targets })));
    probes.push(...results.flat());
  }
  return buildMatrix({ pods: pods.map(podKey), ports, probes });
}

/** Groups single probe results into one reachability table per port. */
export function buildMatrix(options: { pods: readonly string[]; ports: readonly PortSpec[]; probes: readonly ProbeResult[] }): ReachabilityMatrix {
  const ports = options.ports.map((spec) => {
    const reachable: Record<string, Record<string, boolean>> = {};
    for (const probe of options.probes) {
      if (probe.port !== spec.port || probe.protocol !== spec.protocol) continue;
      (reachable[probe.from] ??= {})[probe.to] = probe.reachable;
    }
    return { port: spec.port, protocol: spec.protocol, reachable };
  });
  return { pods: [...options.pods], ports, probes: [...options.probes] };
}

/** Renders one port's truth table, preceded by a title line such as "TCP/80". */
export function renderTruthTable(options: { pods: readonly string[]; table: PortReachability }): string {
  const { pods, table } = options;
  const lines = [`${table.protocol.toUpperCase()}/${table.port}`, ["-", ...pods].join("\t")];
  for (const from of pods) {
    const cells = pods.map((to) => {
      const value = table.reachable[from]?.[to];
      if (value === undefined) return "?";
      return value ? "." : "X";
    });
    lines.push([from, ...cells].join("\t"));
  }
  return lines.join("\n");
}

/** Renders every port's truth table, separated by blank lines. */
export function renderMatrix(matrix: ReachabilityMatrix): string {
  return matrix.ports.map((table) => renderTruthTable({ pods: matrix.pods, table })).join("\n\n");
}

async function listProbeablePods(options: ProbeContext & { namespaces?: readonly string[] }): Promise<V1Pod[]> {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const lists =
    options.namespaces === undefined
      ? [await core.listPodForAllNamespaces()]
      : await Promise.all(options.namespaces.map((namespace) => core.listNamespacedPod({ namespace })));
  return lists
    .flatMap((list) => list.items)
    .filter(isProbeable)
    .sort((a, b) => (podKey(a) < podKey(b) ? -1 : podKey(a) > podKey(b) ? 1 : 0));
}
