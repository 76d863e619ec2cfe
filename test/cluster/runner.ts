// The pod runner: the lab cluster's stand-in for a kubelet and its container runtime on one
// node. It watches the Pods bound to its node. For each pod it creates a network namespace,
// attaches it with the CNI plugins of the node's conflist, starts the pod's workload in it
// and writes the pod's status. When the Pod is deleted, it undoes all of that.
//
// Every pod is handled by one serial queue keyed by uid, so events for one pod never race;
// different pods proceed concurrently. Each step is idempotent, so a sync can always be
// repeated: after a failure (with backoff), after an event, or after a runner restart.
import { join } from "node:path";
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import winston from "winston";
import type { Logger } from "winston";

import { loadNetworkConfigList } from "./cni/conflist.ts";
import { addNetworkList, delNetworkList, processExecutor } from "./cni/invoke.ts";
import type { NetworkListCall, PluginExecutor } from "./cni/invoke.ts";
import { errorMessage } from "./errors.ts";
import { podNetnsName, sandboxId } from "./names.ts";
import { registerNode } from "./node-registration.ts";
import { PodEventRecorder } from "./pod-events.ts";
import { podIpsFromResult, rfc3339 } from "./pod-status.ts";
import { PodWatch } from "./pod-watch.ts";
import { podRuntimeArgs, portMappingsOf } from "./runtime-args.ts";
import { ensurePodNetns, removePodNetns } from "./sandbox.ts";
import { PodStatusWriter } from "./status-writer.ts";
import { readRunnerState, writeRunnerState } from "./state.ts";
import type { PodRecord, RunnerState } from "./state.ts";
import { waitForPorts, workloadPorts } from "./readiness.ts";
import { parseWorkloadSpec, workloadArgv } from "./workload-spec.ts";
import type { WorkloadSpec } from "./workload-spec.ts";
import { isWorkloadOf, startWorkload, stopWorkload } from "./workload-process.ts";

/** What started a sync: a watch event (or start()), or a retry timer. */
type SyncTrigger = "event" | "retry";

/** Time a workload gets to bind its ports after it starts. */
const readinessTimeoutMs = 15_000;

export interface PodRunnerOptions {
  kubeConfig: KubeConfig;
  /** The Node name pods are bound to (spec.nodeName). */
  nodeName: string;
  /** The node's network namespace, where CNI plugins run. When undefined, they run in the runner's own. */
  nodeNetns: string | undefined;
  /** The node's address, written as status.hostIP. */
  hostIp: string;
  /** Folder whose first .conflist (lexical order) configures pod networking. */
  cniConfDir: string;
  /** CNI_PATH folders, searched in order for plugin binaries. */
  cniBinDirs: readonly string[];
  /** Per-node folder for the state file, the CNI result cache and workload logs. */
  stateDir: string;
  /** Prefix of pod namespace names. Probes need the same prefix to find a pod's namespace. */
  netnsPrefix: string;
  /** Node 24 binary that runs workloads. Default: the binary running this process. */
  nodeBinary?: string;
  /** Default: a silent logger. */
  logger?: Logger;
  /** Backoff of retried pod setups and teardowns, doubled per failure. Default 1000 ms up to 30000 ms. */
  retry?: { initialMs?: number; maxMs?: number };
  /** Whether start() creates the Node object and marks it Ready, like a kubelet. Default true. */
  registerNode?: boolean;
  /** Runs plugin binaries. Default: processes inside nodeNetns. */
  executor?: PluginExecutor;
}

/**
 * One node's pod runner. start() adopts what a previous run left and then follows the API
 * server: pods still bound keep their namespace and workload, and pods deleted meanwhile
 * are torn down. stop() leaves running pods alone, the way stopping a kubelet leaves its
 * containers. teardownAll() removes them.
 */
/** Pods removed at the same time by teardownAll(). */
const teardownConcurrency = 8;

export class PodRunner {
  private readonly options: PodRunnerOptions;
  private readonly log: Logger;
  private readonly status: PodStatusWriter;
  private readonly watch: PodWatch;
  private readonly events: PodEventRecorder;
  private readonly statePath: string;
  private state: RunnerState | undefined;
  /** Latest Pod object per uid, removed once the Pod is deleted. */
  private readonly desired = new Map<string, V1Pod>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly retries = new Map<string, { attempt: number; timer: NodeJS.Timeout | undefined }>();
  private saving: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(options: PodRunnerOptions) {
    this.options = options;
    this.log = (options.logger ?? winston.createLogger({ silent: true })).child({ node: options.nodeName });
    this.statePath = join(options.stateDir, "state.json");
    this.events = new PodEventRecorder({ kubeConfig: options.kubeConfig, component: "kubelet", host: options.nodeName, logger: this.log });
    this.status = new PodStatusWriter({ kubeConfig: options.kubeConfig, hostIp: options.hostIp, events: this.events });
    this.watch = new PodWatch({
      kubeConfig: options.kubeConfig,
      fieldSelector: `spec.nodeName=${options.nodeName}`,
      onUpsert: (pod) => this.onUpsert(pod),
      onDelete: (pod) => this.onDelete(pod),
      onError: (error, retryInMs) => this.log.warn("pod watch failed, restarting", { error: errorMessage(error), retryInMs }),
    });
  }

  /** Loads the state file, starts watching and tears down recorded pods that no longer exist. */
  async start(): Promise<void> {
    this.stopped = false;
    this.state = await readRunnerState({ path: this.statePath, node: this.options.nodeName });
    this.log.info("pod runner starting", { recordedPods: Object.keys(this.state.pods).length, stateFile: this.statePath });
    if (this.options.registerNode ?? true) {
      await registerNode({ kubeConfig: this.options.kubeConfig, nodeName: this.options.nodeName, hostIp: this.options.hostIp });
    }
    await this.watch.start();
    const present = new Set(this.watch.list().map((pod) => pod.metadata?.uid ?? ""));
    for (const uid of Object.keys(this.state.pods)) {
      if (!present.has(uid)) this.enqueue(uid, "event");
    }
  }

  /** Stops watching and retrying, and waits for running pod operations. Leaves pods running. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.watch.stop();
    for (const retry of this.retries.values()) clearTimeout(retry.timer);
    this.retries.clear();
    await this.idle();
    this.log.info("pod runner stopped");
  }

  /**
   * Tears down every recorded pod (workload, network, namespace), whether or not its Pod
   * still exists. Call after stop(). A pod that fails does not stop the others. The failures
   * are raised together as one AggregateError at the end, and their records stay for a retry.
   */
  async teardownAll(): Promise<void> {
    const state = await this.loadedState();
    const failures: unknown[] = [];
    const pending = Object.values(state.pods);
    // A few pods at a time: each teardown mostly waits (workload exit, CNI DEL child
    // processes), so a node with hundreds of pods is cleared in seconds, not minutes.
    const worker = async (): Promise<void> => {
      for (let record = pending.shift(); record !== undefined; record = pending.shift()) {
        try {
          await this.teardown(record);
        } catch (error) {
          failures.push(error);
        }
      }
    };
    await Promise.all(Array.from({ length: teardownConcurrency }, worker));
    if (failures.length > 0) {
      throw new AggregateError(failures, `teardown failed for ${failures.length} pod(s) on node ${this.options.nodeName}: ${failures.map(errorMessage).join("; ")}`);
    }
  }

  /** Resolves once no pod operation is queued or running. */
  async idle(): Promise<void> {
    while (this.queues.size > 0) await Promise.allSettled([...this.queues.values()]);
  }

  /** Records of pods this runner has set up or is setting up, by uid. */
  async records(): Promise<Readonly<Record<string, PodRecord>>> {
    return (await this.loadedState()).pods;
  }

  private onUpsert(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (uid === undefined) return;
    this.desired.set(uid, pod);
    this.enqueue(uid, "event");
  }

  private onDelete(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (uid === undefined) return;
    this.desired.delete(uid);
    this.enqueue(uid, "event");
  }

  /** Queues a sync of one pod after whatever is queued for it. */
  private enqueue(uid: string, trigger: SyncTrigger): void {
    const previous = this.queues.get(uid) ?? Promise.resolve();
    const next = previous
      .then(() => this.sync(uid, trigger))
      .catch((error: unknown) => {
        this.log.error("pod sync failed", { uid, error: errorMessage(error) });
      })
      .finally(() => {
        if (this.queues.get(uid) === next) this.queues.delete(uid);
      });
    this.queues.set(uid, next);
  }

  /**
   * Brings one pod to the state the API server expects: set up, left alone, or torn down.
   * While a retry is scheduled, events do not start a setup early, so the status writes of a
   * failing pod cannot bypass the backoff. Deletions are never delayed.
   */
  private async sync(uid: string, trigger: SyncTrigger): Promise<void> {
    const state = await this.loadedState();
    const pod = this.desired.get(uid);
    const record = state.pods[uid];
    const expected = pod !== undefined && pod.metadata?.deletionTimestamp === undefined;

    if (!expected) {
      this.clearRetry(uid);
      if (record !== undefined) await this.withRetry(uid, () => this.teardown(record));
      return;
    }
    if (trigger === "event" && this.retries.get(uid)?.timer !== undefined) return;
    if (record?.phase === "running" && record.workloadPid !== undefined && isWorkloadOf(record.workloadPid, uid)) {
      await this.status.ensureRunning(pod, record);
      return;
    }
    if (record?.phase === "running") {
      await this.withRetry(uid, () => this.restartWorkload(pod, record));
      return;
    }
    await this.withRetry(uid, () => this.setup(pod));
  }

  /** Runs `step`. On failure it schedules another sync with backoff instead of raising. */
  private async withRetry(uid: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
      this.clearRetry(uid);
    } catch (error) {
      if (this.stopped) return;
      const retry = this.retries.get(uid) ?? { attempt: 0, timer: undefined };
      retry.attempt += 1;
      const initialMs = this.options.retry?.initialMs ?? 1000;
      const delayMs = Math.min(initialMs * 2 ** (retry.attempt - 1), this.options.retry?.maxMs ?? 30_000);
      clearTimeout(retry.timer);
      retry.timer = setTimeout(() => this.enqueue(uid, "retry"), delayMs);
      this.retries.set(uid, retry);
      this.log.warn("pod sync failed, retrying", { uid, attempt: retry.attempt, retryInMs: delayMs, error: errorMessage(error) });
    }
  }

  private clearRetry(uid: string): void {
    clearTimeout(this.retries.get(uid)?.timer);
    this.retries.delete(uid);
  }

  /**
   * Sets a pod up: namespace, CNI ADD, workload, status. A failed CNI ADD is undone with
   * DEL, reported in the pod's status and raised so that the caller retries. An invalid
   * workload or a hostNetwork pod is reported and not retried, because neither can change.
   */
  private async setup(pod: V1Pod): Promise<void> {
    const identity = podIdentity(pod);
    if (pod.spec?.hostNetwork === true) {
      const message = `pod ${identity.namespace}/${identity.name} uses hostNetwork, which the lab pod runner does not run: remove hostNetwork`;
      this.log.error("unsupported pod", { pod: `${identity.namespace}/${identity.name}`, error: message });
      await this.status.reportPending(pod, { reason: "HostNetworkUnsupported", message });
      return;
    }
    let spec;
    try {
      spec = parseWorkloadSpec(pod);
    } catch (error) {
      this.log.error("invalid workload", { pod: `${identity.namespace}/${identity.name}`, error: errorMessage(error) });
      await this.status.reportPending(pod, { reason: "InvalidImageName", message: errorMessage(error) });
      return;
    }

    const record = await this.recordSetup(pod);
    await ensurePodNetns(record.netns);
    const result = await this.attachNetwork(pod, record);
    record.podIps = podIpsFromResult(result);
    await this.save();

    await this.launchWorkload({ pod, record, spec });
    record.phase = "running";
    record.startTime = rfc3339(new Date());
    await this.save();
    await this.events.record(identity, { type: "Normal", reason: "Started", message: `Started workload ${spec.kind} in network namespace ${record.netns} with IPs ${record.podIps.join(", ")}` });
    this.log.info("pod running", { pod: `${identity.namespace}/${identity.name}`, netns: record.netns, ips: record.podIps, workload: spec.kind, pid: record.workloadPid });
    await this.status.ensureRunning(pod, record);
  }

  /** Creates or reuses the pod's record, saved before anything exists so that a crash leaves a trace. */
  private async recordSetup(pod: V1Pod): Promise<PodRecord> {
    const state = await this.loadedState();
    const identity = podIdentity(pod);
    const existing = state.pods[identity.uid];
    if (existing !== undefined) {
      // A previous attempt stopped halfway (the runner may have died in it): undo what it
      // may have done, so that ADD does not attach the pod twice.
      if (existing.workloadPid !== undefined) await stopWorkload({ pid: existing.workloadPid, uid: identity.uid });
      existing.workloadPid = undefined;
      try {
        await delNetworkList(await this.networkCall(existing));
      } catch (error) {
        this.log.warn("CNI DEL before a retried ADD failed", { pod: `${existing.namespace}/${existing.name}`, error: errorMessage(error) });
      }
      existing.phase = "setting-up";
      return existing;
    }
    const record: PodRecord = {
      ...identity,
      netns: podNetnsName({ prefix: this.options.netnsPrefix, ...identity }),
      sandboxId: sandboxId(identity.uid),
      phase: "setting-up",
      workloadPid: undefined,
      podIps: [],
      portMappings: portMappingsOf(pod),
      startTime: undefined,
      restartCount: 0,
    };
    state.pods[identity.uid] = record;
    await this.save();
    return record;
  }

  /** Runs CNI ADD. On failure it runs DEL to undo the plugins that succeeded, writes a Pending status and raises. */
  private async attachNetwork(pod: V1Pod, record: PodRecord): Promise<Record<string, unknown>> {
    const call = await this.networkCall(record);
    try {
      return await addNetworkList(call);
    } catch (addError) {
      const message = `failed to set up the network of pod ${record.namespace}/${record.name}: ${errorMessage(addError)}`;
      try {
        await delNetworkList(call);
      } catch (delError) {
        this.log.warn("CNI DEL after a failed ADD failed", { pod: `${record.namespace}/${record.name}`, error: errorMessage(delError) });
      }
      await this.status.reportPending(pod, { reason: "FailedCreatePodSandBox", message });
      throw new Error(message, { cause: addError });
    }
  }

  /** Starts the workload and resolves once its ports are bound, so Ready means it accepts connections. */
  private async launchWorkload(options: { pod: V1Pod; record: PodRecord; spec: WorkloadSpec }): Promise<void> {
    const { record } = options;
    const logPath = join(this.options.stateDir, "logs", `${record.namespace}_${record.name}_${record.uid}.log`);
    const argv = workloadArgv({ spec: options.spec, nodeBinary: this.nodeBinary(), pod: podIdentity(options.pod) });
    const child = await startWorkload({ netns: record.netns, argv, logPath });
    record.workloadPid = child.pid;
    await this.save();
    child.on("exit", (code, signal) => {
      const current = this.state?.pods[record.uid];
      if (this.stopped || current === undefined || current.workloadPid !== child.pid || current.phase !== "running") return;
      // restartPolicy is treated as Always: a sync notices the dead PID and restarts it. The
      // delay doubles with every restart so far (up to retry.maxMs), like CrashLoopBackOff,
      // but unlike the kubelet it never resets after the workload has run a while.
      this.log.warn("workload exited", { pod: `${record.namespace}/${record.name}`, pid: child.pid, code, signal, log: logPath });
      clearTimeout(this.retries.get(record.uid)?.timer);
      this.retries.set(record.uid, { attempt: current.restartCount, timer: undefined });
      this.withRetry(record.uid, () => Promise.reject(new Error(`workload exited with code ${String(code)}, signal ${String(signal)}`))).catch(() => {});
    });
    if (child.pid !== undefined) await waitForPorts({ pid: child.pid, ...workloadPorts(options.spec), timeoutMs: readinessTimeoutMs });
  }

  /** Starts the workload again in the existing namespace and network. Counts the restart. */
  private async restartWorkload(pod: V1Pod, record: PodRecord): Promise<void> {
    // Only a dead PID leads here; stopping it first guarantees one workload per pod regardless.
    if (record.workloadPid !== undefined) await stopWorkload({ pid: record.workloadPid, uid: record.uid });
    await this.launchWorkload({ pod, record, spec: parseWorkloadSpec(pod) });
    record.restartCount += 1;
    await this.save();
    this.log.info("workload restarted", { pod: `${record.namespace}/${record.name}`, pid: record.workloadPid, restartCount: record.restartCount });
    await this.status.writeRunning(pod, record);
  }

  /**
   * Tears a pod down: workload, CNI DEL, namespace, record. Idempotent. A failed CNI DEL
   * raises and keeps the record, so a retry runs DEL again with the same cached result.
   */
  private async teardown(record: PodRecord): Promise<void> {
    record.phase = "tearing-down";
    await this.save();
    if (record.workloadPid !== undefined && isWorkloadOf(record.workloadPid, record.uid)) {
      await this.events.record(record, { type: "Normal", reason: "Killing", message: `Stopping workload (PID ${record.workloadPid})` });
      await stopWorkload({ pid: record.workloadPid, uid: record.uid });
    }
    await delNetworkList(await this.networkCall(record));
    await removePodNetns(record.netns);
    const state = await this.loadedState();
    delete state.pods[record.uid];
    await this.save();
    this.log.info("pod torn down", { pod: `${record.namespace}/${record.name}`, uid: record.uid, netns: record.netns });
  }

  private async networkCall(record: PodRecord): Promise<NetworkListCall> {
    return {
      // Read on every call, like a runtime does, so a changed conflist applies to the next pod.
      list: await loadNetworkConfigList(this.options.cniConfDir),
      runtime: podRuntimeArgs({ pod: record, sandboxId: record.sandboxId, netns: record.netns, portMappings: record.portMappings }),
      cniPath: this.options.cniBinDirs,
      cacheDir: join(this.options.stateDir, "cni-cache"),
      executor: this.options.executor ?? processExecutor({ netns: this.options.nodeNetns }),
    };
  }

  private nodeBinary(): string {
    return this.options.nodeBinary ?? process.execPath;
  }

  private async loadedState(): Promise<RunnerState> {
    this.state ??= await readRunnerState({ path: this.statePath, node: this.options.nodeName });
    return this.state;
  }

  /** Saves the state file. Saves are chained, so the last write contains the latest state. */
  private async save(): Promise<void> {
    const state = await this.loadedState();
    this.saving = this.saving.catch(() => {}).then(() => writeRunnerState(this.statePath, state));
    await this.saving;
  }
}

function podIdentity(pod: V1Pod): { namespace: string; name: string; uid: string } {
  return { namespace: pod.metadata?.namespace ?? "default", name: pod.metadata?.name ?? "", uid: pod.metadata?.uid ?? "" };
}
