// The CNI runtime arguments a kubelet and its CRI runtime pass for a pod.
import type { V1Pod } from "@kubernetes/client-node";

import type { RuntimeArgs } from "./cni/invoke.ts";
import { netnsPath } from "./names.ts";

/** The pod interface every attachment creates, as with the kubelet's default network. */
export const podInterfaceName = "eth0";

/** Pod identity for CNI_ARGS. */
export interface PodIdentity {
  namespace: string;
  name: string;
  uid: string;
}

/** One port mapping as CRI runtimes pass it in runtimeConfig.portMappings. */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: "tcp" | "udp" | "sctp";
  hostIP?: string;
}

/** Returns CNI_ARGS as CRI runtimes build it: IgnoreUnknown first, then the pod's K8S_* keys. */
export function podCniArgs(pod: PodIdentity & { sandboxId: string }): [string, string][] {
  return [
    ["IgnoreUnknown", "1"],
    ["K8S_POD_NAMESPACE", pod.namespace],
    ["K8S_POD_NAME", pod.name],
    ["K8S_POD_INFRA_CONTAINER_ID", pod.sandboxId],
    ["K8S_POD_UID", pod.uid],
  ];
}

/** Returns the portMappings capability: every container port with a hostPort. */
export function portMappingsOf(pod: V1Pod): PortMapping[] {
  return (pod.spec?.containers ?? []).flatMap((container) =>
    (container.ports ?? []).flatMap((port) => {
      if (port.hostPort === undefined || port.hostPort === 0) return [];
      const mapping: PortMapping = { hostPort: port.hostPort, containerPort: port.containerPort, protocol: (port.protocol ?? "TCP").toLowerCase() as PortMapping["protocol"] };
      if (port.hostIP !== undefined && port.hostIP !== "") mapping.hostIP = port.hostIP;
      return [mapping];
    }),
  );
}

/** Returns the runtime arguments of a pod's attachment. */
export function podRuntimeArgs(options: { pod: PodIdentity; sandboxId: string; netns: string; portMappings: readonly PortMapping[] }): RuntimeArgs {
  return {
    containerId: options.sandboxId,
    netnsPath: netnsPath(options.netns),
    ifName: podInterfaceName,
    args: podCniArgs({ ...options.pod, sandboxId: options.sandboxId }),
    capabilityArgs: options.portMappings.length === 0 ? {} : { portMappings: options.portMappings },
  };
}
