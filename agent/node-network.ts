// The node's pod network state and the one place that applies it: flows through FlowSync,
// host routes and SNAT through the node's tools. Informer handlers and the CNI server call
// it; every change runs in one queue, so events apply in arrival order and never interleave.
import type { Cidr } from "../common/net/cidr.ts";
import type { Logger } from "../common/log/logger.ts";
import type { EncapMode } from "./forwarding/modes.ts";
import { diffRoutes, PeerSet, type PeerNode, type PeerRoute } from "./forwarding/peers.ts";
import type { HostRunner } from "./host/command.ts";
import { routeCommands, syncHostRoutes } from "./host/routes.ts";
import { applySnat, type SnatBackend } from "./host/snat.ts";
import type { FlowSync } from "./pipeline/flow-sync.ts";
import { FlowBuildError, type PipelineFlow } from "./pipeline/flow.ts";
import { localFlows, pipelineFlows, podFlows, tunnelPeerFlows, type NodeFlowContext, type PodPort } from "./pipeline/flows.ts";

/** FlowSync owner keys: one per pod (by ofport), one per peer node, and the two fixed sets. */
export const Owner = {
  pipeline: "pipeline",
  local: "local",
  pod: (ofport: number) => `pod:${ofport}`,
  node: (name: string) => `node:${name}`,
} as const;

export interface NodeNetworkOptions {
  readonly nodeName: string;
  readonly mode: EncapMode;
  readonly podCIDR: Cidr;
  /** Subnets of the node's transport interface; hybrid mode routes peers inside them over the underlay. */
  readonly localSubnets: readonly Cidr[];
  readonly gatewayName: string;
  readonly flowContext: NodeFlowContext;
  readonly flowSync: FlowSync;
  readonly run: HostRunner;
  /** Undefined: SNAT disabled. */
  readonly snatBackend: SnatBackend | undefined;
  readonly logger: Logger;
}

/**
 * Applies the node's pipeline, peers and pods. Safe to call from concurrent event handlers:
 * calls are queued. Each call changes its flows in one bundle: one pod's, one peer's, or with
 * setPods() and removePods() those of many pods.
 */
export class NodeNetwork {
  readonly #options: NodeNetworkOptions;
  readonly #peers = new PeerSet();
  #routes: PeerRoute[] = [];
  readonly #pods = new Map<number, PodPort>();
  #queue: Promise<unknown> = Promise.resolve();
  /** False until the daemon reports that every Node has been seen once; until then no route is deleted and SNAT waits. */
  #peersComplete = false;

  constructor(options: NodeNetworkOptions) {
    this.#options = options;
  }

  /**
   * Installs the pipeline defaults and the gateway and tunnel flows. Host routes and SNAT
   * rules wait for peersComplete(), so a restarting agent does not delete the routes of
   * peers it has not listed yet. Idempotent.
   */
  start(): Promise<void> {
    return this.#enqueue(async () => {
      const { flowSync, flowContext } = this.#options;
      await flowSync.setOwnerFlows(Owner.pipeline, pipelineFlows(flowContext));
      await flowSync.setOwnerFlows(Owner.local, localFlows(flowContext));
    });
  }

  /**
   * Applies every peer's flows, the host routes and SNAT again. Use it after a reconnect:
   * a change that failed while the switch was away is applied now, and routes the kernel
   * dropped with a recreated gateway device come back. Idempotent.
   */
  resync(): Promise<void> {
    return this.#enqueue(async () => {
      await this.#applyPeers({ all: true });
      await this.#applyHost();
    });
  }

  /** Marks the peer set complete (the Node informer has listed once) and syncs host routes and SNAT. */
  peersComplete(): Promise<void> {
    return this.#enqueue(async () => {
      this.#peersComplete = true;
      await this.#applyHost();
    });
  }

  /** Adds or updates a peer node; ignores this node itself. */
  upsertPeer(node: PeerNode): Promise<void> {
    if (node.name === this.#options.nodeName) return Promise.resolve();
    return this.#enqueue(async () => {
      this.#peers.upsert(node);
      await this.#applyPeers();
    });
  }

  /** Removes a peer node. Idempotent. */
  deletePeer(name: string): Promise<void> {
    return this.#enqueue(async () => {
      if (!this.#peers.delete(name)) return;
      await this.#applyPeers();
    });
  }

  /** Installs or replaces the flows of a pod attached at `pod.ofport`. Idempotent, all-or-nothing. */
  setPod(pod: PodPort): Promise<void> {
    return this.setPods([pod]);
  }

  /**
   * Installs or replaces the flows of every pod in `pods` in one bundle, such as all pods
   * restored at agent start. Idempotent and all-or-nothing: when the bundle fails, no pod's
   * flows change and the call rejects with the bundle's error. Of two pods with the same
   * ofport the later one wins, as with two setPod() calls.
   */
  setPods(pods: readonly PodPort[]): Promise<void> {
    return this.#enqueue(async () => {
      const { flowSync, flowContext } = this.#options;
      const byOfport = new Map(pods.map((pod) => [pod.ofport, pod]));
      if (byOfport.size === 0) return;
      const changes = new Map([...byOfport.values()].map((pod) => [Owner.pod(pod.ofport), podFlowsAt(flowContext, pod)]));
      await flowSync.setOwnersFlows(changes);
      for (const [ofport, pod] of byOfport) this.#pods.set(ofport, pod);
    });
  }

  /** Removes the flows of the pod at `ofport`. Idempotent, all-or-nothing. */
  removePod(ofport: number): Promise<void> {
    return this.removePods([ofport]);
  }

  /** Removes the flows of the pods at `ofports` in one bundle. Idempotent, all-or-nothing. */
  removePods(ofports: readonly number[]): Promise<void> {
    return this.#enqueue(async () => {
      if (ofports.length === 0) return;
      await this.#options.flowSync.setOwnersFlows(new Map(ofports.map((ofport) => [Owner.pod(ofport), []])));
      for (const ofport of ofports) this.#pods.delete(ofport);
    });
  }

  /** Resolves once every change queued so far has been applied (or has failed). */
  async idle(): Promise<void> {
    await this.#queue;
  }

  pods(): PodPort[] {
    return [...this.#pods.values()];
  }

  routes(): PeerRoute[] {
    return [...this.#routes];
  }

  /** Applies the flows of peers whose routes changed, or of every peer and former peer with `all`. */
  async #applyPeers(options: { all?: boolean } = {}): Promise<void> {
    const { mode, localSubnets, flowSync, flowContext, logger } = this.#options;
    const next = this.#peers.routes({ mode, localSubnets });
    const diff = diffRoutes(this.#routes, next);
    const touched = new Set<string>([...diff.added, ...diff.removed, ...diff.changed].map((route) => route.node));
    if (options.all === true) {
      for (const route of [...this.#routes, ...next]) touched.add(route.node);
    }
    for (const route of diff.changed) {
      const old = this.#routes.find((entry) => entry.key === route.key);
      if (old !== undefined) touched.add(old.node);
    }
    const changes = new Map<string, PipelineFlow[]>();
    for (const node of touched) {
      const flows = next.filter((route) => route.node === node && route.via === "tunnel").flatMap((route) => tunnelPeerFlows(flowContext, route));
      changes.set(Owner.node(node), flows);
    }
    if (changes.size > 0) await flowSync.setOwnersFlows(changes);
    this.#routes = next;
    await this.#applyHost();
    for (const route of diff.added) logger.info("peer route added", { peer: route.node, ip: route.transportIP, cidr: route.key, via: route.via });
    for (const route of diff.changed) logger.info("peer route changed", { peer: route.node, ip: route.transportIP, cidr: route.key, via: route.via });
    for (const route of diff.removed) logger.info("peer route removed", { peer: route.node, cidr: route.key });
  }

  async #applyHost(): Promise<void> {
    if (!this.#peersComplete) {
      // Routes may only be added now: the peers not listed yet still own theirs.
      for (const route of this.#routes) for (const argv of routeCommands(route, this.#options.gatewayName)) await this.#options.run(argv);
      return;
    }
    const { run, gatewayName, snatBackend, podCIDR, logger } = this.#options;
    const { deleted } = await syncHostRoutes(run, { routes: this.#routes, gatewayName });
    if (deleted.length > 0) logger.info("stale host routes deleted", { cidrs: deleted });
    if (snatBackend !== undefined) {
      const podCIDRs = [podCIDR, ...this.#routes.map((route) => route.cidr)];
      await applySnat(run, { backend: snatBackend, rules: { localPodCIDR: podCIDR, podCIDRs, gatewayName } });
    }
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(task);
    // The caller receives the error; the queue only needs to stay usable.
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

/** Builds a pod's flows; a FlowBuildError names the pod's ofport, so one bad record among many can be found. */
function podFlowsAt(context: NodeFlowContext, pod: PodPort): PipelineFlow[] {
  try {
    return podFlows(context, pod);
  } catch (error) {
    if (!(error instanceof FlowBuildError)) throw error;
    throw new FlowBuildError(`invalid pod at ofport ${pod.ofport}: ${error.message}`, { cause: error });
  }
}
