// The workloads a pod may run in place of a container image. The first container's `image`
// names the workload. Its `args` and `env` configure it, and the echo server also takes its
// SCTP ports from the container's `ports`. See docs/cluster.md for the table.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { V1Container, V1Pod } from "@kubernetes/client-node";

import { ClusterError, ClusterErrorCode, errorMessage } from "./errors.ts";
import { formatRoute, parsePortList, parseRoute } from "./workloads/routes.ts";
import type { HttpRoute } from "./workloads/routes.ts";
import { sctpArrivalsPath } from "./workloads/sctp-receiver.ts";

/** Image names that select a workload, without a tag. */
export const workloadImages = {
  httpServer: "switchyard/http-server",
  echoServer: "switchyard/echo-server",
  idle: "switchyard/idle",
} as const;

/** Ports of the echo server when the pod gives none: those the policy conformance matrix probes. */
export const defaultEchoPorts = { tcp: [80, 81], udp: [80] } as const;

export const defaultHttpPort = 80;

export type WorkloadSpec =
  | { kind: "http-server"; port: number; routes: HttpRoute[] }
  | {
      kind: "echo-server";
      tcpPorts: number[];
      udpPorts: number[];
      /** SCTP ports whose packets the SCTP receiver records. Absent when the pod serves no SCTP. */
      sctpPorts?: number[];
    }
  | { kind: "idle" };

export type EchoServerSpec = Extract<WorkloadSpec, { kind: "echo-server" }>;

/** Script file of each workload kind. */
const workloadScripts: Record<WorkloadSpec["kind"], string> = {
  "http-server": fileURLToPath(new URL("./workloads/http-server.ts", import.meta.url)),
  "echo-server": fileURLToPath(new URL("./workloads/echo-server.ts", import.meta.url)),
  idle: fileURLToPath(new URL("./workloads/idle.ts", import.meta.url)),
};

/**
 * Reads the workload of a pod from its first container. Raises WORKLOAD_INVALID when the pod
 * has no container, the image names no workload, or an option is invalid. The message names
 * the pod, the value and the accepted forms.
 */
export function parseWorkloadSpec(pod: V1Pod): WorkloadSpec {
  const podName = `${pod.metadata?.namespace ?? "default"}/${pod.metadata?.name ?? ""}`;
  const container = pod.spec?.containers[0];
  if (container === undefined) throw invalid(podName, "the pod has no container");
  const image = imageRepository(container.image ?? "");
  try {
    switch (image) {
      case workloadImages.httpServer:
        return parseHttpServer(container);
      case workloadImages.echoServer:
        return parseEchoServer(container);
      case workloadImages.idle:
        return { kind: "idle" };
      default:
        throw new RangeError(`image ${JSON.stringify(container.image ?? "")} names no workload: use one of ${Object.values(workloadImages).join(", ")}`);
    }
  } catch (error) {
    throw invalid(podName, errorMessage(error), error);
  }
}

/** Returns the argv that starts a workload (before `ip netns exec`), tagged with the pod's uid so the runner can recognise the process later. */
export function workloadArgv(options: { spec: WorkloadSpec; nodeBinary: string; pod: { namespace: string; name: string; uid: string } }): string[] {
  const { spec, pod } = options;
  const argv = [options.nodeBinary, workloadScripts[spec.kind], "--pod", `${pod.namespace}/${pod.name}`, "--pod-uid", pod.uid];
  switch (spec.kind) {
    case "http-server":
      argv.push("--port", String(spec.port));
      for (const route of spec.routes) argv.push("--route", formatRoute(route));
      return argv;
    case "echo-server":
      argv.push("--tcp", spec.tcpPorts.join(","), "--udp", spec.udpPorts.join(","));
      if (spec.sctpPorts !== undefined && spec.sctpPorts.length > 0) argv.push("--sctp", spec.sctpPorts.join(","), "--sctp-arrivals", sctpArrivalsPath(pod.uid));
      return argv;
    case "idle":
      return argv;
  }
}

/** Strips the tag or digest from an image reference: "switchyard/idle:1.0" -> "switchyard/idle". */
export function imageRepository(image: string): string {
  const withoutDigest = image.split("@")[0] ?? "";
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.indexOf(":", lastSlash + 1);
  return colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
}

function parseHttpServer(container: V1Container): WorkloadSpec {
  const env = envValues(container);
  const { values } = parseArgs({
    args: container.args ?? [],
    options: { port: { type: "string" }, route: { type: "string", multiple: true } },
    strict: true,
    allowPositionals: false,
  });
  const portText = values.port ?? env.get("PORT");
  const port = portText === undefined ? defaultHttpPort : parseSinglePort(portText);
  const envRoutes = (env.get("HTTP_ROUTES") ?? "").split("\n").filter((line) => line.trim() !== "");
  const routes = [...envRoutes, ...(values.route ?? [])].map(parseRoute);
  return { kind: "http-server", port, routes };
}

function parseEchoServer(container: V1Container): WorkloadSpec {
  const env = envValues(container);
  const { values } = parseArgs({
    args: container.args ?? [],
    options: { tcp: { type: "string" }, udp: { type: "string" }, sctp: { type: "string" } },
    strict: true,
    allowPositionals: false,
  });
  const tcpText = values.tcp ?? env.get("TCP_PORTS");
  const udpText = values.udp ?? env.get("UDP_PORTS");
  const sctpText = values.sctp ?? env.get("SCTP_PORTS");
  const sctpPorts = sctpText === undefined ? containerPortsOf(container, "SCTP") : parsePortList(sctpText);
  const spec: EchoServerSpec =
    tcpText === undefined && udpText === undefined
      ? { kind: "echo-server", tcpPorts: [...defaultEchoPorts.tcp], udpPorts: [...defaultEchoPorts.udp] }
      : { kind: "echo-server", tcpPorts: parsePortList(tcpText ?? ""), udpPorts: parsePortList(udpText ?? "") };
  if (sctpPorts.length > 0) spec.sctpPorts = sctpPorts;
  return spec;
}

/** Returns the distinct containerPort numbers of `protocol`, in declaration order. */
function containerPortsOf(container: V1Container, protocol: string): number[] {
  const ports = (container.ports ?? []).filter((entry) => entry.protocol === protocol).map((entry) => entry.containerPort);
  return parsePortList([...new Set(ports)].join(","));
}

function parseSinglePort(text: string): number {
  const ports = parsePortList(text);
  const [port] = ports;
  if (port === undefined || ports.length !== 1) throw new RangeError(`invalid port ${JSON.stringify(text)}: give one integer from 1 to 65535`);
  return port;
}

// NOTE: only literal `value`s count. A valueFrom (ConfigMaps, the downward API) is not resolved.
function envValues(container: V1Container): Map<string, string> {
  return new Map((container.env ?? []).flatMap((entry) => (entry.value === undefined ? [] : [[entry.name, entry.value] as const])));
}

function invalid(podName: string, problem: string, cause?: unknown): ClusterError {
  return new ClusterError(ClusterErrorCode.WorkloadInvalid, `invalid workload of pod ${podName}: ${problem}`, { cause });
}
