// Readiness of a workload: its ports are bound. Read from /proc/PID/net/tcp and udp, which
// list the sockets of the network namespace that process PID is in, so no tool has to enter
// the pod's namespace. This plays the part of a kubelet's tcpSocket readiness probe.
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

import type { WorkloadSpec } from "./workload-spec.ts";

/** Socket state column value of a listening TCP socket (TCP_LISTEN). */
const tcpListen = "0A";
/** Socket state column value of a bound, unconnected UDP socket (TCP_CLOSE, reused by UDP). */
const udpUnconnected = "07";

/** Ports a workload binds once it is ready. */
export function workloadPorts(spec: WorkloadSpec): { tcp: number[]; udp: number[] } {
  switch (spec.kind) {
    case "http-server":
      return { tcp: [spec.port], udp: [] };
    case "echo-server":
      return { tcp: spec.tcpPorts, udp: spec.udpPorts };
    case "idle":
      return { tcp: [], udp: [] };
  }
}

/** Returns the local ports in state `state` from the text of /proc/PID/net/tcp or udp (IPv4). */
export function boundPorts(table: string, state: string): Set<number> {
  const ports = new Set<number>();
  for (const line of table.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (local === undefined || fields[3] !== state) continue;
    const port = Number.parseInt(local.split(":")[1] ?? "", 16);
    if (Number.isInteger(port)) ports.add(port);
  }
  return ports;
}

/**
 * Resolves once every port is bound in the namespace of process `pid`. Raises when the
 * process exits or `timeoutMs` passes first. The message names the missing ports.
 */
export async function waitForPorts(options: { pid: number; tcp: readonly number[]; udp: readonly number[]; timeoutMs: number }): Promise<void> {
  if (options.tcp.length === 0 && options.udp.length === 0) return;
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    let missing: string[];
    try {
      const [tcp, udp] = await Promise.all([readFile(`/proc/${options.pid}/net/tcp`, "utf8"), readFile(`/proc/${options.pid}/net/udp`, "utf8")]);
      const listening = boundPorts(tcp, tcpListen);
      const bound = boundPorts(udp, udpUnconnected);
      missing = [...options.tcp.filter((port) => !listening.has(port)).map((port) => `TCP ${port}`), ...options.udp.filter((port) => !bound.has(port)).map((port) => `UDP ${port}`)];
    } catch (error) {
      throw new Error(`workload process ${options.pid} exited before binding its ports`, { cause: error });
    }
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`workload process ${options.pid} did not bind ${missing.join(", ")} within ${options.timeoutMs} ms: read its log`);
    await sleep(50);
  }
}
