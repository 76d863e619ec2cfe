// Registering the runner's Node object, as a kubelet does on start: the Node with its
// hostname and OS labels, and a status with the node's InternalIP and a Ready condition.
import { CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";

import { rfc3339 } from "./pod-status.ts";

/**
 * Creates the Node unless it exists, then merge-patches its status (addresses and a Ready
 * condition). Idempotent. Fields other writers own, such as spec.podCIDR, are left alone.
 */
export async function registerNode(options: { kubeConfig: KubeConfig; nodeName: string; hostIp: string }): Promise<void> {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const labels = { "kubernetes.io/hostname": options.nodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" };
  try {
    await core.createNode({ body: { apiVersion: "v1", kind: "Node", metadata: { name: options.nodeName, labels } } });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
  }
  const now = rfc3339(new Date());
  const status = {
    addresses: [
      { type: "InternalIP", address: options.hostIp },
      { type: "Hostname", address: options.nodeName },
    ],
    conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "switchyard pod runner is posting ready status", lastHeartbeatTime: now, lastTransitionTime: now }],
    nodeInfo: { kubeletVersion: "switchyard-podrunner", operatingSystem: "linux", architecture: "amd64", containerRuntimeVersion: "switchyard-podrunner://0.1.0" },
  };
  await core.patchNodeStatus({ name: options.nodeName, body: { status } }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
}
