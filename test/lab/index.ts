// Public API of the lab: simulated Kubernetes nodes (network namespaces, each with its own
// Open vSwitch) on a shared underlay, plus the helpers other suites reuse to run commands
// and start OVS instances.
export { upLab, downLab, readLab } from "./lab.ts";
export type { UpLabOptions, DownLabResult, LabLocation } from "./lab.ts";
export { labStatus } from "./status.ts";
export type { LabStatus, NodeStatus, DaemonStatus } from "./status.ts";
export type { Lab, LabNode, LabOutside, ExecOptions } from "./model.ts";
export { run, runWithOutput, spawnInNetns, formatArgv } from "./run.ts";
export type { RunOptions, RunResult } from "./run.ts";
export { startOvs, stopOvs, ovsPaths, mgmtSocketPath, logTail, checkOvsDirLength } from "./ovs.ts";
export type { OvsInstance, OvsPaths, OvsDaemon, StartOvsOptions } from "./ovs.ts";
export { createNamespaces, deleteNamespaces, listNetns } from "./network.ts";
export { disableTxChecksumOffload } from "./offload.ts";
export { LabError, CommandError, LabErrorCode } from "./errors.ts";
export { defaultLabName, maxNodes, validateLabName } from "./names.ts";
export { resolveStateRoot, defaultStateRoot } from "./state.ts";
export type { LabState } from "./state.ts";
