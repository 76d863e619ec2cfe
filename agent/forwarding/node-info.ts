// Reads the fields the agent uses from a Kubernetes Node object.
import type { V1Node } from "@kubernetes/client-node";
import { CidrError, familyOf, parseCidr, type Cidr } from "../../common/net/cidr.ts";
import type { PeerNode } from "./peers.ts";

/** The reasons a Node cannot be used as a peer yet; the daemon waits for the next update. */
export type NodeSkipReason = "no-pod-cidr" | "no-internal-ip" | "invalid-pod-cidr";

export type NodeReadResult = { ok: true; node: PeerNode } | { ok: false; reason: NodeSkipReason; detail: string };

/**
 * Extracts name, pod CIDRs (spec.podCIDRs, else spec.podCIDR), the first InternalIP
 * (IPv4 preferred) and the creation time. Never throws.
 */
export function readPeerNode(node: V1Node): NodeReadResult {
  const name = node.metadata?.name ?? "";
  const cidrTexts = node.spec?.podCIDRs ?? (node.spec?.podCIDR === undefined ? [] : [node.spec.podCIDR]);
  if (cidrTexts.length === 0) return { ok: false, reason: "no-pod-cidr", detail: `node ${name} has no spec.podCIDR yet` };
  const podCIDRs: Cidr[] = [];
  for (const text of cidrTexts) {
    try {
      podCIDRs.push(parseCidr(text));
    } catch (error) {
      if (!(error instanceof CidrError)) throw error;
      return { ok: false, reason: "invalid-pod-cidr", detail: `node ${name} has invalid pod CIDR ${JSON.stringify(text)}: ${error.message}` };
    }
  }
  const internal = (node.status?.addresses ?? []).filter((address) => address.type === "InternalIP" && familyOf(address.address) !== undefined);
  const chosen = internal.find((address) => familyOf(address.address) === "IPv4") ?? internal[0];
  if (chosen === undefined) return { ok: false, reason: "no-internal-ip", detail: `node ${name} has no InternalIP address in status.addresses` };
  const created = node.metadata?.creationTimestamp;
  const createdAtMs = created === undefined ? 0 : new Date(created).getTime();
  return { ok: true, node: { name, podCIDRs, transportIP: chosen.address, createdAtMs: Number.isNaN(createdAtMs) ? 0 : createdAtMs } };
}
