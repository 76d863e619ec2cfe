// The two writes the controller makes to the Kubernetes API: a Node's pod CIDRs and Events
// about a Node. Everything else the controller does through informers is read-only.
import { hostname } from "node:os";
import { CoreV1Api, PatchStrategy, setHeaderOptions, type CoreV1Event, type KubeConfig, type V1Node } from "@kubernetes/client-node";

export const EVENT_SOURCE_COMPONENT = "switchyard-controller";
/** Namespace of Events about cluster-scoped objects such as Nodes, as Kubernetes components do. */
export const NODE_EVENT_NAMESPACE = "default";

export interface NodeEvent {
  readonly reason: string;
  readonly message: string;
  readonly type: "Normal" | "Warning";
}

/** The writes node IPAM needs; an interface so unit tests can record calls instead. */
export interface NodeWriter {
  /** Sets spec.podCIDR to cidrs[0] and spec.podCIDRs to cidrs with a JSON merge patch. */
  setPodCidrs(node: string, cidrs: readonly string[]): Promise<void>;
  /** Creates a core/v1 Event whose involvedObject is the Node. */
  recordEvent(node: V1Node, event: NodeEvent): Promise<void>;
}

export class KubeNodeWriter implements NodeWriter {
  private readonly core: CoreV1Api;
  private readonly instance = hostname();

  constructor(kubeConfig: KubeConfig) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  async setPodCidrs(node: string, cidrs: readonly string[]): Promise<void> {
    const body = { spec: { podCIDR: cidrs[0], podCIDRs: [...cidrs] } };
    await this.core.patchNode({ name: node, body, fieldManager: EVENT_SOURCE_COMPONENT }, setHeaderOptions("Content-Type", PatchStrategy.MergePatch));
  }

  async recordEvent(node: V1Node, event: NodeEvent): Promise<void> {
    const name = node.metadata?.name ?? "";
    const now = new Date();
    const body: CoreV1Event = {
      metadata: { generateName: `${name}.`, namespace: NODE_EVENT_NAMESPACE },
      involvedObject: { apiVersion: "v1", kind: "Node", name, uid: node.metadata?.uid },
      reason: event.reason,
      message: event.message,
      type: event.type,
      source: { component: EVENT_SOURCE_COMPONENT },
      reportingComponent: EVENT_SOURCE_COMPONENT,
      reportingInstance: this.instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    await this.core.createNamespacedEvent({ namespace: NODE_EVENT_NAMESPACE, body });
  }
}

/** HTTP status of an error thrown by the generated client, if it carries one. */
export function httpStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}
