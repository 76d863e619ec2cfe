// Rebuilds the attachment records and the IPAM state after an agent restart.
import type { NodeIpam } from "../ipam/allocator.ts";
import { familyOf } from "../../common/net/cidr.ts";
import type { Vswitch } from "../../ovsdb/index.ts";
import { attachmentKey, EXTERNAL_ID } from "./attachment.ts";
import type { Attachment } from "./attachment.ts";
import type { Logger } from "./logger.ts";
import type { AttachmentStore } from "./store.ts";

/**
 * Makes the IPAM hold every address that an attachment record or an OVS port's
 * external_ids names, recreates records for ports the store lacks, and releases
 * allocations that neither names. Returns the number of attachments known afterwards.
 */
export function restoreAttachments(options: { vswitch: Vswitch; bridge: string; ipam: NodeIpam; store: AttachmentStore; logger: Logger }): number {
  return options.ipam.batch(() => rebuild(options));
}

function rebuild(options: { vswitch: Vswitch; bridge: string; ipam: NodeIpam; store: AttachmentStore; logger: Logger }): number {
  const { vswitch, bridge, ipam, store, logger } = options;

  for (const record of store.list()) {
    ipam.restore(attachmentKey(record), record.addresses.map((address) => address.address));
  }

  for (const port of vswitch.listPorts(bridge)) {
    const key = port.external_ids.get(EXTERNAL_ID.ATTACHMENT);
    if (key === undefined) continue;
    const ips = (port.external_ids.get(EXTERNAL_ID.IP) ?? "").split(",").filter((ip) => ip !== "");
    ipam.restore(key, ips);
    if (store.get(key) !== undefined) continue;
    const record = recordFromPort(port.name, port.external_ids, ipam.lookup(key) ?? []);
    if (record === undefined) continue;
    const iface = vswitch.interface(port.name);
    if (typeof iface?.ofport === "number" && iface.ofport > 0) record.ofport = iface.ofport;
    store.put(record);
    logger.debug("attachment restored from OVSDB", { attachment: key, hostIfName: port.name, ips });
  }

  const known = new Set(store.list().map((record) => attachmentKey(record)));
  for (const owner of ipam.owners()) {
    if (known.has(owner)) continue;
    ipam.release(owner);
    logger.warn("released addresses without an attachment", { attachment: owner });
  }
  return known.size;
}

function recordFromPort(name: string, ids: Map<string, string>, addresses: Attachment["addresses"]): Attachment | undefined {
  const network = ids.get(EXTERNAL_ID.NETWORK);
  const containerId = ids.get(EXTERNAL_ID.CONTAINER_ID);
  const ifName = ids.get(EXTERNAL_ID.IF_NAME);
  if (network === undefined || containerId === undefined || ifName === undefined) return undefined;
  const record: Attachment = {
    network,
    containerId,
    ifName,
    netns: ids.get(EXTERNAL_ID.NETNS) ?? "",
    hostIfName: name,
    mac: ids.get(EXTERNAL_ID.MAC) ?? "",
    mtu: Number(ids.get(EXTERNAL_ID.MTU) ?? 0),
    addresses: addresses.filter((address) => familyOf(address.address) !== undefined),
    state: "ready",
  };
  const podName = ids.get(EXTERNAL_ID.POD_NAME);
  const podNamespace = ids.get(EXTERNAL_ID.POD_NAMESPACE);
  if (podName !== undefined) record.podName = podName;
  if (podNamespace !== undefined) record.podNamespace = podNamespace;
  return record;
}
