// The objects of the policy-latency benchmark: namespaces, pods spread over every node, and
// the NetworkPolicy whose realization is timed.
//
// Half the pods are backends in one namespace, and the policy selects all of them, so its
// applied-to group spans every node. The other half are spread over five frontend
// namespaces. Two thirds of them carry role=client, which the policy allows, so the peers
// form an address group of about a third of all pods. A second rule allows the backends'
// own namespace, a second large address group. One echo-server backend per node is a probe
// target. The prober pod is a frontend with role=probe, which no rule allows.
import type { V1Namespace, V1NetworkPolicy, V1Pod } from "@kubernetes/client-node";

import { workloadImages } from "../../cluster/workload-spec.ts";

/** Prefix of every namespace and object name the benchmark creates. */
export const namePrefix = "syrlat";

export const backendNamespace = `${namePrefix}-backend`;
export const frontendNamespaceCount = 5;
export const proberNamespace = `${namePrefix}-front1`;
export const proberPodName = "prober";
export const policyName = `${namePrefix}-backend-ingress`;
/** UDP port the targets echo on, which the policy allows from clients only. */
export const targetPort = 80;

/** Where the benchmark's pods go and what they run. */
export interface Layout {
  namespaces: V1Namespace[];
  pods: V1Pod[];
  /** Target pod name per node name, all in backendNamespace. */
  targets: Map<string, string>;
  /** Counts for the report. */
  counts: { backends: number; clients: number; others: number };
}

/** Returns the target pod's name on `node`. */
export function targetPodName(node: string): string {
  return `target-${node}`;
}

/**
 * Lays out `pods` pods over `nodes` (round robin in creation order). Raises RangeError when
 * there are too few pods for one target per node, the prober and one pod per frontend namespace.
 */
export function buildLayout(options: { nodes: readonly string[]; pods: number }): Layout {
  const { nodes, pods } = options;
  const minimum = nodes.length + 1 + frontendNamespaceCount;
  if (!Number.isInteger(pods) || pods < minimum) throw new RangeError(`invalid pod count ${pods}: give an integer of at least ${minimum} for ${nodes.length} nodes`);

  const namespaces: V1Namespace[] = [namespace(backendNamespace, "backend")];
  const result: V1Pod[] = [];
  const nodeAt = (index: number): string => nodes[index % nodes.length] ?? "";
  const targets = new Map<string, string>();

  const backends = Math.floor(pods / 2);
  for (const node of nodes) {
    const name = targetPodName(node);
    targets.set(node, name);
    result.push(pod({ namespace: backendNamespace, name, node, labels: { tier: "backend", role: "target" }, echo: true }));
  }
  for (let index = nodes.length; index < backends; index += 1) {
    result.push(pod({ namespace: backendNamespace, name: `backend-${index}`, node: nodeAt(index), labels: { tier: "backend", role: "api" } }));
  }

  // The prober is the first frontend pod; it runs on the first node and probes every node.
  result.push(pod({ namespace: proberNamespace, name: proberPodName, node: nodes[0] ?? "", labels: { tier: "frontend", role: "probe" } }));
  const frontends = pods - backends - 1;
  let clients = 0;
  for (let index = 0; index < frontends; index += 1) {
    const ns = `${namePrefix}-front${(index % frontendNamespaceCount) + 1}`;
    const isClient = index % 3 !== 2;
    if (isClient) clients += 1;
    result.push(pod({ namespace: ns, name: `frontend-${index}`, node: nodeAt(backends + 1 + index), labels: { tier: "frontend", role: isClient ? "client" : "batch" } }));
  }
  for (let index = 1; index <= frontendNamespaceCount; index += 1) namespaces.push(namespace(`${namePrefix}-front${index}`, "frontend"));

  return { namespaces, pods: result, targets, counts: { backends, clients, others: pods - backends - clients } };
}

/** Builds the timed policy: backends accept UDP 80 and TCP 8080 from frontend clients, and anything from their own namespace. */
export function backendPolicy(): V1NetworkPolicy {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: policyName, namespace: backendNamespace },
    spec: {
      podSelector: { matchLabels: { tier: "backend" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          _from: [{ namespaceSelector: { matchLabels: { tier: "frontend" } }, podSelector: { matchLabels: { role: "client" } } }],
          ports: [
            { protocol: "UDP", port: targetPort },
            { protocol: "TCP", port: 8080 },
          ],
        },
        { _from: [{ podSelector: {} }] },
      ],
    },
  };
}

function namespace(name: string, tier: string): V1Namespace {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { tier } } };
}

function pod(options: { namespace: string; name: string; node: string; labels: Record<string, string>; echo?: boolean }): V1Pod {
  const container = options.echo === true ? { name: "echo", image: workloadImages.echoServer, args: ["--udp", String(targetPort)] } : { name: "idle", image: workloadImages.idle };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: options.name, namespace: options.namespace, labels: options.labels },
    spec: { nodeName: options.node, containers: [container] },
  };
}
