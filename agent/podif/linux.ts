// Linux pod interfaces: a veth pair whose pod end lives in the pod's network namespace.
//
// Node's threads cannot enter another network namespace, and `ip -n` only accepts names
// under /run/netns, so every pod-side step runs in one child process,
// `nsenter --net=PATH ip -batch -`. The veth pair is created from inside the pod's
// namespace with the host end sent to the agent's namespace by PID ("netns <pid>").
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { PodInterfaceError, PodInterfaceErrorCode } from "./types.ts";
import type { PodInterfaceRef, PodInterfaces, PodInterfaceSpec, PodInterfaceState } from "./types.ts";
import { runCommand } from "./run.ts";

export type LinuxPodInterfacesOptions = {
  /** iproute2's ip. Default "ip". */
  ipPath?: string;
  /** util-linux nsenter. Default "nsenter". */
  nsenterPath?: string;
  /** ethtool, used when disableTxChecksumOffload is true. Default "ethtool". */
  ethtoolPath?: string;
  /**
   * Whether to turn off transmit checksum offload on the pod end (`ethtool -K DEV tx off`).
   * A veth passes locally sent TCP and UDP packets on with the checksum not yet filled in
   * (CHECKSUM_PARTIAL). ovs-vswitchd 3.1's userspace datapath forwards them unchanged, so the
   * receiving kernel drops them as corrupt. Turning offload off makes the pod's kernel write
   * full checksums. The kernel datapath does not need it. Default false.
   */
  disableTxChecksumOffload?: boolean;
};

type IpAddressJson = {
  ifname?: string;
  address?: string;
  mtu?: number;
  flags?: string[];
  addr_info?: { family?: string; local?: string; prefixlen?: number; scope?: string }[];
};
type IpRouteJson = { dst?: string; gateway?: string; table?: string };

/** Exit status of `ip` when a device does not exist, with the message it prints. */
const NO_DEVICE = /Cannot find device|does not exist/;

export class LinuxPodInterfaces implements PodInterfaces {
  readonly #ip: string;
  readonly #nsenter: string;
  readonly #ethtool: string;
  readonly #disableTxChecksumOffload: boolean;

  constructor(options: LinuxPodInterfacesOptions = {}) {
    this.#ip = options.ipPath ?? "ip";
    this.#nsenter = options.nsenterPath ?? "nsenter";
    this.#ethtool = options.ethtoolPath ?? "ethtool";
    this.#disableTxChecksumOffload = options.disableTxChecksumOffload ?? false;
  }

  async create(spec: PodInterfaceSpec): Promise<void> {
    if (!existsSync(spec.netns)) {
      throw new PodInterfaceError(PodInterfaceErrorCode.NETNS_NOT_FOUND, `network namespace ${spec.netns} does not exist`);
    }
    if (await this.hostInterfaceExists(spec.hostIfName)) await this.#deleteHostLink(spec.hostIfName);

    try {
      await this.#configurePodSide(spec);
      if (this.#disableTxChecksumOffload) await this.#turnOffTxChecksum(spec);
    } catch (error) {
      await this.#deleteHostLink(spec.hostIfName).catch(() => undefined);
      throw error;
    }
  }

  async setHostUp(hostIfName: string): Promise<void> {
    const result = await runCommand(this.#ip, ["link", "set", hostIfName, "up"]);
    if (result.code !== 0) throw commandFailed(`bring up host interface ${hostIfName}`, result.stderr);
  }

  async remove(ref: PodInterfaceRef): Promise<void> {
    await this.#deleteHostLink(ref.hostIfName);
  }

  async inspect(ref: { netns: string; ifName: string }): Promise<PodInterfaceState | undefined> {
    if (!existsSync(ref.netns)) return undefined;
    const result = await runCommand(this.#nsenter, [`--net=${ref.netns}`, this.#ip, "-j", "-batch", "-"], inspectBatch(ref.ifName));
    if (result.code !== 0) {
      if (NO_DEVICE.test(result.stderr)) return undefined;
      throw commandFailed(`inspect ${ref.ifName} in ${ref.netns}`, result.stderr);
    }
    return parseInspectOutput(result.stdout);
  }

  async hostInterfaceExists(hostIfName: string): Promise<boolean> {
    // /proc/self/net/dev lists the devices of the reading process's network namespace.
    // sysfs would show the namespace that mounted it, which differs under `nsenter --net`.
    const devices = await readFile("/proc/self/net/dev", "utf8");
    return devices.split("\n").some((line) => line.trimStart().startsWith(`${hostIfName}:`));
  }

  async #configurePodSide(spec: PodInterfaceSpec): Promise<void> {
    const result = await runCommand(this.#nsenter, [`--net=${spec.netns}`, this.#ip, "-batch", "-"], podSideBatch(spec, process.pid));
    if (result.code !== 0) throw commandFailed(`configure ${spec.ifName} in ${spec.netns}`, result.stderr);
  }

  async #turnOffTxChecksum(spec: PodInterfaceSpec): Promise<void> {
    const result = await runCommand(this.#nsenter, [`--net=${spec.netns}`, this.#ethtool, "-K", spec.ifName, "tx", "off"]);
    if (result.code !== 0) {
      const hint = "install ethtool on the node, or set cni.disableTxChecksumOffload to false when the bridge uses the kernel datapath";
      throw commandFailed(`turn off transmit checksum offload on ${spec.ifName} in ${spec.netns} (${hint})`, result.stderr);
    }
  }

  async #deleteHostLink(hostIfName: string): Promise<void> {
    const result = await runCommand(this.#ip, ["link", "del", hostIfName]);
    if (result.code !== 0 && !NO_DEVICE.test(result.stderr)) throw commandFailed(`delete host interface ${hostIfName}`, result.stderr);
  }

}

/**
 * Builds the `ip -batch` lines that run inside the pod's namespace. IPv6 addresses get `nodad`, so
 * the address is usable at once instead of after duplicate address detection.
 *
 * The host end is created with ARP off. It becomes an OVS port, but the node's kernel still
 * receives its packets. With ARP on, the kernel replies to the pod's ARP request for the
 * gateway with the host end's MAC. It then routes its own copy of every packet sent there.
 * Setting the flag at creation, before OVS opens the device, matters: `ip link set arp off`
 * while ovs-vswitchd updates the device's flags could be overwritten.
 */
export function podSideBatch(spec: PodInterfaceSpec, agentPid: number): string {
  const lines = [
    `link add ${spec.ifName} mtu ${spec.mtu} address ${spec.mac} type veth peer name ${spec.hostIfName} mtu ${spec.mtu} arp off netns ${agentPid}`,
  ];
  for (const address of spec.addresses) {
    const v6 = address.address.includes(":");
    lines.push(`address add ${address.address}/${address.prefixLength} dev ${spec.ifName}${v6 ? " nodad" : ""}`);
  }
  lines.push(`link set ${spec.ifName} up`);
  for (const address of spec.addresses) {
    const v6 = address.address.includes(":");
    lines.push(`route add ${v6 ? "::/0" : "0.0.0.0/0"} via ${address.gateway} dev ${spec.ifName}`);
  }
  return lines.join("\n") + "\n";
}

function inspectBatch(ifName: string): string {
  // "table all" is the one route listing that returns IPv4 and IPv6 in a single command.
  return [`address show dev ${ifName}`, `route show table all dev ${ifName}`].join("\n") + "\n";
}

/** `ip -j -batch` prints one JSON array per command, each on its own line. */
export function parseInspectOutput(stdout: string): PodInterfaceState | undefined {
  const arrays = stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as unknown[]);
  const link = (arrays[0] as IpAddressJson[] | undefined)?.[0];
  if (link === undefined) return undefined;
  const routes = ((arrays[1] as IpRouteJson[] | undefined) ?? []).filter((route) => route.dst === "default" && route.table === undefined);
  return {
    mac: link.address ?? "",
    mtu: link.mtu ?? 0,
    up: (link.flags ?? []).includes("UP"),
    addresses: (link.addr_info ?? []).filter((info) => info.scope === "global").map((info) => `${info.local}/${info.prefixlen}`),
    defaultGateways: routes.map((route) => route.gateway).filter((gateway): gateway is string => gateway !== undefined),
  };
}

function commandFailed(purpose: string, stderr: string): PodInterfaceError {
  return new PodInterfaceError(PodInterfaceErrorCode.COMMAND_FAILED, `failed to ${purpose}: ${stderr.trim().split("\n").slice(-2).join("; ")}`);
}
