// The controller's configuration file, as read from YAML or JSON. Every field is optional in
// the file except clusterCIDRs (when allocateNodeCIDRs is true); DEFAULT_CONFIG fills the rest.
// docs/configuration-controller.md lists the same fields for operators.

/** Complete, validated controller configuration. */
export interface ControllerConfig {
  /**
   * Path of the kubeconfig file used to reach the Kubernetes API. Empty string (default):
   * use the in-cluster service account (KUBERNETES_SERVICE_HOST and the mounted token).
   */
  readonly kubeconfig: string;
  /**
   * Whether the controller allocates Node.spec.podCIDR(s) (default true). Set false when
   * kube-controller-manager runs with --allocate-node-cidrs.
   */
  readonly allocateNodeCIDRs: boolean;
  /**
   * Cluster pod CIDRs, IPv4 and/or IPv6 with host bits clear. A node gets one subnet per
   * family listed, and a later range of a family is used once the earlier ones are full.
   * Required (non-empty) when allocateNodeCIDRs is true. Default: empty.
   */
  readonly clusterCIDRs: readonly string[];
  /** Prefix length of each node's IPv4 pod CIDR: 1 to 32, at most 16 more than the cluster prefix. Default 24. */
  readonly nodeCIDRMaskSizeIPv4: number;
  /** Prefix length of each node's IPv6 pod CIDR: 1 to 128, at most 16 more than the cluster prefix. Default 64. */
  readonly nodeCIDRMaskSizeIPv6: number;
  readonly api: ApiConfig;
  readonly tls: TlsConfig;
  readonly metrics: MetricsConfig;
  readonly informers: InformerConfig;
}

/** The TLS distribution API that agents connect to. */
export interface ApiConfig {
  /** IP address to listen on. Default "0.0.0.0". */
  readonly bindAddress: string;
  /** TCP port, 0 to 65535 (0 picks a free port, for tests). Default 10351. */
  readonly port: number;
  /** Events kept per node for agents that resume: 1 to 1,000,000. Default 10000. */
  readonly eventLogSize: number;
  /** Seconds between heartbeat lines on an idle watch stream: 1 to 3600. Default 30. */
  readonly heartbeatSeconds: number;
  /**
   * Unsent bytes per agent connection above which the next write closes it as too slow:
   * 65536 to 1073741824. Default 16777216 (16 MiB). One larger message still goes out.
   */
  readonly maxBufferedBytes: number;
}

/** Certificates of the distribution API. */
export interface TlsConfig {
  /**
   * Folder holding ca.crt, ca.key, server.crt and server.key. Missing files are generated
   * at the first start with the openssl CLI. Default "/var/lib/switchyard/controller-tls".
   */
  readonly dir: string;
  /**
   * DNS names and IP addresses written into the server certificate's subjectAltName at
   * generation time. Default ["localhost", "127.0.0.1", "switchyard-controller",
   * "switchyard-controller.kube-system.svc"].
   */
  readonly serverNames: readonly string[];
  /** Validity of a generated CA certificate in days: 1 to 36500. Default 3650. */
  readonly caValidityDays: number;
  /** Validity of generated server and node certificates in days: 1 to 36500. Default 365. */
  readonly certValidityDays: number;
}

/** The Prometheus endpoint (plain HTTP, path /metrics). */
export interface MetricsConfig {
  /** IP address to listen on. Default "127.0.0.1". */
  readonly bindAddress: string;
  /** TCP port, 0 to 65535; 0 picks a free port. Default 10352. */
  readonly port: number;
  /** Whether to serve metrics at all. Default true. */
  readonly enabled: boolean;
}

/** Kubernetes informers (list and watch of Pods, Namespaces, Nodes, NetworkPolicies). */
export interface InformerConfig {
  /**
   * Seconds between full resyncs that feed every cached object to the handlers again,
   * 0 to disable, else 10 to 86400. Default 300.
   */
  readonly resyncSeconds: number;
  /** First delay before restarting a failed informer, in milliseconds: 10 to 60000. Default 500. */
  readonly backoffInitialMs: number;
  /** Cap of the doubling restart delay, in milliseconds: backoffInitialMs to 600000. Default 30000. */
  readonly backoffMaxMs: number;
}

export const DEFAULT_CONFIG: ControllerConfig = {
  kubeconfig: "",
  allocateNodeCIDRs: true,
  clusterCIDRs: [],
  nodeCIDRMaskSizeIPv4: 24,
  nodeCIDRMaskSizeIPv6: 64,
  api: {
    bindAddress: "0.0.0.0",
    port: 10351,
    eventLogSize: 10000,
    heartbeatSeconds: 30,
    maxBufferedBytes: 16 * 1024 * 1024,
  },
  tls: {
    dir: "/var/lib/switchyard/controller-tls",
    serverNames: ["localhost", "127.0.0.1", "switchyard-controller", "switchyard-controller.kube-system.svc"],
    caValidityDays: 3650,
    certValidityDays: 365,
  },
  metrics: { bindAddress: "127.0.0.1", port: 10352, enabled: true },
  informers: { resyncSeconds: 300, backoffInitialMs: 500, backoffMaxMs: 30000 },
};
