// The lab cluster's public API: pod runner, scheduler, probes and the reachability matrix.
export { PodRunner } from "./runner.ts";
export type { PodRunnerOptions } from "./runner.ts";
export { RoundRobinScheduler, nextNode, defaultSchedulerName } from "./scheduler.ts";
export type { RoundRobinSchedulerOptions } from "./scheduler.ts";
export { probe, probeFrom, parsePodRef, podKey, conformancePorts, defaultProbeTimeoutMs } from "./probe.ts";
export type { PortSpec, ProbeContext, ProbeProtocol, ProbeResult, ProbeTarget } from "./probe.ts";
export { probeMatrix, buildMatrix, renderMatrix, renderTruthTable } from "./matrix.ts";
export type { PortReachability, ReachabilityMatrix } from "./matrix.ts";
export { parseWorkloadSpec, workloadArgv, workloadImages, defaultEchoPorts, defaultHttpPort } from "./workload-spec.ts";
export type { WorkloadSpec } from "./workload-spec.ts";
export { podNetnsName, sandboxId, netnsPath } from "./names.ts";
export { loadNetworkConfigList, parseNetworkConfigList } from "./cni/conflist.ts";
export type { NetworkConfigList, PluginConfig } from "./cni/conflist.ts";
export { addNetworkList, delNetworkList, buildPluginEnv, buildPluginStdin, processExecutor } from "./cni/invoke.ts";
export type { CniResult, PluginExecutor, RuntimeArgs } from "./cni/invoke.ts";
export { ClusterError, ClusterErrorCode, CniPluginError } from "./errors.ts";
