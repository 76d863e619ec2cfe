// The agent's configuration file, as read from YAML or JSON. Every field is optional;
// DEFAULT_AGENT_CONFIG fills in what the file leaves out. docs/configuration-agent.md lists
// the same fields for operators.
import type { EncapMode, TunnelType } from "../forwarding/modes.ts";

/** Complete, validated agent configuration. */
export interface AgentConfig {
  /**
   * Name of the Node object this agent serves. Empty string (default): read the NODE_NAME
   * environment variable at start, as a DaemonSet sets it from spec.nodeName.
   */
  readonly nodeName: string;
  /** Path of the kubeconfig file. Empty string (default): in-cluster service account. */
  readonly kubeconfig: string;
  /** Forwarding mode between nodes: "encap" (default), "noEncap" or "hybrid". */
  readonly trafficEncapMode: EncapMode;
  /**
   * Name of the node's interface carrying its InternalIP, whose MTU and subnet the agent
   * uses. Empty string (default): the interface holding the Node's InternalIP.
   */
  readonly transportInterface: string;
  /** MTU of pod interfaces and the gateway: 0 (default) computes it from the transport MTU and the tunnel; else 68 to 65535. */
  readonly mtu: number;
  readonly ovs: OvsConfig;
  readonly gateway: GatewayConfig;
  readonly tunnel: TunnelConfig;
  readonly snat: SnatConfig;
  readonly metrics: AgentMetricsConfig;
  readonly informers: AgentInformerConfig;
  readonly cni: AgentCniConfig;
  readonly controller: AgentControllerConfig;
}

/** The local Open vSwitch and the integration bridge. */
export interface OvsConfig {
  /** Integration bridge name, 1 to 15 characters. Default "br-int". */
  readonly bridge: string;
  /** Bridge datapath: "system" (default, kernel module) or "netdev" (userspace). */
  readonly datapathType: "system" | "netdev";
  /** ovsdb-server socket path. Default "/var/run/openvswitch/db.sock". */
  readonly dbSocket: string;
  /** Folder holding the bridge's OpenFlow management socket BRIDGE.mgmt. Default "/var/run/openvswitch". */
  readonly runDir: string;
}

/** The gateway: an OVS internal port that is the node's leg in the pod network. */
export interface GatewayConfig {
  /** Interface name, 1 to 15 characters. Default "sy-gw0". */
  readonly name: string;
  /** Fixed OpenFlow port number (ofport_request): 1 to 65279. Default 2. */
  readonly ofport: number;
}

/** The tunnel port used in encap and hybrid modes. */
export interface TunnelConfig {
  /** "geneve" (default), "vxlan" or "gre". */
  readonly type: TunnelType;
  /** Interface name, 1 to 15 characters. Default "sy-tun0". */
  readonly name: string;
  /** Fixed OpenFlow port number (ofport_request): 1 to 65279, not the gateway's. Default 1. */
  readonly ofport: number;
  /** UDP destination port for geneve and vxlan: 0 (default) means the IANA port, 6081 or 4789; else 1 to 65535. Ignored for gre. */
  readonly destinationPort: number;
  /** Whether outgoing tunnel packets carry a checksum (Interface options:csum). Default false. */
  readonly checksum: boolean;
}

/** Source NAT of pod traffic leaving the pod network through the node. */
export interface SnatConfig {
  /** Whether to masquerade pod traffic to destinations outside the cluster. Default true. */
  readonly enabled: boolean;
  /** Tool that installs the rule: "auto" (default: nft if installed, else iptables), "nft" or "iptables". */
  readonly backend: "auto" | "nft" | "iptables";
}

/** The Prometheus endpoint (plain HTTP, path /metrics). */
export interface AgentMetricsConfig {
  /** Whether to serve metrics. Default true. */
  readonly enabled: boolean;
  /** IP address to listen on. Default "127.0.0.1". */
  readonly bindAddress: string;
  /** TCP port, 0 to 65535; 0 picks a free port. Default 10353. */
  readonly port: number;
}

/** Kubernetes informers (Nodes and local Pods). */
export interface AgentInformerConfig {
  /** Seconds between full resyncs, 0 to disable, else 10 to 86400. Default 300. */
  readonly resyncSeconds: number;
  /** First delay before restarting a failed informer, in milliseconds: 10 to 60000. Default 500. */
  readonly backoffInitialMs: number;
  /** Cap of the doubling restart delay, in milliseconds: backoffInitialMs to 600000. Default 30000. */
  readonly backoffMaxMs: number;
}

/** The CNI server embedded in the agent: the socket the CNI binary connects to. */
export interface AgentCniConfig {
  /** Unix socket path; the binary's conflist must name the same path. Default "/var/run/switchyard/cni.sock". */
  readonly socketPath: string;
  /** Folder of the attachment records and the IPAM allocations. Default "/var/run/switchyard/cni". */
  readonly stateDir: string;
  /**
   * Whether to turn off transmit checksum offload on the pod end of each veth
   * (`ethtool -K DEV tx off` in the pod's namespace). The userspace datapath forwards TCP and
   * UDP packets from a veth with unfilled checksums, so the receiver drops them. The kernel
   * datapath does not need it. Default: true when ovs.datapathType is "netdev", else false.
   */
  readonly disableTxChecksumOffload: boolean;
}

/**
 * The Switchyard controller that distributes NetworkPolicy slices. Empty url (default): the
 * agent enforces no NetworkPolicy. With a url, caFile, certFile and keyFile are required.
 */
export interface AgentControllerConfig {
  /** Base URL of the controller's agent API, such as "https://10.0.0.1:10351". Default "". */
  readonly url: string;
  /** PEM file of the CA that signed the controller's certificate. Default "". */
  readonly caFile: string;
  /** PEM file of this node's client certificate (`switchyard-controller issue-cert`). Default "". */
  readonly certFile: string;
  /** PEM file of the client certificate's private key. Default "". */
  readonly keyFile: string;
  /** File caching the last slice, so policy applies at once after a restart. Default "/var/run/switchyard/policy-cache.json". */
  readonly cacheFile: string;
}

export const DEFAULT_AGENT_CONFIG: AgentConfig = {
  nodeName: "",
  kubeconfig: "",
  trafficEncapMode: "encap",
  transportInterface: "",
  mtu: 0,
  ovs: { bridge: "br-int", datapathType: "system", dbSocket: "/var/run/openvswitch/db.sock", runDir: "/var/run/openvswitch" },
  gateway: { name: "sy-gw0", ofport: 2 },
  tunnel: { type: "geneve", name: "sy-tun0", ofport: 1, destinationPort: 0, checksum: false },
  snat: { enabled: true, backend: "auto" },
  metrics: { enabled: true, bindAddress: "127.0.0.1", port: 10353 },
  informers: { resyncSeconds: 300, backoffInitialMs: 500, backoffMaxMs: 30000 },
  // disableTxChecksumOffload is a placeholder here: validateAgentConfig derives it from ovs.datapathType when the file leaves it out.
  cni: { socketPath: "/var/run/switchyard/cni.sock", stateDir: "/var/run/switchyard/cni", disableTxChecksumOffload: false },
  controller: { url: "", caFile: "", certFile: "", keyFile: "", cacheFile: "/var/run/switchyard/policy-cache.json" },
};
