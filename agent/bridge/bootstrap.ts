// Creates or repairs the integration bridge through OVSDB: the bridge itself, the gateway
// internal port, the tunnel port and the OpenFlow table names. Every step is an idempotent
// ensure, so an agent restart runs the same code over an existing bridge and changes nothing.
import { createHash } from "node:crypto";
import { OvsdbError, VSWITCH_DB } from "../../ovsdb/index.ts";
import type { Vswitch } from "../../ovsdb/index.ts";
import { DEFAULT_TUNNEL_PORT, type TunnelType } from "../forwarding/modes.ts";
import { tableNamesById } from "../pipeline/tables.ts";

/** external_ids keys the agent writes on the rows it owns. */
export const AGENT_EXTERNAL_ID = {
  /** On the bridge and on every port the agent creates: always "switchyard-agent". */
  OWNER: "switchyard-owner",
  /** On ports: "gateway" or "tunnel". */
  PORT_TYPE: "switchyard-port-type",
  /** On the bridge: the restart round of the agent run whose flows are installed (see pipeline/cookie.ts). */
  ROUND: "switchyard-round",
} as const;

export const OWNER_VALUE = "switchyard-agent";

export interface BridgeLayout {
  readonly bridge: string;
  readonly datapathType: "system" | "netdev";
  /** `mac` is written to Interface.mac, so the gateway keeps its MAC when ovs-vswitchd recreates the device. */
  readonly gateway: { readonly name: string; readonly ofport: number; readonly mtu: number; readonly mac: string };
  /** Absent in noEncap mode. */
  readonly tunnel?: {
    readonly name: string;
    readonly ofport: number;
    readonly type: TunnelType;
    /** 0 selects the IANA port of the tunnel type. */
    readonly destinationPort: number;
    readonly checksum: boolean;
  };
}

/** Port numbers and gateway MAC of the bootstrapped bridge, used by the flow generators. */
export interface BridgePorts {
  readonly gateway: { readonly ofport: number; readonly mac: string };
  readonly tunnel?: { readonly ofport: number };
}

export class BridgeBootstrapError extends Error {
  readonly code = "BRIDGE_BOOTSTRAP_FAILED";
}

/** Returns Interface.options of the tunnel port: flow-based remote and key, the port and the checksum setting. */
export function tunnelOptions(tunnel: NonNullable<BridgeLayout["tunnel"]>): Record<string, string> {
  const options: Record<string, string> = { remote_ip: "flow", key: "flow" };
  const port = tunnel.destinationPort === 0 ? DEFAULT_TUNNEL_PORT[tunnel.type] : tunnel.destinationPort;
  if (port !== undefined && tunnel.type !== "gre") options["dst_port"] = String(port);
  options["csum"] = tunnel.checksum ? "true" : "false";
  return options;
}

/**
 * Ensures the bridge (fail_mode secure, OpenFlow 1.3 and 1.5), the gateway and tunnel ports
 * with fixed ofport_request values, and the table names, then waits until ovs-vswitchd has
 * assigned the ports' numbers. Idempotent. Raises BridgeBootstrapError when a port ends up
 * with a number other than the one requested, because another port already uses it.
 */
export async function bootstrapBridge(vswitch: Vswitch, layout: BridgeLayout, options: { timeoutMs: number }): Promise<BridgePorts> {
  await vswitch.ensureBridge({
    name: layout.bridge,
    datapathType: layout.datapathType,
    protocols: ["OpenFlow13", "OpenFlow15"],
    failMode: "secure",
    externalIds: { [AGENT_EXTERNAL_ID.OWNER]: OWNER_VALUE },
  });
  await vswitch.addPort({
    bridge: layout.bridge,
    name: layout.gateway.name,
    type: "internal",
    ofportRequest: layout.gateway.ofport,
    mtuRequest: layout.gateway.mtu,
    externalIds: { [AGENT_EXTERNAL_ID.OWNER]: OWNER_VALUE, [AGENT_EXTERNAL_ID.PORT_TYPE]: "gateway" },
  });
  await ensureInterfaceMac(vswitch, layout.gateway.name, layout.gateway.mac);
  if (layout.tunnel !== undefined) {
    await vswitch.addPort({
      bridge: layout.bridge,
      name: layout.tunnel.name,
      type: layout.tunnel.type,
      options: tunnelOptions(layout.tunnel),
      ofportRequest: layout.tunnel.ofport,
      externalIds: { [AGENT_EXTERNAL_ID.OWNER]: OWNER_VALUE, [AGENT_EXTERNAL_ID.PORT_TYPE]: "tunnel" },
    });
  } else {
    await removeStaleTunnels(vswitch, layout.bridge);
  }
  await vswitch.nameFlowTables(layout.bridge, tableNamesById());
  await vswitch.waitForVswitchd({ timeoutMs: options.timeoutMs });

  const gatewayOfport = await checkedOfport(vswitch, layout.gateway, options);
  // NOTE: the MAC is the one written to Interface.mac, not read back from mac_in_use: the
  // OVSDB replica kept a stale mac_in_use after ovs-vswitchd changed it (seen with OVS 3.1).
  const mac = layout.gateway.mac;
  if (layout.tunnel === undefined) return { gateway: { ofport: gatewayOfport, mac } };
  const tunnelOfport = await checkedOfport(vswitch, layout.tunnel, options);
  return { gateway: { ofport: gatewayOfport, mac }, tunnel: { ofport: tunnelOfport } };
}

/**
 * Sets Interface.mac unless the device already uses that MAC. Vswitch has no call for this
 * column (and does not replicate it), so it is one raw transaction.
 */
async function ensureInterfaceMac(vswitch: Vswitch, name: string, mac: string): Promise<void> {
  if (vswitch.interface(name)?.mac_in_use === mac) return;
  await vswitch.client.transact(VSWITCH_DB, [{ op: "update", table: "Interface", where: [["name", "==", name]], row: { mac } }], { timeoutMs: 10_000 });
}

/** Returns a locally administered unicast MAC derived from `seed`, the same on every start. */
export function stableMac(seed: string): string {
  const bytes = createHash("sha256").update(`switchyard-gateway/${seed}`).digest().subarray(0, 6);
  bytes[0] = ((bytes[0] ?? 0) & 0xfc) | 0x02;
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join(":");
}

/** Deletes agent-owned tunnel ports left from an earlier encap configuration. */
async function removeStaleTunnels(vswitch: Vswitch, bridge: string): Promise<void> {
  const stale = vswitch.findPorts({ externalIds: { [AGENT_EXTERNAL_ID.OWNER]: OWNER_VALUE, [AGENT_EXTERNAL_ID.PORT_TYPE]: "tunnel" } });
  for (const port of stale) await vswitch.deletePort({ bridge, name: port.name });
}

async function checkedOfport(vswitch: Vswitch, port: { name: string; ofport: number }, options: { timeoutMs: number }): Promise<number> {
  let ofport: number;
  try {
    ofport = await vswitch.waitForOfport(port.name, options);
  } catch (error) {
    if (error instanceof OvsdbError) throw new BridgeBootstrapError(`port ${port.name} got no OpenFlow port number: ${error.message}`, { cause: error });
    throw error;
  }
  if (ofport !== port.ofport) {
    throw new BridgeBootstrapError(
      `port ${port.name} has ofport ${ofport}, not the configured ${port.ofport}: another port already uses that number; free it or change the configuration`,
    );
  }
  return ofport;
}

/** Reads the round stored on the bridge by the previous agent run; 0 when none. */
export function storedRound(vswitch: Vswitch, bridge: string): number {
  const row = vswitch.bridge(bridge);
  const ids = row?.external_ids;
  const text = ids instanceof Map ? ids.get(AGENT_EXTERNAL_ID.ROUND) : undefined;
  const round = Number(text);
  return Number.isInteger(round) && round > 0 && round <= 0xffff ? round : 0;
}

/** Records `round` on the bridge, once its flows are installed and the older round's removed. */
export async function storeRound(vswitch: Vswitch, bridge: string, round: number): Promise<void> {
  await vswitch.ensureBridge({ name: bridge, externalIds: { [AGENT_EXTERNAL_ID.ROUND]: String(round) } });
}
