// The pod-interface layer: how the CNI server creates, inspects and removes a pod's
// network interface. Linux uses veth pairs (linux.ts); Windows will use HNS endpoints.

export type PodAddress = { address: string; prefixLength: number; gateway: string };

export type PodInterfaceSpec = {
  /** Path of the pod's network namespace (CNI_NETNS). */
  netns: string;
  /** Interface name inside the pod (CNI_IFNAME). */
  ifName: string;
  /** Name of the host end, at most 15 bytes. */
  hostIfName: string;
  /** MAC address of the pod end, lower-case colon-separated hex. */
  mac: string;
  mtu: number;
  addresses: PodAddress[];
};

export type PodInterfaceRef = { hostIfName: string; netns?: string; ifName: string };

/** State of one interface in the pod's namespace, as the kernel reports it. */
export type PodInterfaceState = {
  mac: string;
  mtu: number;
  up: boolean;
  /** "ADDRESS/LENGTH" of every global-scope address. */
  addresses: string[];
  /** Default-route gateways, IPv4 and IPv6. */
  defaultGateways: string[];
};

export const PodInterfaceErrorCode = {
  NETNS_NOT_FOUND: "PODIF_NETNS_NOT_FOUND",
  COMMAND_FAILED: "PODIF_COMMAND_FAILED",
} as const;
export type PodInterfaceErrorCodeValue = (typeof PodInterfaceErrorCode)[keyof typeof PodInterfaceErrorCode];

export class PodInterfaceError extends Error {
  readonly code: PodInterfaceErrorCodeValue;
  constructor(code: PodInterfaceErrorCodeValue, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PodInterfaceError";
    this.code = code;
  }
}

/**
 * Creates and removes pod interfaces. Calls for different interfaces may run
 * concurrently; the CNI server serialises calls for one container.
 */
export interface PodInterfaces {
  /**
   * Creates the interface pair and configures the pod end (name, MAC, MTU, addresses,
   * default routes, up). The host end exists but is down until setHostUp(). All-or-nothing:
   * on failure nothing is left behind. A stale host end with the same name is replaced.
   */
  create(spec: PodInterfaceSpec): Promise<void>;
  /** Brings the host end up; separate from create() so it can overlap with the OVS port add. */
  setHostUp(hostIfName: string): Promise<void>;
  /** Removes both ends. Idempotent: a missing interface or namespace is success. */
  remove(ref: PodInterfaceRef): Promise<void>;
  /** Reads the pod end; undefined when the namespace or the interface does not exist. */
  inspect(ref: { netns: string; ifName: string }): Promise<PodInterfaceState | undefined>;
  /** Whether the host end exists in the agent's namespace. */
  hostInterfaceExists(hostIfName: string): Promise<boolean>;
}
