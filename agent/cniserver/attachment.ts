// One pod attachment: what the agent created for (network, container ID, interface name).
import type { AllocatedAddress } from "../ipam/allocator.ts";

export type AttachmentState = "creating" | "ready";

export type Attachment = {
  network: string;
  containerId: string;
  ifName: string;
  netns: string;
  podName?: string;
  podNamespace?: string;
  podUid?: string;
  hostIfName: string;
  mac: string;
  mtu: number;
  addresses: AllocatedAddress[];
  ofport?: number;
  /** "creating" from allocation until ADD finishes; a record left in this state marks an ADD cut short by a crash. */
  state: AttachmentState;
};

/** Builds the attachment key from network name, container ID and interface name, the tuple the specification uses. */
export function attachmentKey(parts: { network: string; containerId: string; ifName: string }): string {
  return `${parts.network}/${parts.containerId}/${parts.ifName}`;
}

/** Keys of the OVSDB external_ids written on the pod's Port and Interface rows. */
export const EXTERNAL_ID = {
  ATTACHMENT: "switchyard-attachment",
  CONTAINER_ID: "container-id",
  POD_NAME: "pod-name",
  POD_NAMESPACE: "pod-namespace",
  IP: "ip",
  MAC: "attached-mac",
  NETNS: "netns",
  IF_NAME: "if-name",
  NETWORK: "cni-network",
  MTU: "pod-mtu",
} as const;

export function externalIdsOf(attachment: Attachment): Record<string, string> {
  const ids: Record<string, string> = {
    [EXTERNAL_ID.ATTACHMENT]: attachmentKey(attachment),
    [EXTERNAL_ID.CONTAINER_ID]: attachment.containerId,
    [EXTERNAL_ID.IP]: attachment.addresses.map((address) => address.address).join(","),
    [EXTERNAL_ID.MAC]: attachment.mac,
    [EXTERNAL_ID.NETNS]: attachment.netns,
    [EXTERNAL_ID.IF_NAME]: attachment.ifName,
    [EXTERNAL_ID.NETWORK]: attachment.network,
    [EXTERNAL_ID.MTU]: String(attachment.mtu),
  };
  if (attachment.podName !== undefined) ids[EXTERNAL_ID.POD_NAME] = attachment.podName;
  if (attachment.podNamespace !== undefined) ids[EXTERNAL_ID.POD_NAMESPACE] = attachment.podNamespace;
  return ids;
}
