// Scale benchmark of the NetworkPolicy computation, at the two scales for which Antrea
// publishes controller figures (pkg/controller/networkpolicy/networkpolicy_controller_perf_test.go):
//
//   namespaces  pods     policies  Antrea time (s)  Antrea memory (MB, Go heap peak)
//   25,000      100,000  75,000    5.84 - 6.42      1,522 - 1,708
//   1           10,000   10,000    10.66            1,157
//
// The objects have the same shape as Antrea's. Each small namespace has a deny-all policy and
// two policies that each select two of its four pods and allow ingress from the same two pods.
// In the one-namespace case every policy selects every pod and allows ingress from every pod.
// Pods are spread at random over 1,000 nodes. Ours add container ports and rule ports.
//
// Each scale and mode runs in its own child process started with --expose-gc, so one run's
// heap cannot inflate another's figures. Usage:
//   node test/bench/controller-policy.bench.ts [small|one-namespace|mixed|all] [--digest]
// The default scale is all. --digest also hashes every event each node receives (the load and
// the label change) and prints one digest per run, so a change to the computation can be
// checked for identical output. Its timings then include the hashing and mean nothing.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import type { Hash } from "node:crypto";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import type { V1Namespace, V1NetworkPolicy, V1Pod } from "@kubernetes/client-node";
import { NetworkPolicyComputer } from "../../controller/networkpolicy/computer.ts";
import type { SliceEvent } from "../../controller/networkpolicy/types.ts";

interface Scale {
  name: string;
  namespaces: number;
  pods: number;
  policies: number;
  antreaSeconds: number;
  antreaMegabytes: number;
}

// Antrea's published runs; where it lists several, the mean.
const scales: Record<string, Scale> = {
  small: { name: "small", namespaces: 25_000, pods: 100_000, policies: 75_000, antreaSeconds: (6.1 + 5.84 + 6.42) / 3, antreaMegabytes: (1626 + 1522 + 1708) / 3 },
  "one-namespace": { name: "one-namespace", namespaces: 1, pods: 10_000, policies: 10_000, antreaSeconds: 10.66, antreaMegabytes: 1157 },
  // Not one of Antrea's workloads: the small-namespace shape with namespace-selector peers.
  // Its Antrea figures are the small scale's, as the nearest published reference.
  mixed: { name: "mixed", namespaces: 25_000, pods: 100_000, policies: 75_000, antreaSeconds: (6.1 + 5.84 + 6.42) / 3, antreaMegabytes: (1626 + 1522 + 1708) / 3 },
};

const nodeCount = 1000;

/** Returns a seeded PRNG (mulberry32), so every run builds the same cluster. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Cluster {
  namespaces: V1Namespace[];
  pods: V1Pod[];
  policies: V1NetworkPolicy[];
}

function makePod(random: () => number, namespace: string, name: string, labels: Record<string, string>): V1Pod {
  const ip = `10.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 254) + 1}`;
  return {
    metadata: { namespace, name, uid: `${namespace}-${name}`, labels },
    spec: {
      nodeName: `node-${Math.floor(random() * nodeCount)}`,
      containers: [{ name: "app", ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }] }],
    },
    status: { phase: "Running", podIP: ip, podIPs: [{ ip }] },
  };
}

function makePolicy(namespace: string, name: string, selector: Record<string, string> | null): V1NetworkPolicy {
  return {
    metadata: { namespace, name, uid: `${namespace}-${name}` },
    spec: {
      podSelector: { matchLabels: selector ?? undefined },
      policyTypes: ["Ingress", "Egress"],
      ingress: selector === null ? undefined : [{ _from: [{ podSelector: { matchLabels: selector } }], ports: [{ port: "http" }, { port: 9090 }] }],
    },
  };
}

function smallNamespaces(scale: Scale): Cluster {
  const random = randomSource(1);
  const cluster: Cluster = { namespaces: [], pods: [], policies: [] };
  for (let i = 0; i < scale.namespaces; i += 1) {
    const namespace = `ns-${i}`;
    cluster.namespaces.push({ metadata: { name: namespace, labels: { "kubernetes.io/metadata.name": namespace, team: `team-${i % 100}` } } });
    const web = { app: "web", tier: "frontend" };
    const db = { app: "db", tier: "backend" };
    cluster.policies.push(makePolicy(namespace, "default-deny-all", null), makePolicy(namespace, "allow-web", web), makePolicy(namespace, "allow-db", db));
    cluster.pods.push(
      makePod(random, namespace, "web-0", web),
      makePod(random, namespace, "web-1", web),
      makePod(random, namespace, "db-0", db),
      makePod(random, namespace, "db-1", db),
    );
  }
  return cluster;
}

// Like smallNamespaces, but the db policy also admits the web pods of every namespace of the
// same team (100 teams of 250 namespaces), through a namespaceSelector AND podSelector peer,
// and egress to DNS pods in a "dns" namespace. So 100 address groups have 500 members each and
// are needed on most nodes.
function mixedNamespaces(scale: Scale): Cluster {
  const cluster = smallNamespaces(scale);
  const random = randomSource(3);
  cluster.namespaces.push({ metadata: { name: "dns", labels: { "kubernetes.io/metadata.name": "dns" } } });
  for (let i = 0; i < 4; i += 1) cluster.pods.push(makePod(random, "dns", `dns-${i}`, { app: "dns" }));
  for (const policy of cluster.policies) {
    if (policy.metadata?.name !== "allow-db" || policy.spec === undefined) continue;
    const index = Number(policy.metadata.namespace?.slice("ns-".length));
    policy.spec.ingress?.push({
      _from: [{ namespaceSelector: { matchLabels: { team: `team-${index % 100}` } }, podSelector: { matchLabels: { app: "web" } } }],
      ports: [{ port: 5432 }],
    });
    policy.spec.egress = [
      {
        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "dns" } }, podSelector: { matchLabels: { app: "dns" } } }],
        ports: [{ port: 53, protocol: "UDP" }],
      },
    ];
  }
  return cluster;
}

function oneNamespace(scale: Scale): Cluster {
  const random = randomSource(2);
  const namespace = "big";
  const labels = { app: "web", tier: "frontend" };
  const cluster: Cluster = { namespaces: [{ metadata: { name: namespace, labels: { app: namespace } } }], pods: [], policies: [] };
  for (let i = 0; i < scale.pods; i += 1) cluster.pods.push(makePod(random, namespace, `pod-${i}`, labels));
  for (let i = 0; i < scale.policies; i += 1) cluster.policies.push(makePolicy(namespace, `np-${i}`, labels));
  return cluster;
}

/** Peak memory, sampled during the load (without gc) and once more after gc at the end. */
class MemoryPeaks {
  rss = 0;
  heapUsed = 0;

  sample(): void {
    const usage = process.memoryUsage();
    this.rss = Math.max(this.rss, usage.rss);
    this.heapUsed = Math.max(this.heapUsed, usage.heapUsed);
  }
}

const megabytes = (bytes: number): number => Math.round(bytes / 1024 / 1024);

type Mode = "each" | "batch";

/**
 * SHA-256 of every event each node receives, in delivery order, one JSON line per event.
 * Batch boundaries do not enter the hash, only the events and their order per node.
 */
class EventDigest {
  private readonly byNode = new Map<string, Hash>();

  add(nodeName: string, events: readonly SliceEvent[]): void {
    let hash = this.byNode.get(nodeName);
    if (hash === undefined) {
      hash = createHash("sha256");
      this.byNode.set(nodeName, hash);
    }
    for (const event of events) hash.update(`${JSON.stringify(event)}\n`);
  }

  /** Returns one hex digest over the node names and their digests, in node-name order. */
  finish(): string {
    const combined = createHash("sha256");
    for (const nodeName of [...this.byNode.keys()].sort()) {
      combined.update(`${nodeName} ${this.byNode.get(nodeName)?.digest("hex") ?? ""}\n`);
    }
    return combined.digest("hex");
  }
}

function runScale(scale: Scale, mode: Mode, options: { digest: boolean }): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with node --expose-gc so memory is measured after garbage collection");

  const builders: Record<string, (scale: Scale) => Cluster> = { small: smallNamespaces, "one-namespace": oneNamespace, mixed: mixedNamespaces };
  const cluster = (builders[scale.name] ?? smallNamespaces)(scale);
  gc();
  const baseline = process.memoryUsage();
  const peaks = new MemoryPeaks();

  const computer = new NetworkPolicyComputer();
  const digest = options.digest ? new EventDigest() : null;
  let eventCount = 0;
  computer.onUpdate((nodeName: string, events: SliceEvent[]) => {
    digest?.add(nodeName, events);
    eventCount += events.length;
    if (eventCount % 1000 < events.length) peaks.sample();
  });

  // Informers list namespaces, pods and policies. In "each" mode every object is one input
  // call with its own events, as informer event handlers make them. In "batch" mode the
  // whole list is one runBatch call, as the daemon's initial sync makes it.
  const started = performance.now();
  const cpuStarted = process.cpuUsage();
  let done = 0;
  const tick = (): void => {
    done += 1;
    if (done % 5000 === 0) peaks.sample();
  };
  const load = (): void => {
    for (const namespace of cluster.namespaces) {
      computer.upsertNamespace(namespace);
      tick();
    }
    for (const pod of cluster.pods) {
      computer.upsertPod(pod);
      tick();
    }
    for (const policy of cluster.policies) {
      computer.upsertPolicy(policy);
      tick();
    }
  };
  if (mode === "batch") {
    computer.runBatch(load);
  } else {
    load();
  }
  const initialSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  const initialCpuSeconds = (cpu.user + cpu.system) / 1e6;
  peaks.sample();
  gc();
  const retained = process.memoryUsage();

  // One pod label change: the pod leaves its groups and joins others, and the nodes that
  // need the change get their events, synchronously, before upsertPod returns.
  const moved = cluster.pods[Math.floor(cluster.pods.length / 2)];
  if (moved?.metadata === undefined) throw new Error("no pod to relabel");
  const movedToDb = moved.metadata.labels?.app !== "db";
  const newLabels = movedToDb ? { app: "db", tier: "backend" } : { app: "web", tier: "frontend" };
  const relabeled: V1Pod = { ...moved, metadata: { ...moved.metadata, labels: newLabels } };
  const updateNodes = new Set<string>();
  const stop = computer.onUpdate((nodeName) => updateNodes.add(nodeName));
  const changeStarted = performance.now();
  computer.upsertPod(relabeled);
  const changeMilliseconds = performance.now() - changeStarted;
  stop();

  const snapshotStarted = performance.now();
  const slice = computer.snapshot(moved.spec?.nodeName ?? "");
  const snapshotMilliseconds = performance.now() - snapshotStarted;

  const stats = computer.stats();
  const peakMegabytes = megabytes(peaks.heapUsed);
  const resourcePeakRss = process.resourceUsage().maxRSS * 1024;
  console.log(
    JSON.stringify({
      scale: scale.name,
      mode,
      namespaces: scale.namespaces,
      pods: scale.pods,
      policies: scale.policies,
      nodes: nodeCount,
      groups: stats.groups,
      events: eventCount,
      initialSeconds: Number(initialSeconds.toFixed(2)),
      initialCpuSeconds: Number(initialCpuSeconds.toFixed(2)),
      loadAverage: Number(loadavg()[0]?.toFixed(2)),
      heapUsedPeakMB: peakMegabytes,
      rssPeakMB: megabytes(Math.max(peaks.rss, resourcePeakRss)),
      heapUsedRetainedAfterGcMB: megabytes(retained.heapUsed - baseline.heapUsed),
      rssAfterGcMB: megabytes(retained.rss),
      inputObjectsHeapMB: megabytes(baseline.heapUsed),
      labelChangeMs: Number(changeMilliseconds.toFixed(3)),
      labelChangeNodes: updateNodes.size,
      snapshotMs: Number(snapshotMilliseconds.toFixed(3)),
      snapshotPolicies: slice.policies.length,
      ...(digest === null ? {} : { eventsDigest: digest.finish() }),
      antreaSeconds: Number(scale.antreaSeconds.toFixed(2)),
      antreaMB: Math.round(scale.antreaMegabytes),
      timeRatio: Number((initialSeconds / scale.antreaSeconds).toFixed(2)),
      cpuTimeRatio: Number((initialCpuSeconds / scale.antreaSeconds).toFixed(2)),
      heapRatio: Number((peakMegabytes / scale.antreaMegabytes).toFixed(2)),
    }),
  );
}

function main(): void {
  const flags = process.argv.slice(2).filter((arg) => arg.startsWith("--"));
  const positional = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
  const requested = positional[0] ?? "all";
  const digest = flags.includes("--digest");
  if (flags.includes("--child")) {
    const scale = scales[requested];
    const mode = positional[1];
    if (scale === undefined || (mode !== "each" && mode !== "batch")) {
      throw new Error(`invalid child arguments ${process.argv.slice(2).join(" ")}; expected small|one-namespace|mixed --child each|batch`);
    }
    runScale(scale, mode, { digest });
    return;
  }
  const names = requested === "all" ? Object.keys(scales) : [requested];
  let failed = false;
  for (const name of names) {
    if (scales[name] === undefined) {
      console.error(`unknown scale ${name}; use small, one-namespace, mixed or all`);
      process.exit(2);
    }
    for (const mode of ["each", "batch"]) {
      const args = ["--expose-gc", fileURLToPath(import.meta.url), name, mode, "--child", ...(digest ? ["--digest"] : [])];
      const result = spawnSync(process.execPath, args, { stdio: "inherit" });
      if (result.status !== 0) failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
}

main();
