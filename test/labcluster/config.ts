// Configuration files the local cluster writes for its daemons: the controller's, each
// agent's and each node's CNI network configuration list. Pure functions, so unit tests can
// check every field without starting anything.
import { join } from "node:path";

import { ClusterUpError, ClusterUpErrorCode } from "./errors.ts";

/** Forwarding modes of `switchyard-cluster up --mode`. */
export const clusterModes = ["geneve", "vxlan", "gre", "noencap", "hybrid"] as const;
export type ClusterMode = (typeof clusterModes)[number];

/** Pod address range of every local cluster; each node gets a /24 of it. */
export const clusterCidr = "10.244.0.0/16";

/** TCP port of the API server relay inside the lab's outside namespace. */
export const inLabApiPort = 6443;

/** TCP port of the controller's distribution API inside the outside namespace. */
export const controllerApiPort = 10351;

/** Name of the CNI network and of the plugin binary. */
export const cniNetworkName = "switchyard";

/** Parses `--mode`; raises INVALID_OPTION naming the accepted values. */
export function parseMode(text: string): ClusterMode {
  const mode = clusterModes.find((candidate) => candidate === text.toLowerCase());
  if (mode === undefined) {
    throw new ClusterUpError(ClusterUpErrorCode.InvalidOption, `invalid mode ${JSON.stringify(text)}: use one of ${clusterModes.join(", ")}`);
  }
  return mode;
}

/** Number of underlay subnets a mode needs: hybrid routes within a subnet and tunnels across. */
export function subnetsForMode(mode: ClusterMode): 1 | 2 {
  return mode === "hybrid" ? 2 : 1;
}

/** Returns the agent's trafficEncapMode and tunnel type for a mode. */
export function forwardingForMode(mode: ClusterMode): { trafficEncapMode: "encap" | "noEncap" | "hybrid"; tunnelType: "geneve" | "vxlan" | "gre" } {
  switch (mode) {
    case "geneve":
    case "vxlan":
    case "gre":
      return { trafficEncapMode: "encap", tunnelType: mode };
    case "noencap":
      return { trafficEncapMode: "noEncap", tunnelType: "geneve" };
    case "hybrid":
      return { trafficEncapMode: "hybrid", tunnelType: "geneve" };
  }
}

/** Where each file of one node lives, under the cluster folder. */
export interface NodePaths {
  dir: string;
  agentConfig: string;
  agentLog: string;
  agentStateDir: string;
  cniSocket: string;
  cniBinDir: string;
  cniConfDir: string;
  cniConflist: string;
  cniLog: string;
  runnerStateDir: string;
  runnerLog: string;
  certDir: string;
}

/** Where the cluster's shared files live, under LAB-FOLDER/cluster. */
export interface ClusterPaths {
  dir: string;
  stateFile: string;
  /** kubeconfig for kubectl and the pod runners: the API server on the root namespace's 127.0.0.1. */
  kubeconfig: string;
  /** kubeconfig for daemons inside lab namespaces: the relay at the outside address. */
  inLabKubeconfig: string;
  apiServerState: string;
  apiServerLog: string;
  /** Unix socket joining the two relay halves; a file path, so it crosses namespaces. */
  relaySocket: string;
  rootRelayLog: string;
  outsideRelayLog: string;
  controllerConfig: string;
  controllerLog: string;
  controllerTlsDir: string;
  schedulerLog: string;
  node(name: string): NodePaths;
}

/** Returns the file layout of a cluster whose lab folder is `labDir`. */
export function clusterPaths(labDir: string): ClusterPaths {
  const dir = join(labDir, "cluster");
  return {
    dir,
    stateFile: join(dir, "cluster.json"),
    kubeconfig: join(dir, "kubeconfig"),
    inLabKubeconfig: join(dir, "in-lab.kubeconfig"),
    apiServerState: join(dir, "apiserver-state.json"),
    apiServerLog: join(dir, "apiserver.log"),
    relaySocket: join(dir, "api.sock"),
    rootRelayLog: join(dir, "relay-root.log"),
    outsideRelayLog: join(dir, "relay-outside.log"),
    controllerConfig: join(dir, "controller.json"),
    controllerLog: join(dir, "controller.log"),
    controllerTlsDir: join(dir, "controller-tls"),
    schedulerLog: join(dir, "scheduler.log"),
    node: (name) => nodePaths(join(dir, name)),
  };
}

function nodePaths(dir: string): NodePaths {
  return {
    dir,
    agentConfig: join(dir, "agent.json"),
    agentLog: join(dir, "agent.log"),
    agentStateDir: join(dir, "agent-state"),
    cniSocket: join(dir, "cni.sock"),
    cniBinDir: join(dir, "cni", "bin"),
    cniConfDir: join(dir, "cni", "net.d"),
    cniConflist: join(dir, "cni", "net.d", "10-switchyard.conflist"),
    cniLog: join(dir, "cni.log"),
    runnerStateDir: join(dir, "runner"),
    runnerLog: join(dir, "runner.log"),
    certDir: join(dir, "controller-client"),
  };
}

/** Builds the controller's configuration (docs/configuration-controller.md) as a JSON object. */
export function controllerConfig(options: { inLabKubeconfig: string; outsideIp: string; tlsDir: string }): Record<string, unknown> {
  return {
    kubeconfig: options.inLabKubeconfig,
    clusterCIDRs: [clusterCidr],
    nodeCIDRMaskSizeIPv4: 24,
    api: { bindAddress: options.outsideIp, port: controllerApiPort },
    tls: { dir: options.tlsDir, serverNames: [options.outsideIp] },
    // The outside namespace has its own loopback, so the default port cannot clash with the host.
    metrics: { enabled: true, bindAddress: "127.0.0.1" },
    informers: { resyncSeconds: 60, backoffInitialMs: 200, backoffMaxMs: 5000 },
  };
}

/** What one node's agent configuration needs from the lab and the cluster layout. */
export interface AgentConfigInput {
  nodeName: string;
  mode: ClusterMode;
  inLabKubeconfig: string;
  /** The node's ovsdb-server socket path. */
  dbSocket: string;
  /** The node's OVS folder, which holds BRIDGE.mgmt. */
  ovsDir: string;
  paths: NodePaths;
  outsideIp: string;
}

/** Builds one agent's configuration (docs/configuration-agent.md) as a JSON object. */
export function agentConfig(input: AgentConfigInput): Record<string, unknown> {
  const forwarding = forwardingForMode(input.mode);
  return {
    nodeName: input.nodeName,
    kubeconfig: input.inLabKubeconfig,
    trafficEncapMode: forwarding.trafficEncapMode,
    ovs: { bridge: "br-int", datapathType: "netdev", dbSocket: input.dbSocket, runDir: input.ovsDir },
    tunnel: { type: forwarding.tunnelType },
    // Each node namespace has its own loopback, so every agent can keep the default port.
    metrics: { enabled: true, bindAddress: "127.0.0.1" },
    informers: { resyncSeconds: 60, backoffInitialMs: 200, backoffMaxMs: 5000 },
    cni: { socketPath: input.paths.cniSocket, stateDir: input.paths.agentStateDir },
    controller: {
      url: `https://${input.outsideIp}:${controllerApiPort}`,
      caFile: join(input.paths.certDir, "ca.crt"),
      certFile: join(input.paths.certDir, "client.crt"),
      keyFile: join(input.paths.certDir, "client.key"),
      cacheFile: join(input.paths.agentStateDir, "policy-cache.json"),
    },
  };
}

/** Builds one node's CNI network configuration list, naming the switchyard plugin (docs/cni.md). */
export function cniConflist(options: { paths: NodePaths }): Record<string, unknown> {
  return {
    cniVersion: "1.0.0",
    name: cniNetworkName,
    plugins: [{ type: cniNetworkName, socketPath: options.paths.cniSocket, logFile: options.paths.cniLog }],
  };
}
