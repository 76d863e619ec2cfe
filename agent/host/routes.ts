// Host routes toward peer pod CIDRs, in the node's network namespace. Every route the agent
// adds carries routing protocol number 83 (`proto 83` in `ip route`), so a restarted agent
// finds its own routes, keeps the current ones and deletes the rest without touching
// routes of anyone else.
import { formatAddress, formatCidr, parseAddress, prefixMask, type Cidr } from "../../common/net/cidr.ts";
import { VIRTUAL_MAC } from "../pipeline/flows.ts";
import type { PeerRoute } from "../forwarding/peers.ts";
import type { HostRunner } from "./command.ts";

/** Routing protocol number of the agent's routes (rtnetlink protocol field; numbers above 4 are free for daemons). */
export const ROUTE_PROTOCOL = 83;

/** Returns the first host address of a pod CIDR: a node's gateway address. */
export function gatewayAddress(cidr: Cidr): string {
  return formatAddress(cidr.family, cidr.network + 1n);
}

/**
 * Returns the `ip` commands that install one peer route. A tunnelled CIDR goes to the
 * gateway with the peer's gateway IP as an on-link next hop whose neighbour entry is the
 * virtual MAC, so the packet enters the pipeline with that MAC. An underlay CIDR goes
 * via the peer node's address.
 */
export function routeCommands(route: PeerRoute, gatewayName: string): string[][] {
  const cidr = formatCidr(route.cidr);
  if (route.via === "underlay") {
    return [["ip", "route", "replace", cidr, "via", route.transportIP, "proto", String(ROUTE_PROTOCOL)]];
  }
  const nextHop = gatewayAddress(route.cidr);
  return [
    ["ip", "neigh", "replace", nextHop, "lladdr", VIRTUAL_MAC, "dev", gatewayName, "nud", "permanent"],
    ["ip", "route", "replace", cidr, "via", nextHop, "dev", gatewayName, "onlink", "proto", String(ROUTE_PROTOCOL)],
  ];
}

interface IpRouteEntry {
  dst?: string;
}

/**
 * Keeps the host's proto-83 routes equal to `routes`: installs each (replace is idempotent)
 * and deletes every other proto-83 route. Not atomic: a failure leaves earlier commands applied,
 * and the next call repairs the rest.
 */
export async function syncHostRoutes(run: HostRunner, options: { routes: readonly PeerRoute[]; gatewayName: string }): Promise<{ deleted: string[] }> {
  for (const route of options.routes) {
    for (const argv of routeCommands(route, options.gatewayName)) await run(argv);
  }
  const wanted = new Set(options.routes.map((route) => formatCidr(route.cidr)));
  const listed = JSON.parse((await run(["ip", "-j", "-4", "route", "show", "proto", String(ROUTE_PROTOCOL)])) || "[]") as IpRouteEntry[];
  const deleted: string[] = [];
  for (const entry of listed) {
    if (entry.dst === undefined || wanted.has(entry.dst)) continue;
    await run(["ip", "route", "del", entry.dst, "proto", String(ROUTE_PROTOCOL)]);
    deleted.push(entry.dst);
  }
  return { deleted };
}

/** Gives the gateway its address (first of the node's pod CIDR) and MTU and brings it up. Idempotent. */
export async function configureGateway(run: HostRunner, options: { name: string; podCIDR: Cidr; mtu: number }): Promise<string> {
  const address = gatewayAddress(options.podCIDR);
  await run(["ip", "addr", "replace", `${address}/${options.podCIDR.prefixLength}`, "dev", options.name]);
  await run(["ip", "link", "set", options.name, "mtu", String(options.mtu), "up"]);
  return address;
}

/** Address, prefix length and MTU of the interface holding `address`. */
export interface TransportInterface {
  readonly name: string;
  readonly mtu: number;
  readonly subnet: Cidr;
}

interface IpAddrEntry {
  ifname: string;
  mtu: number;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** Finds the interface holding `address` (or named `name` when given). Returns undefined when none has it. */
export async function findTransportInterface(run: HostRunner, options: { address: string; name?: string }): Promise<TransportInterface | undefined> {
  const entries = JSON.parse((await run(["ip", "-j", "addr", "show"])) || "[]") as IpAddrEntry[];
  for (const entry of entries) {
    if (options.name !== undefined && options.name !== "" && entry.ifname !== options.name) continue;
    for (const info of entry.addr_info ?? []) {
      if (info.local !== options.address) continue;
      const family = info.family === "inet6" ? "IPv6" : "IPv4";
      const network = parseAddress(info.local) & prefixMask(family, info.prefixlen);
      return { name: entry.ifname, mtu: entry.mtu, subnet: { family, network, prefixLength: info.prefixlen } };
    }
  }
  return undefined;
}

/** Turns on IPv4 forwarding in this network namespace, because the node routes pod traffic through the gateway. */
export async function enableForwarding(run: HostRunner): Promise<void> {
  await run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
}
