// The four informers the controller runs: Namespaces, Pods, NetworkPolicies and Nodes.
import {
  CoreV1Api,
  NetworkingV1Api,
  type KubeConfig,
  type V1Namespace,
  type V1NetworkPolicy,
  type V1Node,
  type V1Pod,
} from "@kubernetes/client-node";
import type { Logger } from "../../common/log/logger.ts";
import type { ControllerMetrics } from "../metrics.ts";
import { ResilientInformer, type InformerHandlers } from "../../common/informers/resilient-informer.ts";

export interface ClusterHandlers {
  readonly namespaces: InformerHandlers<V1Namespace>;
  readonly pods: InformerHandlers<V1Pod>;
  readonly policies: InformerHandlers<V1NetworkPolicy>;
  readonly nodes: InformerHandlers<V1Node>;
}

export interface ClusterInformersOptions {
  readonly kubeConfig: KubeConfig;
  readonly handlers: ClusterHandlers;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly resyncMs: number;
  readonly logger: Logger;
  readonly metrics: ControllerMetrics;
}

export class ClusterInformers {
  readonly namespaces: ResilientInformer<V1Namespace>;
  readonly pods: ResilientInformer<V1Pod>;
  readonly policies: ResilientInformer<V1NetworkPolicy>;
  readonly nodes: ResilientInformer<V1Node>;

  constructor(options: ClusterInformersOptions) {
    const core = options.kubeConfig.makeApiClient(CoreV1Api);
    const networking = options.kubeConfig.makeApiClient(NetworkingV1Api);
    const common = {
      kubeConfig: options.kubeConfig,
      backoffInitialMs: options.backoffInitialMs,
      backoffMaxMs: options.backoffMaxMs,
      resyncMs: options.resyncMs,
      logger: options.logger,
      metrics: options.metrics.informers,
    };
    this.namespaces = new ResilientInformer<V1Namespace>({
      ...common,
      kind: "Namespace",
      path: "/api/v1/namespaces",
      list: (selectors) => core.listNamespace(selectors),
      handlers: options.handlers.namespaces,
    });
    this.pods = new ResilientInformer<V1Pod>({
      ...common,
      kind: "Pod",
      path: "/api/v1/pods",
      list: (selectors) => core.listPodForAllNamespaces(selectors),
      handlers: options.handlers.pods,
    });
    this.policies = new ResilientInformer<V1NetworkPolicy>({
      ...common,
      kind: "NetworkPolicy",
      path: "/apis/networking.k8s.io/v1/networkpolicies",
      list: (selectors) => networking.listNetworkPolicyForAllNamespaces(selectors),
      handlers: options.handlers.policies,
    });
    this.nodes = new ResilientInformer<V1Node>({
      ...common,
      kind: "Node",
      path: "/api/v1/nodes",
      list: (selectors) => core.listNode(selectors),
      handlers: options.handlers.nodes,
    });
  }

  /** Starts all four and resolves when each has delivered its first full list. */
  async start(): Promise<void> {
    await Promise.all([this.namespaces.start(), this.pods.start(), this.policies.start(), this.nodes.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.namespaces.stop(), this.pods.stop(), this.policies.stop(), this.nodes.stop()]);
  }
}
