// NetworkPolicy conformance matrix on a real two-node Geneve cluster, in the style of the
// Kubernetes network policy e2e suite: namespaces x, y, z, each with pods a, b, c serving
// TCP 80, TCP 81, UDP 80 and SCTP 80. Every scenario applies its policies, waits until the
// whole probed matrix equals the one the NetworkPolicy semantics predict, then deletes them
// and waits for full reachability again. Needs root, Open vSwitch, iproute2, kubectl, and
// socat and python3 for the SCTP probes (see test/labcluster/matrix.ts).
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { downCluster, upCluster } from "../../labcluster/cluster.ts";
import type { RunningCluster } from "../../labcluster/cluster.ts";
import { waitForPodsRunning } from "../../labcluster/pods.ts";
import { ClusterError, ClusterErrorCode } from "../../cluster/index.ts";
import type { PortSpec } from "../../cluster/index.ts";
import { probeClusterMatrix } from "../../labcluster/matrix.ts";
import { diffMatrix, withLoopback } from "./truth-table.ts";
import type { MatrixDiff, MatrixPod, Reachability } from "./truth-table.ts";

// The process id in the name keeps two checkouts on one machine from sharing a cluster.
const name = `symnp${process.pid % 100000}`;
const isRoot = process.getuid?.() === 0;
const namespaces = ["x", "y", "z"] as const;
const podNames = ["a", "b", "c"] as const;
type NodeName = "node1" | "node2";
/** Time a scenario may take to show its matrix, because the agents realize policies asynchronously. */
const settleMs = 20_000;

const tcp80: PortSpec = { port: 80, protocol: "tcp" };
const tcp81: PortSpec = { port: 81, protocol: "tcp" };
const udp80: PortSpec = { port: 80, protocol: "udp" };
const sctp80: PortSpec = { port: 80, protocol: "sctp" };
const allPorts = [tcp80, tcp81, udp80, sctp80] as const;

/** Pods alternate between the nodes in x/a, x/b, ..., z/c order, so every namespace spans both. */
function nodeOf(pod: MatrixPod): NodeName {
  const index = namespaces.indexOf(pod.namespace as (typeof namespaces)[number]) * podNames.length + podNames.indexOf(pod.name as (typeof podNames)[number]);
  return index % 2 === 0 ? "node1" : "node2";
}

const matrixPods = namespaces.flatMap((namespace) => podNames.map((pod) => `${namespace}/${pod}`));
const isXa = (pod: MatrixPod): boolean => pod.namespace === "x" && pod.name === "a";
const samePort = (a: PortSpec, b: PortSpec): boolean => a.port === b.port && a.protocol === b.protocol;
const allReachable: Reachability = () => true;

function workloadManifests(): string {
  const documents: string[] = [];
  for (const namespace of namespaces) {
    documents.push(`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "${namespace}"\n  labels: { ns: "${namespace}" }`);
    for (const pod of podNames) {
      documents.push(
        [
          "apiVersion: v1",
          "kind: Pod",
          `metadata: { name: "${pod}", namespace: "${namespace}", labels: { pod: "${pod}" } }`,
          "spec:",
          `  nodeName: ${nodeOf({ namespace, name: pod })}`,
          "  containers:",
          "  - name: echo",
          "    image: switchyard/echo-server",
          "    ports:",
          "    - { name: serve-80-tcp, containerPort: 80, protocol: TCP }",
          "    - { name: serve-81-tcp, containerPort: 81, protocol: TCP }",
          "    - { name: serve-80-udp, containerPort: 80, protocol: UDP }",
          // The echo server records SCTP packets to its SCTP containerPorts.
          "    - { name: serve-80-sctp, containerPort: 80, protocol: SCTP }",
        ].join("\n"),
      );
    }
  }
  return documents.join("\n---\n");
}

/** Raises naming the package when a program the SCTP probes run is not on PATH. */
function assertSctpToolsInstalled(): void {
  for (const [command, packageName] of [["socat", "socat"], ["python3", "python3"]] as const) {
    try {
      execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    } catch (error) {
      throw new Error(`${command} is not installed, and the SCTP probes need it: apt-get install ${packageName}`, { cause: error });
    }
  }
}

function kubectl(cluster: RunningCluster, args: readonly string[], input?: string): string {
  return execFileSync("kubectl", ["--kubeconfig", cluster.state.kubeconfig, ...args], { encoding: "utf8", input });
}

/**
 * Probes `ports` until the whole matrix equals `expected` or `settleMs` has passed, and
 * returns the last comparison. Polling, not a fixed sleep, because the agents install flows
 * some time after the API server stores the policy. A round whose probe client fails (on a
 * loaded machine one can exceed its time limit) is retried like a mismatch, and a failure
 * past the deadline is raised.
 */
async function settleMatrix(cluster: RunningCluster, options: { expected: Reachability; ports: readonly PortSpec[] }): Promise<MatrixDiff> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    let diff: MatrixDiff | undefined;
    try {
      const observed = await probeClusterMatrix(cluster, { namespaces, ports: options.ports });
      diff = diffMatrix({ pods: matrixPods, observed, expected: withLoopback(options.expected), ports: options.ports });
    } catch (error) {
      if (!(error instanceof ClusterError && error.code === ClusterErrorCode.ProbeFailed) || Date.now() > deadline) throw error;
    }
    if (diff !== undefined && (diff.equal || Date.now() > deadline)) return diff;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function assertMatrix(cluster: RunningCluster, options: { what: string; expected: Reachability; ports: readonly PortSpec[] }): Promise<void> {
  const diff = await settleMatrix(cluster, options);
  assert.ok(diff.equal, `${options.what}: the matrix differs from the NetworkPolicy semantics after ${settleMs} ms\n${diff.text}`);
}

/** Applies `yaml`, checks the matrix, and always deletes the policies and checks full reachability. */
async function runScenario(cluster: RunningCluster, options: { what: string; yaml: string; expected: Reachability; ports: readonly PortSpec[] }): Promise<void> {
  kubectl(cluster, ["apply", "-f", "-"], options.yaml);
  try {
    await assertMatrix(cluster, options);
  } finally {
    kubectl(cluster, ["delete", "--ignore-not-found", "-f", "-"], options.yaml);
  }
  await assertMatrix(cluster, { what: `${options.what}, after deleting the policies`, expected: allReachable, ports: options.ports });
}

function policy(options: { namespace: string; name: string; spec: string }): string {
  return `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: "${options.name}", namespace: "${options.namespace}" }\nspec:\n${options.spec}`;
}

describe("NetworkPolicy conformance matrix (x, y, z by a, b, c)", { skip: isRoot ? false : "needs root", timeout: 290_000 }, () => {
  let running: RunningCluster | undefined;
  const cluster = (): RunningCluster => {
    assert.ok(running !== undefined, "the cluster is up");
    return running;
  };

  before(async () => {
    assertSctpToolsInstalled();
    await downCluster({ name });
    running = await upCluster({ name, nodes: 2, mode: "geneve" });
    kubectl(running, ["apply", "-f", "-"], workloadManifests());
    for (const namespace of namespaces) {
      await waitForPodsRunning({ state: running.state, namespace, names: podNames, timeoutMs: 90_000 });
    }
  });

  after(async () => {
    await downCluster({ name });
  });

  test("no policy: all reachable", async () => {
    await assertMatrix(cluster(), { what: "no policy", expected: allReachable, ports: allPorts });
  });

  test("(1) default deny ingress", async () => {
    await runScenario(cluster(), {
      what: "default deny ingress in x",
      yaml: policy({ namespace: "x", name: "deny-ingress", spec: "  podSelector: {}\n  policyTypes: [Ingress]" }),
      expected: (_from, to) => to.namespace !== "x",
      ports: allPorts,
    });
  });

  test("(2) default deny egress", async () => {
    await runScenario(cluster(), {
      what: "default deny egress in x",
      yaml: policy({ namespace: "x", name: "deny-egress", spec: "  podSelector: {}\n  policyTypes: [Egress]" }),
      expected: (from) => from.namespace !== "x",
      ports: [tcp80, udp80, sctp80],
    });
  });

  test("(3) ingress from namespace y", async () => {
    await runScenario(cluster(), {
      what: "ingress to x/a from ns=y",
      yaml: policy({ namespace: "x", name: "a-from-y", spec: "  podSelector: { matchLabels: { pod: 'a' } }\n  ingress:\n  - from:\n    - namespaceSelector: { matchLabels: { ns: 'y' } }" }),
      expected: (from, to) => !isXa(to) || from.namespace === "y",
      ports: [tcp80],
    });
  });

  test("(4a) namespace AND pod selector", async () => {
    await runScenario(cluster(), {
      what: "ingress to x/a from ns=y AND pod=b",
      yaml: policy({ namespace: "x", name: "a-from-y-b", spec: "  podSelector: { matchLabels: { pod: 'a' } }\n  ingress:\n  - from:\n    - namespaceSelector: { matchLabels: { ns: 'y' } }\n      podSelector: { matchLabels: { pod: 'b' } }" }),
      expected: (from, to) => !isXa(to) || (from.namespace === "y" && from.name === "b"),
      ports: [tcp80],
    });
  });

  test("(4b) namespace OR pod selector", async () => {
    // A peer with only a podSelector selects pods of the policy's own namespace (x).
    await runScenario(cluster(), {
      what: "ingress to x/a from ns=y OR pod=b in x",
      yaml: policy({ namespace: "x", name: "a-from-y-or-b", spec: "  podSelector: { matchLabels: { pod: 'a' } }\n  ingress:\n  - from:\n    - namespaceSelector: { matchLabels: { ns: 'y' } }\n    - podSelector: { matchLabels: { pod: 'b' } }" }),
      expected: (from, to) => !isXa(to) || from.namespace === "y" || (from.namespace === "x" && from.name === "b"),
      ports: [tcp80],
    });
  });

  test("(5) named port serve-81-tcp", async () => {
    await runScenario(cluster(), {
      what: "ingress to x/a on the named port serve-81-tcp",
      yaml: policy({ namespace: "x", name: "a-named-81", spec: "  podSelector: { matchLabels: { pod: 'a' } }\n  ingress:\n  - ports:\n    - { port: serve-81-tcp, protocol: TCP }" }),
      expected: (_from, to, port) => !isXa(to) || samePort(port, tcp81),
      ports: [tcp80, tcp81, sctp80],
    });
  });

  test("(6) endPort range TCP 80-81", async () => {
    // UDP 80 and SCTP 80 fall inside the range but not under its protocol.
    await runScenario(cluster(), {
      what: "ingress to x/a on TCP 80 to 81",
      yaml: policy({ namespace: "x", name: "a-range", spec: "  podSelector: { matchLabels: { pod: 'a' } }\n  ingress:\n  - ports:\n    - { port: 80, endPort: 81, protocol: TCP }" }),
      expected: (_from, to, port) => !isXa(to) || port.protocol === "tcp",
      ports: allPorts,
    });
  });

  test("(7) ipBlock with except", async () => {
    const node2Cidr = kubectl(cluster(), ["get", "node", "node2", "-o", "jsonpath={.spec.podCIDR}"]).trim();
    assert.match(node2Cidr, /^10\.244\.\d+\.0\/24$/, "node2 has a /24 of the cluster CIDR");
    await runScenario(cluster(), {
      what: `ingress to x/a from 10.244.0.0/16 except ${node2Cidr}`,
      yaml: policy({ namespace: "x", name: "a-ipblock", spec: `  podSelector: { matchLabels: { pod: 'a' } }\n  ingress:\n  - from:\n    - ipBlock: { cidr: 10.244.0.0/16, except: [${node2Cidr}] }` }),
      expected: (from, to) => !isXa(to) || nodeOf(from) === "node1",
      ports: [tcp80],
    });
  });

  test("(8a) egress rule with ports", async () => {
    await runScenario(cluster(), {
      what: "egress from x/a on TCP 80",
      yaml: policy({ namespace: "x", name: "a-egress-80", spec: "  podSelector: { matchLabels: { pod: 'a' } }\n  policyTypes: [Egress]\n  egress:\n  - ports:\n    - { port: 80, protocol: TCP }" }),
      expected: (from, _to, port) => !isXa(from) || samePort(port, tcp80),
      ports: [tcp80, tcp81, sctp80],
    });
  });

  test("(8b) egress rule without ports", async () => {
    await runScenario(cluster(), {
      what: "egress from x/a to ns=y",
      yaml: policy({ namespace: "x", name: "a-egress-y", spec: "  podSelector: { matchLabels: { pod: 'a' } }\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - namespaceSelector: { matchLabels: { ns: 'y' } }" }),
      expected: (from, to) => !isXa(from) || to.namespace === "y",
      ports: [tcp80, tcp81],
    });
  });

  test("(9) policy update and deletion", async () => {
    const onPort = (port: number): string =>
      policy({ namespace: "x", name: "a-port", spec: `  podSelector: { matchLabels: { pod: 'a' } }\n  ingress:\n  - ports:\n    - { port: ${port}, protocol: TCP }` });
    const ports = [tcp80, tcp81, sctp80];
    kubectl(cluster(), ["apply", "-f", "-"], onPort(80));
    try {
      await assertMatrix(cluster(), { what: "x/a open on TCP 80", expected: (_from, to, port) => !isXa(to) || samePort(port, tcp80), ports });
      kubectl(cluster(), ["apply", "-f", "-"], onPort(81));
      await assertMatrix(cluster(), { what: "x/a open on TCP 81 after the update", expected: (_from, to, port) => !isXa(to) || samePort(port, tcp81), ports });
    } finally {
      kubectl(cluster(), ["delete", "--ignore-not-found", "-f", "-"], onPort(81));
    }
    await assertMatrix(cluster(), { what: "after deleting the policy", expected: allReachable, ports });
  });

  test("(10) pod and namespace relabel", async () => {
    const yaml = policy({ namespace: "x", name: "a-from-y-b", spec: "  podSelector: { matchLabels: { pod: 'a' } }\n  ingress:\n  - from:\n    - namespaceSelector: { matchLabels: { ns: 'y' } }\n      podSelector: { matchLabels: { pod: 'b' } }" });
    const ports = [tcp80];
    const allowedBy = (peers: readonly string[]): Reachability => (from, to) => !isXa(to) || peers.includes(`${from.namespace}/${from.name}`);
    kubectl(cluster(), ["apply", "-f", "-"], yaml);
    try {
      await assertMatrix(cluster(), { what: "only y/b reaches x/a", expected: allowedBy(["y/b"]), ports });
      kubectl(cluster(), ["label", "pod", "c", "-n", "y", "pod=b", "--overwrite"]);
      await assertMatrix(cluster(), { what: "y/c relabeled pod=b", expected: allowedBy(["y/b", "y/c"]), ports });
      kubectl(cluster(), ["label", "namespace", "z", "ns=y", "--overwrite"]);
      await assertMatrix(cluster(), { what: "namespace z relabeled ns=y", expected: allowedBy(["y/b", "y/c", "z/b"]), ports });
    } finally {
      kubectl(cluster(), ["label", "pod", "c", "-n", "y", "pod=c", "--overwrite"]);
      kubectl(cluster(), ["label", "namespace", "z", "ns=z", "--overwrite"]);
    }
    await assertMatrix(cluster(), { what: "labels restored", expected: allowedBy(["y/b"]), ports });
    kubectl(cluster(), ["delete", "--ignore-not-found", "-f", "-"], yaml);
    await assertMatrix(cluster(), { what: "after deleting the policy", expected: allReachable, ports });
  });

  test("(11) SCTP 80 from namespace y", async () => {
    // Pods of x and z probe x/a right after x/a probed them, which conntrack would take for
    // replies without the flushes of test/labcluster/matrix.ts.
    await runScenario(cluster(), {
      what: "ingress to x/a on SCTP 80 from ns=y",
      yaml: policy({
        namespace: "x",
        name: "a-sctp-from-y",
        spec: "  podSelector: { matchLabels: { pod: 'a' } }\n  ingress:\n  - from:\n    - namespaceSelector: { matchLabels: { ns: 'y' } }\n    ports:\n    - { port: 80, protocol: SCTP }",
      }),
      expected: (from, to, port) => !isXa(to) || (from.namespace === "y" && samePort(port, sctp80)),
      ports: [tcp80, udp80, sctp80],
    });
  });

  test("(12) named port serve-80-sctp", async () => {
    await runScenario(cluster(), {
      what: "ingress to x/a on the named port serve-80-sctp",
      yaml: policy({ namespace: "x", name: "a-named-sctp", spec: "  podSelector: { matchLabels: { pod: 'a' } }\n  ingress:\n  - ports:\n    - { port: serve-80-sctp, protocol: SCTP }" }),
      expected: (_from, to, port) => !isXa(to) || samePort(port, sctp80),
      ports: [tcp80, sctp80],
    });
  });
});
