// The CNI server's PodFlowInstaller interface implemented on the agent's pipeline.
import type { PodFlowInstaller, PodFlowSpec } from "../cniserver/flows.ts";
import type { NodeNetwork } from "../node-network.ts";

/** Installs a pod's pipeline flows as one bundle and removes them as one. Idempotent. */
export class PipelinePodFlowInstaller implements PodFlowInstaller {
  readonly #network: NodeNetwork;

  constructor(network: NodeNetwork) {
    this.#network = network;
  }

  installPodFlows(pod: PodFlowSpec): Promise<void> {
    return this.#network.setPod({ ofport: pod.ofport, mac: pod.mac, ips: pod.ips });
  }

  removePodFlows(pod: PodFlowSpec): Promise<void> {
    return this.#network.removePod(pod.ofport);
  }
}
