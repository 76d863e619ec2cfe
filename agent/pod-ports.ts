// Pod ports on the bridge, as the CNI server records them in OVSDB external_ids. After a
// restart the agent rebuilds pod flows from these rows, and removes the ports whose pod
// no longer exists.
import type { Vswitch, VswitchInterface, VswitchPort } from "../ovsdb/index.ts";
import { EXTERNAL_ID } from "./cniserver/attachment.ts";
import type { PodPort } from "./pipeline/flows.ts";

/** A pod port found in OVSDB. */
export interface RecordedPodPort extends PodPort {
  readonly portName: string;
  /** Undefined when the CNI request carried no pod identity (K8S_POD_NAMESPACE/K8S_POD_NAME). */
  readonly podNamespace: string | undefined;
  readonly podName: string | undefined;
}

/** Returns every port of `bridge` carrying the CNI server's attachment id and a usable ofport, MAC and IP list. */
export function recordedPodPorts(vswitch: Vswitch, bridge: string): RecordedPodPort[] {
  const found: RecordedPodPort[] = [];
  for (const port of vswitch.listPorts(bridge)) {
    const iface = vswitch.replica.row("Interface", port.interfaces[0] ?? "") as VswitchInterface | undefined;
    // The CNI server writes the same keys on the Port and the Interface; either is enough.
    const ids = new Map([...(iface?.external_ids ?? []), ...port.external_ids]);
    if (!ids.has(EXTERNAL_ID.ATTACHMENT)) continue;
    const ofport = typeof iface?.ofport === "number" ? iface.ofport : -1;
    const mac = ids.get(EXTERNAL_ID.MAC);
    const ips = (ids.get(EXTERNAL_ID.IP) ?? "").split(",").filter((ip) => ip !== "");
    if (ofport <= 0 || mac === undefined || ips.length === 0) continue;
    found.push({ portName: port.name, ofport, mac, ips, podNamespace: ids.get(EXTERNAL_ID.POD_NAMESPACE), podName: ids.get(EXTERNAL_ID.POD_NAME) });
  }
  return found;
}

/** Returns the recorded ports whose pod (namespace/name) is not in `livePods`. Ports without a pod identity are kept. */
export function stalePodPorts(ports: readonly RecordedPodPort[], livePods: ReadonlySet<string>): RecordedPodPort[] {
  return ports.filter((port) => port.podNamespace !== undefined && port.podName !== undefined && !livePods.has(`${port.podNamespace}/${port.podName}`));
}

export type { VswitchPort };
