// `switchyard-cluster status`: the lab's health, every recorded process, and the Nodes and
// Pods the API server reports.
import { CoreV1Api } from "@kubernetes/client-node";

import { labStatus, resolveStateRoot } from "../lab/index.ts";
import type { LabLocation } from "../lab/index.ts";
import { loadClusterKubeConfig, readCluster } from "./cluster.ts";
import { isDaemonAlive } from "./daemons.ts";
import { errorText } from "./errors.ts";

export interface ClusterStatus {
  name: string;
  /** Folder searched for the cluster's lab folder. */
  stateRoot: string;
  present: boolean;
  /** Present, `up` finished, the lab is healthy and every process is alive. */
  healthy: boolean;
  mode: string | undefined;
  kubeconfig: string | undefined;
  daemons: Array<{ name: string; pid: number; netns: string | null; alive: boolean; logFile: string }>;
  nodes: Array<{ name: string; podCIDR: string; internalIp: string }>;
  pods: Array<{ namespace: string; name: string; node: string; phase: string; podIP: string }>;
  problems: string[];
}

/** Collects the status; never raises for a missing or broken cluster, it lists problems instead. */
export async function clusterStatus(options: LabLocation & { name: string }): Promise<ClusterStatus> {
  const status: ClusterStatus = { name: options.name, stateRoot: resolveStateRoot(options.stateDir), present: false, healthy: false, mode: undefined, kubeconfig: undefined, daemons: [], nodes: [], pods: [], problems: [] };
  const cluster = await readCluster(options);
  if (cluster === undefined) return status;
  const { state } = cluster;

  status.present = true;
  status.mode = state.mode;
  status.kubeconfig = state.kubeconfig;
  if (!state.ready) status.problems.push("up did not finish");
  const lab = await labStatus({ name: options.name, stateDir: options.stateDir });
  status.problems.push(...lab.problems);
  for (const daemon of state.daemons) {
    const alive = isDaemonAlive(daemon);
    status.daemons.push({ name: daemon.name, pid: daemon.pid, netns: daemon.netns ?? null, alive, logFile: daemon.logFile });
    if (!alive) status.problems.push(`${daemon.name} (PID ${daemon.pid}) is not running; see ${daemon.logFile}`);
  }

  try {
    const core = loadClusterKubeConfig(state).makeApiClient(CoreV1Api);
    for (const node of (await core.listNode()).items) {
      const internalIp = node.status?.addresses?.find((address) => address.type === "InternalIP")?.address ?? "";
      status.nodes.push({ name: node.metadata?.name ?? "", podCIDR: node.spec?.podCIDR ?? "", internalIp });
    }
    for (const pod of (await core.listPodForAllNamespaces()).items) {
      status.pods.push({
        namespace: pod.metadata?.namespace ?? "",
        name: pod.metadata?.name ?? "",
        node: pod.spec?.nodeName ?? "",
        phase: pod.status?.phase ?? "",
        podIP: pod.status?.podIP ?? "",
      });
    }
  } catch (error) {
    status.problems.push(`API server not answering: ${errorText(error)}`);
  }
  status.healthy = status.problems.length === 0;
  return status;
}

/** Renders the status as aligned text for a terminal. */
export function renderStatus(status: ClusterStatus): string {
  if (!status.present) return `cluster ${status.name}: absent under ${status.stateRoot} (a cluster started with --state-dir or SWITCHYARD_LAB_DIR needs the same folder here)\n`;
  const lines = [`cluster ${status.name} (${status.mode ?? "?"}): ${status.healthy ? "healthy" : "unhealthy"}`, `kubeconfig: ${status.kubeconfig ?? "?"}`, "", "PROCESS\tPID\tNETNS\tSTATE"];
  for (const daemon of status.daemons) lines.push(`${daemon.name}\t${daemon.pid}\t${daemon.netns ?? "(root)"}\t${daemon.alive ? "alive" : "dead"}`);
  lines.push("", "NODE\tINTERNAL-IP\tPOD-CIDR");
  for (const node of status.nodes) lines.push(`${node.name}\t${node.internalIp}\t${node.podCIDR}`);
  if (status.pods.length > 0) {
    lines.push("", "POD\tNODE\tPHASE\tIP");
    for (const pod of status.pods) lines.push(`${pod.namespace}/${pod.name}\t${pod.node}\t${pod.phase}\t${pod.podIP}`);
  }
  if (status.problems.length > 0) lines.push("", "problems:", ...status.problems.map((problem) => `  ${problem}`));
  return `${lines.join("\n")}\n`;
}
