// The pod's flows: the interface the CNI server calls, and an implementation on the
// project's OpenFlow library for a two-table L2/L3 pipeline.
//
//   table 0 (admission): a packet from a pod port passes only with the pod's own MAC and
//           IP. ARP must carry them as sender, and IPv6 may also use a link-local source
//           for neighbour discovery. Packets from the gateway (LOCAL) always pass.
//           Anything else misses and is dropped, because fail_mode is secure.
//   table 1 (delivery):  by destination MAC, and ARP requests / IPv6 neighbour
//           solicitations by target IP, to the owning port.
//
// NOTE: this pipeline stands in until the agent's full OpenFlow pipeline lands; it knows
// only pods on this node and the gateway, no tunnels, services or policy.
import { flowModFromText, OpenFlowVersion } from "../../openflow/index.ts";
import type { MessageBody, OpenFlowConnection } from "../../openflow/index.ts";

export type PodFlowSpec = {
  ofport: number;
  mac: string;
  /** Pod addresses without prefix length. */
  ips: readonly string[];
};

/**
 * Installs and removes the flows of one pod. Both calls are idempotent, and calls for
 * different pods may run concurrently. A failed install may leave some of the pod's
 * flows behind; removePodFlows() removes them.
 */
export interface PodFlowInstaller {
  installPodFlows(pod: PodFlowSpec): Promise<void>;
  removePodFlows(pod: PodFlowSpec): Promise<void>;
}

export type GatewaySpec = { mac: string; ips: readonly string[] };

/** High 16 bits of every pod flow's cookie ("SY"); the low bits hold the ofport. */
const POD_COOKIE_BASE = 0x5359n << 48n;
const GATEWAY_COOKIE = POD_COOKIE_BASE | (0xffffn << 32n);
const FULL_MASK = "0xffffffffffffffff";

export const PIPELINE_TABLES = { ADMISSION: 0, DELIVERY: 1 } as const;

export function podCookie(ofport: number): bigint {
  return POD_COOKIE_BASE | BigInt(ofport);
}

/** Returns the pod's flows as ovs-ofctl text, so tests and operators can compare them with dump-flows. */
export function podFlowTexts(pod: PodFlowSpec): string[] {
  const cookie = `cookie=0x${podCookie(pod.ofport).toString(16)}`;
  const admit = `${cookie},table=${PIPELINE_TABLES.ADMISSION},priority=200,in_port=${pod.ofport}`;
  const deliver = `${cookie},table=${PIPELINE_TABLES.DELIVERY},priority=200`;
  const next = `actions=goto_table:${PIPELINE_TABLES.DELIVERY}`;
  const flows = [`${deliver},dl_dst=${pod.mac},actions=output:${pod.ofport}`];
  for (const ip of pod.ips) {
    if (ip.includes(":")) {
      flows.push(`${admit},ipv6,dl_src=${pod.mac},ipv6_src=${ip},${next}`);
      flows.push(`${deliver},icmp6,icmp_type=135,nd_target=${ip},actions=output:${pod.ofport}`);
    } else {
      flows.push(`${admit},ip,dl_src=${pod.mac},nw_src=${ip},${next}`);
      flows.push(`${admit},arp,dl_src=${pod.mac},arp_spa=${ip},arp_sha=${pod.mac},${next}`);
      flows.push(`${deliver},arp,arp_tpa=${ip},actions=output:${pod.ofport}`);
    }
  }
  if (pod.ips.some((ip) => ip.includes(":"))) {
    // Neighbour discovery may use the link-local source address.
    flows.push(`${cookie},table=${PIPELINE_TABLES.ADMISSION},priority=190,icmp6,in_port=${pod.ofport},dl_src=${pod.mac},ipv6_src=fe80::/10,${next}`);
  }
  return flows;
}

/** Returns the gateway's flows: traffic from LOCAL is admitted, and traffic to the gateway goes to LOCAL. */
export function gatewayFlowTexts(gateway: GatewaySpec): string[] {
  const cookie = `cookie=0x${GATEWAY_COOKIE.toString(16)}`;
  const deliver = `${cookie},table=${PIPELINE_TABLES.DELIVERY},priority=200`;
  const flows = [
    `${cookie},table=${PIPELINE_TABLES.ADMISSION},priority=200,in_port=LOCAL,actions=goto_table:${PIPELINE_TABLES.DELIVERY}`,
    `${deliver},dl_dst=${gateway.mac},actions=LOCAL`,
  ];
  for (const ip of gateway.ips) {
    flows.push(ip.includes(":") ? `${deliver},icmp6,icmp_type=135,nd_target=${ip},actions=LOCAL` : `${deliver},arp,arp_tpa=${ip},actions=LOCAL`);
  }
  return flows;
}

/**
 * Installs pod flows over one OpenFlow connection. Pod flows are posted as flow_mods
 * followed by one barrier, which the connection shares between concurrent pods. A bundle
 * would cost two more round trips per pod. Gateway flows go in one bundle.
 */
export class OpenFlowPodFlowInstaller implements PodFlowInstaller {
  readonly #connection: OpenFlowConnection;

  constructor(connection: OpenFlowConnection) {
    this.#connection = connection;
  }

  /** Installs the gateway flows; idempotent, because adding an identical flow replaces it. */
  async installGatewayFlows(gateway: GatewaySpec): Promise<void> {
    await this.#connection.bundle(gatewayFlowTexts(gateway).map((text) => this.#flowMod(text, "add")));
  }

  async installPodFlows(pod: PodFlowSpec): Promise<void> {
    const messages = [this.#deleteByCookie(pod.ofport), ...podFlowTexts(pod).map((text) => this.#flowMod(text, "add"))];
    await Promise.all(messages.map((message) => this.#connection.post(message)));
  }

  async removePodFlows(pod: PodFlowSpec): Promise<void> {
    await this.#connection.post(this.#deleteByCookie(pod.ofport));
  }

  #deleteByCookie(ofport: number): MessageBody {
    return this.#flowMod(`cookie=0x${podCookie(ofport).toString(16)}/${FULL_MASK}`, "delete");
  }

  #flowMod(text: string, command: "add" | "delete"): MessageBody {
    const version = this.#connection.version === OpenFlowVersion.OF13 ? OpenFlowVersion.OF13 : OpenFlowVersion.OF15;
    return flowModFromText(text, { version, command });
  }
}
