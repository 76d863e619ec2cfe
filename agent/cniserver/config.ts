// The standalone CNI server's configuration file (JSON).
import { readFileSync } from "node:fs";

export type CniServerConfig = {
  /** Unix socket for the CNI binary. Default /var/run/switchyard/cni.sock. */
  socketPath: string;
  /** OVSDB endpoint, unix:PATH or tcp:HOST:PORT. Default unix:/var/run/openvswitch/db.sock. */
  ovsdb: string;
  /** Integration bridge for pod ports. Default br-int. */
  bridge: string;
  /** Bridge datapath type: "netdev" (userspace) or "system" (kernel module). Default system. */
  datapathType: string;
  /** OpenFlow address of the bridge, unix:PATH or tcp:HOST:PORT. Default unix:/var/run/openvswitch/BRIDGE.mgmt. */
  openflow: string;
  /** The node's pod CIDRs, at most one IPv4 and one IPv6. Required. */
  podCidrs: string[];
  /** Pod interface MTU unless the network configuration sets one. Default 1450 (1500 minus a Geneve header). */
  mtu: number;
  /** Folder for the IPAM store and attachment records. Default /var/lib/switchyard/cni. */
  stateDir: string;
  /** Put each gateway address on the bridge's local port and bring it up. Default true. */
  assignGatewayAddress: boolean;
  /** winston level: error, warn, info or debug. Default info. */
  logLevel: string;
  /** Log file; empty means stderr. Default empty. */
  logFile: string;
};

export class CniServerConfigError extends Error {
  readonly code = "CNI_SERVER_CONFIG_INVALID";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CniServerConfigError";
  }
}

/** Reads and validates the file; every field except podCidrs has a default. */
export function loadCniServerConfig(path: string): CniServerConfig {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new CniServerConfigError(`cannot read configuration ${path}: ${(error as Error).message}`, { cause: error });
  }
  const bridge = stringField(raw, "bridge", "br-int");
  const podCidrs = raw.podCidrs;
  if (!Array.isArray(podCidrs) || podCidrs.length === 0 || !podCidrs.every((cidr) => typeof cidr === "string")) {
    throw new CniServerConfigError(`podCidrs in ${path} must be a non-empty list of prefixes such as "10.244.1.0/24"`);
  }
  const mtu = raw.mtu ?? 1450;
  if (typeof mtu !== "number" || !Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new CniServerConfigError(`mtu ${String(mtu)} in ${path} is invalid; use 68 to 65535`);
  return {
    socketPath: stringField(raw, "socketPath", "/var/run/switchyard/cni.sock"),
    ovsdb: stringField(raw, "ovsdb", "unix:/var/run/openvswitch/db.sock"),
    bridge,
    datapathType: stringField(raw, "datapathType", "system"),
    openflow: stringField(raw, "openflow", `unix:/var/run/openvswitch/${bridge}.mgmt`),
    podCidrs: podCidrs as string[],
    mtu,
    stateDir: stringField(raw, "stateDir", "/var/lib/switchyard/cni"),
    assignGatewayAddress: raw.assignGatewayAddress !== false,
    logLevel: stringField(raw, "logLevel", "info"),
    logFile: stringField(raw, "logFile", ""),
  };
}

function stringField(raw: Record<string, unknown>, field: string, fallback: string): string {
  const value = raw[field];
  if (value === undefined) return fallback;
  if (typeof value !== "string") throw new CniServerConfigError(`${field} must be a string, got ${JSON.stringify(value)}`);
  return value;
}
