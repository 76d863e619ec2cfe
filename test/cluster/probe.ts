// Reachability probes between pods: a probe client runs inside the source pod's network
// namespace and connects to the target pod's IP. One client process per source pod tries
// all of its targets at once, so a full matrix costs one process per pod.
import { fileURLToPath } from "node:url";
import { CoreV1Api } from "@kubernetes/client-node";
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";

import { run } from "../lab/index.ts";
import { ClusterError, ClusterErrorCode, errorMessage } from "./errors.ts";
import { podNetnsName } from "./names.ts";
import type { ProbeProtocol, ProbeTargetSpec } from "./workloads/probe-targets.ts";
import { sctpArrivalsPath } from "./workloads/sctp-receiver.ts";

export type { ProbeProtocol } from "./workloads/probe-targets.ts";

export interface PortSpec {
  port: number;
  protocol: ProbeProtocol;
}

/** Ports the Kubernetes network policy conformance tests probe: TCP 80, TCP 81, UDP 80. */
export const conformancePorts: readonly PortSpec[] = [
  { port: 80, protocol: "tcp" },
  { port: 81, protocol: "tcp" },
  { port: 80, protocol: "udp" },
];

/** Default time one connection attempt may take, in milliseconds. */
export const defaultProbeTimeoutMs = 1000;

export interface ProbeContext {
  kubeConfig: KubeConfig;
  /** The pod runners' netnsPrefix, needed to find a pod's namespace. */
  netnsPrefix: string;
  /** Node 24 binary for the probe client. Default: the binary running this process. */
  nodeBinary?: string;
  /** Per attempt, in milliseconds. Default 1000. */
  timeoutMs?: number;
}

export interface ProbeResult {
  /** "namespace/name" of the source pod. */
  from: string;
  to: string;
  /** The target pod's IP that was probed. */
  toIp: string;
  port: number;
  protocol: ProbeProtocol;
  reachable: boolean;
  /** Why a target counts as blocked: "timeout", "ECONNREFUSED", ... */
  reason?: string;
}

const probeClientPath = fileURLToPath(new URL("./workloads/probe-client.ts", import.meta.url));

/**
 * Probes one port of pod `to` from inside pod `from` ("namespace/name", or "name" in
 * namespace default). Raises POD_NOT_READY when either pod is missing or has no IP.
 */
export async function probe(options: ProbeContext & { from: string; to: string; port: number; protocol?: ProbeProtocol }): Promise<ProbeResult> {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const [from, to] = await Promise.all([readyPod(core, options.from), readyPod(core, options.to)]);
  const [result] = await probeFrom({ context: options, from, targets: [{ pod: to, port: { port: options.port, protocol: options.protocol ?? "tcp" } }] });
  if (result === undefined) throw new ClusterError(ClusterErrorCode.ProbeFailed, `probe client in pod ${options.from} returned no result`);
  return result;
}

/** A target pod and the port to probe on it. */
export interface ProbeTarget {
  pod: V1Pod;
  port: PortSpec;
}

/** Runs one probe client inside `from`'s namespace for all `targets`. Results come back in target order. */
export async function probeFrom(options: { context: ProbeContext; from: V1Pod; targets: readonly ProbeTarget[] }): Promise<ProbeResult[]> {
  const { context, from } = options;
  const fromName = podKey(from);
  const netns = podNetnsName({ prefix: context.netnsPrefix, namespace: from.metadata?.namespace ?? "default", name: from.metadata?.name ?? "", uid: from.metadata?.uid ?? "" });
  const timeoutMs = context.timeoutMs ?? defaultProbeTimeoutMs;
  const targets = options.targets.map(targetSpec);
  const argv = [context.nodeBinary ?? process.execPath, probeClientPath, "--targets", JSON.stringify(targets), "--timeout-ms", String(timeoutMs)];
  // SCTP arrivals record the source address, so the client matches on it as well.
  if (targets.some((target) => target.protocol === "sctp")) argv.push("--source-ip", from.status?.podIP ?? "");

  let output: string;
  try {
    output = await run(argv, {
      netns,
      timeoutMs: timeoutMs + 15_000,
    });
  } catch (error) {
    throw new ClusterError(ClusterErrorCode.ProbeFailed, `probe client in pod ${fromName} (namespace ${netns}) failed: ${errorMessage(error)}`, { cause: error });
  }
  const outcomes = parseOutcomes(output, fromName, targets.length);
  return options.targets.map((target, index) => {
    const outcome = outcomes[index] ?? { reachable: false, reason: "no result" };
    const result: ProbeResult = { from: fromName, to: podKey(target.pod), toIp: target.pod.status?.podIP ?? "", port: target.port.port, protocol: target.port.protocol, reachable: outcome.reachable };
    if (outcome.reason !== undefined) result.reason = outcome.reason;
    return result;
  });
}

/**
 * Returns the probe client's description of one target. An SCTP target also names the
 * arrivals file that the target pod's echo server derives from its uid.
 * NOTE: on the userspace datapath an SCTP probe from B to A after one from A to B passes as
 * a conntrack reply. test/labcluster/matrix.ts shows how to order SCTP probes.
 */
export function targetSpec(target: ProbeTarget): ProbeTargetSpec {
  const spec: ProbeTargetSpec = { host: target.pod.status?.podIP ?? "", port: target.port.port, protocol: target.port.protocol };
  if (target.port.protocol === "sctp") spec.arrivals = sctpArrivalsPath(target.pod.metadata?.uid ?? "");
  return spec;
}

/** Returns "namespace/name". */
export function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? "default"}/${pod.metadata?.name ?? ""}`;
}

/** Parses "namespace/name" or "name" (namespace default). */
export function parsePodRef(text: string): { namespace: string; name: string } {
  const parts = text.split("/");
  if (parts.length === 1 && parts[0] !== "") return { namespace: "default", name: parts[0] ?? "" };
  if (parts.length === 2 && parts[0] !== "" && parts[1] !== "") return { namespace: parts[0] ?? "", name: parts[1] ?? "" };
  throw new ClusterError(ClusterErrorCode.InvalidOption, `invalid pod ${JSON.stringify(text)}: write NAMESPACE/NAME or NAME`);
}

/** Returns the pod if it is Running with an IP. Raises POD_NOT_READY otherwise. */
async function readyPod(core: CoreV1Api, text: string): Promise<V1Pod> {
  const ref = parsePodRef(text);
  let pod: V1Pod;
  try {
    pod = await core.readNamespacedPod(ref);
  } catch (error) {
    if ((error as { code?: number }).code === 404) {
      const hint = ref.namespace === "default" ? "; name a pod of another namespace as NAMESPACE/NAME" : "";
      throw new ClusterError(ClusterErrorCode.PodNotReady, `pod ${ref.namespace}/${ref.name} not found${hint}`, { cause: error });
    }
    throw new ClusterError(ClusterErrorCode.PodNotReady, `cannot read pod ${ref.namespace}/${ref.name}: ${errorMessage(error)}`, { cause: error });
  }
  if (!isProbeable(pod)) {
    throw new ClusterError(ClusterErrorCode.PodNotReady, `pod ${ref.namespace}/${ref.name} is ${pod.status?.phase ?? "without status"} with IP ${pod.status?.podIP ?? "none"}: wait until it is Running with an IP`);
  }
  return pod;
}

/** Returns whether a pod can take part in a probe: Running, with an IP and a uid. */
export function isProbeable(pod: V1Pod): boolean {
  return pod.status?.phase === "Running" && (pod.status.podIP ?? "") !== "" && (pod.metadata?.uid ?? "") !== "";
}

function parseOutcomes(output: string, fromName: string, count: number): { reachable: boolean; reason?: string }[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch (error) {
    throw new ClusterError(ClusterErrorCode.ProbeFailed, `probe client in pod ${fromName} printed ${JSON.stringify(output.slice(0, 200))}, not JSON`, { cause: error });
  }
  if (!Array.isArray(parsed) || parsed.length !== count) {
    throw new ClusterError(ClusterErrorCode.ProbeFailed, `probe client in pod ${fromName} returned ${Array.isArray(parsed) ? parsed.length : "no"} results for ${count} targets`);
  }
  return parsed as { reachable: boolean; reason?: string }[];
}
