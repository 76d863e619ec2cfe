// Result types and their conversion to the cniVersion of the configuration.
import type { CniVersion } from "./version.ts";
import { compareVersions } from "./version.ts";

export type CniInterface = { name: string; mac?: string; mtu?: number; sandbox?: string; socketPath?: string; pciID?: string };
export type CniIpConfig = { address: string; gateway?: string; interface?: number };
export type CniRoute = { dst: string; gw?: string; mtu?: number; advmss?: number; priority?: number; table?: number; scope?: number };
export type CniDns = { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };

/** A result in the newest (1.1.0) shape, as the agent returns it. */
export type CniResult = {
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: CniRoute[];
  dns?: CniDns;
};

/** Result fields as written for one specification version. */
export type VersionedResult = { cniVersion: CniVersion } & Record<string, unknown>;

const INTERFACE_FIELDS_1_1 = ["mtu", "socketPath", "pciID"] as const;
const ROUTE_FIELDS_1_1 = ["mtu", "advmss", "priority", "table", "scope"] as const;

/**
 * Converts a 1.1.0-shaped result to `version`. For 0.3.x and 0.4.0 every IP carries
 * `version` ("4" or "6", from the address). Below 1.1.0 the interface fields mtu,
 * socketPath and pciID and the route fields mtu, advmss, priority, table and scope are
 * dropped, because those versions do not define them.
 */
export function convertResult(result: CniResult, version: CniVersion): VersionedResult {
  const before11 = compareVersions(version, "1.1.0") < 0;
  const before100 = compareVersions(version, "1.0.0") < 0;

  const out: VersionedResult = { cniVersion: version };
  if (result.interfaces !== undefined) {
    out.interfaces = result.interfaces.map((iface) => (before11 ? omit(iface, INTERFACE_FIELDS_1_1) : { ...iface }));
  }
  if (result.ips !== undefined) {
    out.ips = result.ips.map((ip) => (before100 ? { version: ipFamilyOf(ip.address), ...ip } : { ...ip }));
  }
  if (result.routes !== undefined) {
    out.routes = result.routes.map((route) => (before11 ? omit(route, ROUTE_FIELDS_1_1) : { ...route }));
  }
  out.dns = result.dns === undefined ? {} : { ...result.dns };
  return out;
}

/** Returns "6" for an address containing a colon and "4" otherwise. */
export function ipFamilyOf(address: string): "4" | "6" {
  return address.includes(":") ? "6" : "4";
}

function omit<T extends object>(value: T, keys: readonly string[]): T {
  const copy = { ...value } as Record<string, unknown>;
  for (const key of keys) delete copy[key];
  return copy as T;
}
