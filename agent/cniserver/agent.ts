// Wires the CNI server to OVSDB, OpenFlow, the pod-interface layer and the node IPAM.
import { createHash } from "node:crypto";
import { join } from "node:path";
import { OpenFlowConnection } from "../../openflow/index.ts";
import { OvsdbClient, Vswitch } from "../../ovsdb/index.ts";
import { NodeIpam } from "../ipam/allocator.ts";
import { LinuxPodInterfaces } from "../podif/linux.ts";
import type { PodInterfaces } from "../podif/types.ts";
import { runCommand } from "../podif/run.ts";
import { PodAttacher } from "./attacher.ts";
import type { CniServerConfig } from "./config.ts";
import { OpenFlowPodFlowInstaller } from "./flows.ts";
import type { GatewaySpec, PodFlowInstaller } from "./flows.ts";
import type { Logger } from "./logger.ts";
import { restoreAttachments } from "./restore.ts";
import { CniServer, type CniRequestEvent } from "./server.ts";
import { AttachmentStore } from "./store.ts";

export type RunningCniAgent = { server: CniServer; close(): Promise<void> };

export type CniServiceOptions = {
  /** An open Vswitch whose replica includes the bridge. */
  vswitch: Vswitch;
  bridge: string;
  /** The pipeline's pod flows; the standalone server uses OpenFlowPodFlowInstaller. */
  flows: PodFlowInstaller;
  ipam: NodeIpam;
  /** Folder for the attachment records (STATE/attachments). */
  stateDir: string;
  mtu: number;
  socketPath: string;
  logger: Logger;
  /** Whether ADD can be served; STATUS reports it. */
  isReady: () => boolean;
  /** Default: LinuxPodInterfaces, turning off transmit checksum offload when disableTxChecksumOffload is true. */
  podInterfaces?: PodInterfaces;
  /** Passed to the default LinuxPodInterfaces; see LinuxPodInterfacesOptions. Default false. */
  disableTxChecksumOffload?: boolean;
  /** Called once per request, for metrics; see CniServerOptions. */
  onRequest?: (event: CniRequestEvent) => void;
};

export type CniService = { server: CniServer; store: AttachmentStore; attacher: PodAttacher };

/**
 * Opens the attachment store, rebuilds it and the IPAM from OVSDB, and opens the socket.
 * The agent daemon calls this with its own Vswitch, IPAM and pipeline; the caller keeps
 * ownership of those and closes them after `server.close()`.
 */
export async function startCniService(options: CniServiceOptions): Promise<CniService> {
  const { vswitch, bridge, ipam, logger } = options;
  const store = AttachmentStore.open({
    directory: join(options.stateDir, "attachments"),
    onCorrupt: (file, error) => logger.error("skipped unreadable attachment record", { file, error: error.message }),
  });
  const restored = restoreAttachments({ vswitch, bridge, ipam, store, logger });
  logger.info("attachments restored", { count: restored });

  const podInterfaces = options.podInterfaces ?? new LinuxPodInterfaces({ disableTxChecksumOffload: options.disableTxChecksumOffload ?? false });
  const attacher = new PodAttacher({ bridge, mtu: options.mtu, ipam, store, podInterfaces, vswitch, flows: options.flows, logger });
  const server = await CniServer.listen({ socketPath: options.socketPath, attacher, logger, isReady: options.isReady, ...(options.onRequest === undefined ? {} : { onRequest: options.onRequest }) });
  return { server, store, attacher };
}

/**
 * Starts everything the CNI server needs, in order: OVSDB, the bridge, OpenFlow and the
 * gateway flows, the IPAM and attachment store (rebuilt from OVSDB), then the socket.
 * The socket opens last, so a binary that connects earlier gets "try again later".
 */
export async function startCniAgent(config: CniServerConfig, logger: Logger): Promise<RunningCniAgent> {
  const client = await OvsdbClient.connect(config.ovsdb, { defaultTimeoutMs: 10_000 });
  const vswitch = await Vswitch.open(client);
  // A fixed hwaddr keeps the gateway MAC stable. Without it OVS may change the local
  // port's MAC as ports come and go, and the gateway flows would match a stale address.
  const gatewayMac = bridgeMac(config.bridge);
  await vswitch.ensureBridge({
    name: config.bridge,
    datapathType: config.datapathType,
    protocols: ["OpenFlow13", "OpenFlow15"],
    failMode: "secure",
    otherConfig: { hwaddr: gatewayMac },
  });
  await vswitch.waitForVswitchd({ timeoutMs: 10_000 });

  const ipam = NodeIpam.open({ podCidrs: config.podCidrs, storePath: join(config.stateDir, "ipam.json") });
  if (config.assignGatewayAddress) await assignGatewayAddresses(config.bridge, ipam);

  const connection = await OpenFlowConnection.connect({ address: config.openflow });
  const flows = new OpenFlowPodFlowInstaller(connection);
  await flows.installGatewayFlows({ mac: gatewayMac, ips: ipam.gateways().map((gateway) => gateway.address) });

  const service = await startCniService({
    vswitch,
    bridge: config.bridge,
    flows,
    ipam,
    stateDir: config.stateDir,
    mtu: config.mtu,
    socketPath: config.socketPath,
    logger,
    isReady: () => client.connected && connection.isConnected,
  });
  const { store } = service;

  // ovs-vswitchd loses every flow when it restarts, and with the userspace datapath it
  // recreates the bridge's tap device without addresses, so both are restored after a reconnect.
  connection.on("reconnected", () => {
    const restore = async (): Promise<void> => {
      if (config.assignGatewayAddress) await assignGatewayAddresses(config.bridge, ipam);
      await replayFlows({ flows, gateway: { mac: gatewayMac, ips: ipam.gateways().map((gateway) => gateway.address) }, store });
      logger.info("gateway and pod flows restored after the OpenFlow connection came back", { attachments: store.list().length });
    };
    restore().catch((error: unknown) => {
      logger.error("failed to restore the gateway and flows after the OpenFlow connection came back", { error: String(error) });
    });
  });

  return {
    server: service.server,
    async close() {
      await service.server.close();
      await connection.close();
      await vswitch.close();
      client.close();
    },
  };
}

/** Reinstalls the gateway flows and the flows of every attachment that has an ofport. */
async function replayFlows(options: { flows: OpenFlowPodFlowInstaller; gateway: GatewaySpec; store: AttachmentStore }): Promise<void> {
  await options.flows.installGatewayFlows(options.gateway);
  const pods = options.store.list().filter((record) => record.ofport !== undefined && record.state === "ready");
  await Promise.all(pods.map((record) => options.flows.installPodFlows({ ofport: record.ofport ?? 0, mac: record.mac, ips: record.addresses.map((address) => address.address) })));
}

/** Puts each gateway address on the bridge's local port; `ip address replace` makes it idempotent. */
async function assignGatewayAddresses(bridge: string, ipam: NodeIpam): Promise<void> {
  const lines = ipam.gateways().map((gateway) => `address replace ${gateway.address}/${gateway.prefixLength} dev ${bridge}${gateway.family === "IPv6" ? " nodad" : ""}`);
  lines.push(`link set ${bridge} up`);
  const result = await runCommand("ip", ["-batch", "-"], lines.join("\n") + "\n");
  if (result.code !== 0) throw new Error(`failed to assign gateway addresses to ${bridge}: ${result.stderr.trim()}`);
}

/** Derives a locally administered unicast MAC from the bridge name, the same on every start. */
export function bridgeMac(bridge: string): string {
  const bytes = createHash("sha256").update(`switchyard-gateway/${bridge}`).digest().subarray(0, 6);
  bytes[0] = ((bytes[0] ?? 0) & 0xfc) | 0x02;
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join(":");
}
