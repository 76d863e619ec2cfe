// The flows of the pipeline, generated from the node's state. Each function returns the
// complete flow set of one owner (the pipeline defaults, the local node's ports, one pod, one
// peer CIDR), so installing or removing an owner is one bundle.
import { isIPv4 } from "node:net";
import type { Cidr } from "../../common/net/cidr.ts";
import { CookieCategory, encodeCookie, ownerHash } from "./cookie.ts";
import { flow, moveBitsAction, type PipelineFlow } from "./flow.ts";
import { CT_LABEL_EGRESS_RULE, CT_LABEL_INGRESS_RULE, CT_SOURCE, CT_ZONE, EGRESS_RULE_ID, INGRESS_RULE_ID, OUTPUT_RESOLVED, PACKET_SOURCE, PacketSource, TARGET_OFPORT } from "./registers.ts";
import { Tables } from "./tables.ts";

/**
 * Destination MAC of packets sent into a tunnel, and of packets the node routes toward a
 * remote pod CIDR; L3Forwarding on the receiving node matches it to rewrite the MACs.
 * Locally administered (bit 1 of the first octet set).
 */
export const VIRTUAL_MAC = "aa:bb:cc:dd:ee:ff";

/** Flow priorities. Specific rules use HIGH; the table's fallthrough or drop uses MISS. */
export const Priority = {
  HIGH: 200,
  NORMAL: 190,
  MISS: 0,
} as const;

/** Local node facts every flow generator uses. */
export interface NodeFlowContext {
  /** Restart round of this agent run (see cookie.ts). */
  readonly round: number;
  readonly gateway: { readonly ofport: number; readonly mac: string; readonly ip: string };
  /** Absent in noEncap mode, where the bridge has no tunnel port. */
  readonly tunnel?: { readonly ofport: number };
}

/** A pod attached to the bridge. */
export interface PodPort {
  readonly ofport: number;
  readonly mac: string;
  /** The pod's addresses without prefix length. NOTE: only IPv4 addresses get flows; IPv6 ones are skipped until the pipeline handles IPv6. */
  readonly ips: readonly string[];
}

/** A remote pod CIDR reached through the tunnel. */
export interface TunnelPeer {
  readonly node: string;
  readonly cidr: Cidr;
  readonly transportIP: string;
}

function cookie(context: NodeFlowContext, category: CookieCategory, owner: number): bigint {
  return encodeCookie({ round: context.round, category, owner });
}

/** Returns the table-miss flows of every table: drops, fallthroughs and the conntrack steps. */
export function pipelineFlows(context: NodeFlowContext): PipelineFlow[] {
  const c = cookie(context, CookieCategory.pipeline, 0);
  const miss = { priority: Priority.MISS, cookie: c };
  const high = { priority: Priority.HIGH, cookie: c };
  return [
    flow(Tables.Classifier, miss).build(),
    flow(Tables.SpoofGuard, miss).build(),
    flow(Tables.ARPResponder, { priority: Priority.NORMAL, cookie: c }).arp().normal().build(),
    flow(Tables.ARPResponder, miss).build(),
    flow(Tables.ConntrackZone, high).ip().ct({ zone: CT_ZONE, table: Tables.ConntrackState }).build(),
    // NOTE: IPv6 and other non-IPv4, non-ARP traffic is dropped here until the pipeline handles IPv6.
    flow(Tables.ConntrackZone, miss).build(),
    flow(Tables.ConntrackState, high).ip().ctState({ set: ["inv", "trk"] }).build(),
    flow(Tables.ConntrackState, miss).gotoTable(Tables.ServiceHook).build(),
    flow(Tables.ServiceHook, miss).gotoTable(Tables.EgressPolicy).build(),
    flow(Tables.EgressPolicy, miss).gotoTable(Tables.L3Forwarding).build(),
    flow(Tables.L3Forwarding, miss).gotoTable(Tables.L2Forwarding).build(),
    flow(Tables.L3DecTTL, miss).ip().decTtl().gotoTable(Tables.L2Forwarding).build(),
    flow(Tables.L2Forwarding, miss).gotoTable(Tables.IngressPolicy).build(),
    flow(Tables.IngressPolicy, miss).gotoTable(Tables.ConntrackCommit).build(),
    // The rule-id registers are 0 when no policy rule matched, so ct_label then records 0.
    flow(Tables.ConntrackCommit, high)
      .ip()
      .ctState({ set: ["new", "trk"] })
      .ct({
        zone: CT_ZONE,
        commit: true,
        exec: [moveBitsAction(PACKET_SOURCE, CT_SOURCE), moveBitsAction(EGRESS_RULE_ID, CT_LABEL_EGRESS_RULE), moveBitsAction(INGRESS_RULE_ID, CT_LABEL_INGRESS_RULE)],
      })
      .gotoTable(Tables.Output)
      .build(),
    flow(Tables.ConntrackCommit, miss).gotoTable(Tables.Output).build(),
    flow(Tables.Output, high).bits(OUTPUT_RESOLVED, 1).outputBits(TARGET_OFPORT).build(),
    flow(Tables.Output, miss).build(),
  ];
}

/** Returns the flows of the gateway and tunnel ports: classification, spoof guard exemption, ARP replies for the gateway IP, L2 entries. */
export function localFlows(context: NodeFlowContext): PipelineFlow[] {
  const c = { priority: Priority.HIGH, cookie: cookie(context, CookieCategory.local, 0) };
  const gateway = context.gateway;
  const flows = [
    flow(Tables.Classifier, c).inPort(gateway.ofport).load(PACKET_SOURCE, PacketSource.gateway).gotoTable(Tables.SpoofGuard).build(),
    flow(Tables.SpoofGuard, c).ip().inPort(gateway.ofport).gotoTable(Tables.ConntrackZone).build(),
    flow(Tables.SpoofGuard, c).arp().inPort(gateway.ofport).gotoTable(Tables.ARPResponder).build(),
    arpResponderFlow(context),
    flow(Tables.L2Forwarding, c).ethDst(gateway.mac).load(TARGET_OFPORT, gateway.ofport).load(OUTPUT_RESOLVED, 1).gotoTable(Tables.IngressPolicy).build(),
  ];
  const tunnel = context.tunnel;
  if (tunnel !== undefined) {
    flows.push(
      flow(Tables.Classifier, c).inPort(tunnel.ofport).load(PACKET_SOURCE, PacketSource.tunnel).gotoTable(Tables.ConntrackZone).build(),
      // A remote pod reaching this node's gateway IP through the tunnel.
      flow(Tables.L3Forwarding, c).ethDst(VIRTUAL_MAC).ipDst(gateway.ip).setField("eth_dst", gateway.mac).gotoTable(Tables.L3DecTTL).build(),
      flow(Tables.L2Forwarding, c).ethDst(VIRTUAL_MAC).load(TARGET_OFPORT, tunnel.ofport).load(OUTPUT_RESOLVED, 1).gotoTable(Tables.IngressPolicy).build(),
    );
  }
  return flows;
}

/** Returns the flow that replies to a pod's ARP request for the gateway IP with the gateway MAC, out of the port it came in on. */
function arpResponderFlow(context: NodeFlowContext): PipelineFlow {
  const gateway = context.gateway;
  return flow(Tables.ARPResponder, { priority: Priority.HIGH, cookie: cookie(context, CookieCategory.local, 0) })
    .arpOp(1)
    .arpTpa(gateway.ip)
    .bits(PACKET_SOURCE, PacketSource.pod)
    .move("eth_src", "eth_dst")
    .setField("eth_src", gateway.mac)
    .setField("arp_op", 2)
    .move("arp_sha", "arp_tha")
    .setField("arp_sha", gateway.mac)
    .move("arp_spa", "arp_tpa")
    .setField("arp_spa", gateway.ip)
    .inPortOutput()
    .build();
}

/** Returns the flows of one local pod, all with the pod's cookie (owner: its ofport). */
export function podFlows(context: NodeFlowContext, pod: PodPort): PipelineFlow[] {
  const c = { priority: Priority.HIGH, cookie: cookie(context, CookieCategory.pod, pod.ofport) };
  const ipv4 = pod.ips.filter((ip) => isIPv4(ip));
  return [
    flow(Tables.Classifier, { priority: Priority.NORMAL, cookie: c.cookie }).inPort(pod.ofport).load(PACKET_SOURCE, PacketSource.pod).gotoTable(Tables.SpoofGuard).build(),
    ...ipv4.flatMap((ip) => [
      flow(Tables.SpoofGuard, c).inPort(pod.ofport).ethSrc(pod.mac).ipSrc(ip).gotoTable(Tables.ConntrackZone).build(),
      flow(Tables.SpoofGuard, c).inPort(pod.ofport).ethSrc(pod.mac).arpSpa(ip).arpSha(pod.mac).gotoTable(Tables.ARPResponder).build(),
    ]),
    ...ipv4.map((ip) =>
      flow(Tables.L3Forwarding, c).ethDst(VIRTUAL_MAC).ipDst(ip).setField("eth_src", context.gateway.mac).setField("eth_dst", pod.mac).gotoTable(Tables.L3DecTTL).build(),
    ),
    flow(Tables.L2Forwarding, c).ethDst(pod.mac).load(TARGET_OFPORT, pod.ofport).load(OUTPUT_RESOLVED, 1).gotoTable(Tables.IngressPolicy).build(),
  ];
}

/** Returns the flow sending traffic for a remote pod CIDR into the tunnel toward its node (owner: hash of the node name). */
export function tunnelPeerFlows(context: NodeFlowContext, peer: TunnelPeer): PipelineFlow[] {
  const c = { priority: Priority.HIGH, cookie: cookie(context, CookieCategory.node, ownerHash(peer.node)) };
  return [
    flow(Tables.L3Forwarding, c)
      .ipDstCidr(peer.cidr)
      .setField("eth_src", context.gateway.mac)
      .setField("eth_dst", VIRTUAL_MAC)
      .setField("tun_dst", peer.transportIP)
      .gotoTable(Tables.L3DecTTL)
      .build(),
  ];
}
