// The CNI operations on the node: ADD, DEL, CHECK and GC of pod attachments.
import { CniError, CniErrorCode } from "../../cni/errors.ts";
import type { CniResult } from "../../cni/result.ts";
import type { AgentRequest } from "../../cni/protocol.ts";
import type { NodeIpam } from "../ipam/allocator.ts";
import { hostInterfaceName, randomPodMac } from "../podif/names.ts";
import type { PodInterfaces } from "../podif/types.ts";
import type { Vswitch } from "../../ovsdb/index.ts";
import { attachmentKey, EXTERNAL_ID, externalIdsOf } from "./attachment.ts";
import type { Attachment } from "./attachment.ts";
import type { PodFlowInstaller, PodFlowSpec } from "./flows.ts";
import { OfportReservations } from "./ofports.ts";
import type { Logger } from "./logger.ts";
import type { AttachmentStore } from "./store.ts";

export type PodAttacherOptions = {
  bridge: string;
  /** MTU of pod interfaces unless the network configuration sets one. */
  mtu: number;
  ipam: NodeIpam;
  store: AttachmentStore;
  podInterfaces: PodInterfaces;
  vswitch: Vswitch;
  flows: PodFlowInstaller;
  logger: Logger;
  /** Time to wait for ovs-vswitchd to assign the port's ofport, in milliseconds. Default 10000. */
  ofportTimeoutMs?: number;
};

type AttachmentRequest = AgentRequest & { containerId: string; ifName: string };
type Rollback = { step: string; undo: () => Promise<void> | void };

/**
 * Performs the CNI operations for one node. The caller serialises calls for the same
 * container; calls for different containers may run concurrently.
 */
export class PodAttacher {
  readonly #options: PodAttacherOptions;
  readonly #ofportTimeoutMs: number;
  readonly #ofports: OfportReservations;

  constructor(options: PodAttacherOptions) {
    this.#options = options;
    this.#ofports = new OfportReservations(options.vswitch);
    this.#ofportTimeoutMs = options.ofportTimeoutMs ?? 10_000;
  }

  /**
   * ADD. All-or-nothing: on failure every step done so far is undone. A repeated ADD for
   * an attachment that exists in the same namespace returns the existing result and
   * allocates nothing. In another namespace it fails with code 100 (ALREADY_ATTACHED).
   */
  async add(request: AttachmentRequest): Promise<CniResult> {
    const key = attachmentKey(request);
    const netns = request.netns ?? "";
    const existing = this.#options.store.get(key);
    if (existing !== undefined) {
      const reused = await this.#reuseExisting(existing, request);
      if (reused !== undefined) return reused;
    }

    const rollbacks: Rollback[] = [];
    const timer = new StepTimer();
    try {
      const attachment = this.#reserve(request, key, netns, rollbacks);
      timer.lap("reserve");
      await this.#createInterface(attachment, rollbacks);
      timer.lap("interface");
      attachment.ofport = await this.#connect(attachment, rollbacks);
      timer.lap("port and flows");
      attachment.state = "ready";
      this.#options.store.put(attachment);
      timer.lap("record");
      this.#options.logger.info("pod attached", { ...fieldsOf(attachment), stepsMs: timer.laps });
      return resultOf(attachment, request);
    } catch (error) {
      await this.#rollBack(rollbacks, key, error);
      throw error;
    }
  }

  /**
   * DEL. Idempotent: succeeds when ADD never ran, when the namespace is gone, and after
   * an agent restart. The attachment is found in the store, else in OVSDB external_ids,
   * else by its derived host interface name.
   */
  async del(request: AttachmentRequest): Promise<void> {
    const key = attachmentKey(request);
    const stored = this.#options.store.get(key);
    const portName = stored?.hostIfName ?? this.#findPortName(key) ?? hostInterfaceName({ podName: request.args.podName, containerId: request.containerId, ifName: request.ifName });
    await this.#teardown({ key, hostIfName: portName, ifName: request.ifName, netns: request.netns });
    this.#options.logger.info("pod detached", { attachment: key, hostIfName: portName });
  }

  /** CHECK: the interface in the namespace, the OVS port and the allocation match the record. */
  async check(request: AttachmentRequest): Promise<void> {
    const key = attachmentKey(request);
    const attachment = this.#options.store.get(key);
    if (attachment === undefined || attachment.state !== "ready") {
      throw new CniError(CniErrorCode.UNKNOWN_CONTAINER, `no attachment ${key} on this node; the pod was never added or was already deleted`);
    }
    if (request.netns !== undefined && request.netns !== attachment.netns) {
      throw checkFailed(`attachment ${key} is in namespace ${attachment.netns}, not ${request.netns}`);
    }
    await this.#checkPodInterface(attachment);
    this.#checkPort(attachment);
    this.#checkAllocation(key, attachment);
    checkPrevResult(attachment, request.prevResult);
  }

  /**
   * GC: removes every attachment of `network` not in `valid`. With `valid` undefined
   * (neither GC key present) nothing is removed. Keeps going after a failure and raises
   * the first error at the end.
   */
  async gc(network: string, valid: readonly { containerId: string; ifName: string }[] | undefined, runExclusive: (containerId: string, task: () => Promise<void>) => Promise<void>): Promise<number> {
    if (valid === undefined) return 0;
    const keep = new Set(valid.map((entry) => attachmentKey({ network, ...entry })));
    const stale = new Map<string, { containerId: string; ifName: string }>();
    for (const record of this.#options.store.list()) {
      if (record.network === network && !keep.has(attachmentKey(record))) stale.set(attachmentKey(record), record);
    }
    for (const owner of this.#options.ipam.owners()) {
      const parts = splitKey(owner);
      if (parts !== undefined && parts.network === network && !keep.has(owner)) stale.set(owner, parts);
    }
    let firstError: unknown;
    for (const entry of stale.values()) {
      try {
        await runExclusive(entry.containerId, () => this.del({ protocol: 1, command: "DEL", network, args: {}, ...entry }));
      } catch (error) {
        firstError ??= error;
      }
    }
    if (firstError !== undefined) throw firstError;
    return stale.size;
  }

  async #reuseExisting(existing: Attachment, request: AttachmentRequest): Promise<CniResult | undefined> {
    if (existing.netns !== request.netns) {
      throw new CniError(
        CniErrorCode.ALREADY_ATTACHED,
        `container ${request.containerId} already has interface ${request.ifName} on network ${request.network} in namespace ${existing.netns}; DEL it before adding it to ${request.netns}`,
      );
    }
    const healthy = existing.state === "ready" && (await this.#options.podInterfaces.hostInterfaceExists(existing.hostIfName)) && this.#options.vswitch.port(existing.hostIfName) !== undefined;
    if (healthy) {
      this.#options.logger.info("repeated ADD returns the existing attachment", fieldsOf(existing));
      return resultOf(existing, request);
    }
    // An ADD cut short (agent crash) or a broken attachment: remove what is left, then add again.
    await this.#teardown({ key: attachmentKey(existing), hostIfName: existing.hostIfName, ifName: existing.ifName, netns: existing.netns, ofport: existing.ofport });
    return undefined;
  }

  #reserve(request: AttachmentRequest, key: string, netns: string, rollbacks: Rollback[]): Attachment {
    const addresses = this.#options.ipam.allocate(key);
    rollbacks.push({ step: "release addresses", undo: () => void this.#options.ipam.release(key) });
    const attachment: Attachment = {
      network: request.network,
      containerId: request.containerId,
      ifName: request.ifName,
      netns,
      hostIfName: hostInterfaceName({ podName: request.args.podName, containerId: request.containerId, ifName: request.ifName }),
      mac: randomPodMac(),
      mtu: request.mtu ?? this.#options.mtu,
      addresses,
      state: "creating",
    };
    if (request.args.podName !== undefined) attachment.podName = request.args.podName;
    if (request.args.podNamespace !== undefined) attachment.podNamespace = request.args.podNamespace;
    if (request.args.podUid !== undefined) attachment.podUid = request.args.podUid;
    this.#options.store.put(attachment);
    rollbacks.push({ step: "delete record", undo: () => this.#options.store.delete(key) });
    return attachment;
  }

  async #createInterface(attachment: Attachment, rollbacks: Rollback[]): Promise<void> {
    rollbacks.push({ step: "delete interface", undo: () => this.#options.podInterfaces.remove(attachment) });
    await this.#options.podInterfaces.create({
      netns: attachment.netns,
      ifName: attachment.ifName,
      hostIfName: attachment.hostIfName,
      mac: attachment.mac,
      mtu: attachment.mtu,
      addresses: attachment.addresses.map(({ address, prefixLength, gateway }) => ({ address, prefixLength, gateway })),
    });
  }

  /**
   * Brings the host end up, then adds the OVS port with a requested ofport and installs the
   * pod's flows for that ofport at once. Returns the ofport OVS assigned; when it differs
   * from the requested one, the flows are moved to it. Both parallel steps settle before a
   * failure is raised, so the rollback never races a step still in progress.
   *
   * The link comes up before the port is added because ovs-vswitchd rewrites the device's
   * flags when it opens the port, and the same race once lost a concurrent `arp off`.
   * NOTE: a lost `up` is the suspected, unconfirmed cause of a rare cross-node failure seen
   * under heavy load, where two CNI-attached pods stayed unreachable.
   *
   * NOTE: the port is added only after the veth exists. ovs-vswitchd 3.1 did not open a
   * device that arrived later by moving in from another namespace, so the port stayed at
   * ofport -1.
   */
  async #connect(attachment: Attachment, rollbacks: Rollback[]): Promise<number> {
    const requested = this.#ofports.reserve();
    try {
      await this.#options.podInterfaces.setHostUp(attachment.hostIfName);
      const steps = await Promise.allSettled([
        this.#addPort(attachment, requested, rollbacks),
        this.#installFlows(attachment, requested, rollbacks),
      ]);
      const failed = steps.find((step): step is PromiseRejectedResult => step.status === "rejected");
      if (failed !== undefined) throw failed.reason;
      const ofport = (steps[0] as PromiseFulfilledResult<number>).value;
      if (ofport !== requested) {
        this.#options.logger.warn("OVS assigned another ofport than requested; moving the pod's flows", { attachment: attachmentKey(attachment), requested, ofport });
        await this.#options.flows.removePodFlows(flowSpecOf(attachment, requested));
        await this.#installFlows(attachment, ofport, rollbacks);
      }
      return ofport;
    } finally {
      this.#ofports.release(requested);
    }
  }

  async #addPort(attachment: Attachment, ofportRequest: number, rollbacks: Rollback[]): Promise<number> {
    const { vswitch, bridge } = this.#options;
    rollbacks.push({ step: "delete port", undo: async () => void (await vswitch.deletePort({ bridge, name: attachment.hostIfName })) });
    await vswitch.addPort({ bridge, name: attachment.hostIfName, externalIds: externalIdsOf(attachment), ofportRequest });
    return vswitch.waitForOfport(attachment.hostIfName, { timeoutMs: this.#ofportTimeoutMs });
  }

  async #installFlows(attachment: Attachment, ofport: number, rollbacks: Rollback[]): Promise<void> {
    const pod = flowSpecOf(attachment, ofport);
    rollbacks.push({ step: "remove flows", undo: () => this.#options.flows.removePodFlows(pod) });
    await this.#options.flows.installPodFlows(pod);
  }

  async #rollBack(rollbacks: Rollback[], key: string, cause: unknown): Promise<void> {
    for (const rollback of rollbacks.reverse()) {
      try {
        await rollback.undo();
      } catch (error) {
        this.#options.logger.error("rollback step failed after a failed ADD", { attachment: key, step: rollback.step, error: String(error), cause: String(cause) });
      }
    }
  }

  /** Removes flows, port, interface, addresses and record; every step tolerates absence. */
  async #teardown(target: { key: string; hostIfName: string; ifName: string; netns?: string; ofport?: number }): Promise<void> {
    const { vswitch, bridge, flows, podInterfaces, ipam, store } = this.#options;
    const iface = vswitch.interface(target.hostIfName);
    const ofport = target.ofport ?? (typeof iface?.ofport === "number" && iface.ofport > 0 ? iface.ofport : undefined);
    const stored = store.get(target.key);
    // Flows, port and interface are independent, so they are removed concurrently. The
    // addresses are released only after all three are gone.
    const steps = await Promise.allSettled([
      ofport === undefined ? Promise.resolve() : flows.removePodFlows({ ofport, mac: stored?.mac ?? "", ips: stored?.addresses.map((address) => address.address) ?? [] }),
      vswitch.port(target.hostIfName) === undefined ? Promise.resolve() : vswitch.deletePort({ bridge, name: target.hostIfName }),
      podInterfaces.remove({ hostIfName: target.hostIfName, ifName: target.ifName, ...(target.netns === undefined ? {} : { netns: target.netns }) }),
    ]);
    const failed = steps.find((step): step is PromiseRejectedResult => step.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    ipam.release(target.key);
    store.delete(target.key);
  }

  #findPortName(key: string): string | undefined {
    return this.#options.vswitch.findPorts({ externalIds: { [EXTERNAL_ID.ATTACHMENT]: key } })[0]?.name;
  }

  async #checkPodInterface(attachment: Attachment): Promise<void> {
    const state = await this.#options.podInterfaces.inspect({ netns: attachment.netns, ifName: attachment.ifName });
    if (state === undefined) throw checkFailed(`interface ${attachment.ifName} not found in namespace ${attachment.netns}`);
    if (state.mac !== attachment.mac) throw checkFailed(`interface ${attachment.ifName} has MAC ${state.mac}, expected ${attachment.mac}`);
    if (state.mtu !== attachment.mtu) throw checkFailed(`interface ${attachment.ifName} has MTU ${state.mtu}, expected ${attachment.mtu}`);
    if (!state.up) throw checkFailed(`interface ${attachment.ifName} is down`);
    for (const address of attachment.addresses) {
      const cidr = `${address.address}/${address.prefixLength}`;
      if (!state.addresses.includes(cidr)) throw checkFailed(`interface ${attachment.ifName} lacks address ${cidr} (has ${state.addresses.join(", ") || "none"})`);
      if (!state.defaultGateways.includes(address.gateway)) throw checkFailed(`namespace ${attachment.netns} has no default route via ${address.gateway}`);
    }
    if (!(await this.#options.podInterfaces.hostInterfaceExists(attachment.hostIfName))) throw checkFailed(`host interface ${attachment.hostIfName} not found`);
  }

  #checkPort(attachment: Attachment): void {
    const key = attachmentKey(attachment);
    const port = this.#options.vswitch.port(attachment.hostIfName);
    if (port === undefined) throw checkFailed(`OVS port ${attachment.hostIfName} not found on bridge ${this.#options.bridge}`);
    if (port.external_ids.get(EXTERNAL_ID.ATTACHMENT) !== key) throw checkFailed(`OVS port ${attachment.hostIfName} belongs to ${port.external_ids.get(EXTERNAL_ID.ATTACHMENT) ?? "no attachment"}, not ${key}`);
    const iface = this.#options.vswitch.interface(attachment.hostIfName);
    const ofport = iface?.ofport;
    if (typeof ofport !== "number" || ofport <= 0) throw checkFailed(`OVS interface ${attachment.hostIfName} has no ofport${iface?.error ? `: ${iface.error}` : ""}`);
  }

  #checkAllocation(key: string, attachment: Attachment): void {
    const allocated = this.#options.ipam.lookup(key)?.map((address) => address.address) ?? [];
    const expected = attachment.addresses.map((address) => address.address);
    if (allocated.join(",") !== expected.join(",")) throw checkFailed(`IPAM has [${allocated.join(", ")}] allocated for ${key}, expected [${expected.join(", ")}]`);
  }
}

/** Milliseconds spent in each step of one ADD, for the log. */
class StepTimer {
  readonly laps: Record<string, number> = {};
  #last = performance.now();

  lap(step: string): void {
    const now = performance.now();
    this.laps[step] = Math.round((now - this.#last) * 10) / 10;
    this.#last = now;
  }
}

function flowSpecOf(attachment: Attachment, ofport: number): PodFlowSpec {
  return { ofport, mac: attachment.mac, ips: attachment.addresses.map((address) => address.address) };
}

/** Builds the 1.1.0 result: the host end, the pod end (index 1), its addresses and default routes. */
function resultOf(attachment: Attachment, request: AgentRequest): CniResult {
  // The host end's MAC is optional in a result and left out: reading it would cost a
  // process per ADD, and sysfs may show another namespace than the agent's.
  const result: CniResult = {
    interfaces: [{ name: attachment.hostIfName }, { name: attachment.ifName, mac: attachment.mac, mtu: attachment.mtu, sandbox: attachment.netns }],
    ips: attachment.addresses.map((address) => ({ address: `${address.address}/${address.prefixLength}`, gateway: address.gateway, interface: 1 })),
    routes: attachment.addresses.map((address) => ({ dst: address.family === "IPv6" ? "::/0" : "0.0.0.0/0", gw: address.gateway })),
  };
  if (request.dns !== undefined) result.dns = request.dns;
  return result;
}

/** Compares prevResult's addresses for this interface with the record, when the runtime passed one. */
function checkPrevResult(attachment: Attachment, prevResult: Record<string, unknown> | undefined): void {
  if (prevResult === undefined) return;
  const ips = Array.isArray(prevResult.ips) ? (prevResult.ips as { address?: unknown }[]) : [];
  const previous = ips.map((ip) => String(ip.address)).sort();
  const expected = attachment.addresses.map((address) => `${address.address}/${address.prefixLength}`).sort();
  if (previous.join(",") !== expected.join(",")) {
    throw checkFailed(`prevResult lists addresses [${previous.join(", ")}], but the attachment has [${expected.join(", ")}]`);
  }
}

function splitKey(key: string): { network: string; containerId: string; ifName: string } | undefined {
  const first = key.indexOf("/");
  const second = key.indexOf("/", first + 1);
  if (first < 0 || second < 0) return undefined;
  return { network: key.slice(0, first), containerId: key.slice(first + 1, second), ifName: key.slice(second + 1) };
}

function fieldsOf(attachment: Attachment): Record<string, unknown> {
  return {
    attachment: attachmentKey(attachment),
    pod: attachment.podName,
    namespace: attachment.podNamespace,
    hostIfName: attachment.hostIfName,
    ips: attachment.addresses.map((address) => address.address),
    ofport: attachment.ofport,
  };
}

function checkFailed(message: string): CniError {
  return new CniError(CniErrorCode.CHECK_FAILED, message);
}
