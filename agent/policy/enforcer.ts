// Keeps the policy tables of br-int equal to what the node's NetworkPolicy slice requires.
// Each applySlice() translates the whole slice, diffs the result against the flows it
// installed before, and sends the difference as one atomic bundle, so a packet meets either
// the old policy state or the new one, never a mix.
import type { Direction, NodeSlice } from "../../controller/networkpolicy/types.ts";
import { formatCidr } from "../../common/net/cidr.ts";
import type { FlowStats, MessageBody } from "../../openflow/messages/types.ts";
import { CookieCategory, decodeCookie } from "../pipeline/cookie.ts";
import type { PipelineFlow } from "../pipeline/flow.ts";
import { PolicyError, PolicyErrorCode } from "./errors.ts";
import { diffFlows, diffMessages, indexFlows, isEmptyDiff, type FlowDiff } from "../pipeline/flow-diff.ts";
import { IdPool } from "./id-pool.ts";
import { baseFlows, buildPolicyFlows, type AuditFlowOptions, type RejectFlowOptions } from "./policy-flows.ts";
import { planSlice, type ConjunctionPlan, type IsolationPlan } from "./rule-plan.ts";

/** The part of OpenFlowConnection the enforcer uses: an all-or-nothing bundle. */
export interface BundleSender {
  bundle(messages: readonly MessageBody[]): Promise<void>;
}

/** The logging calls the enforcer makes; a winston Logger fits. */
export interface EnforcerLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
}

export interface PolicyEnforcerOptions {
  /** The destination of bundles: an OpenFlowConnection to br-int, or a test double recording them. */
  readonly sender: BundleSender;
  /** Restart round of this agent run (agent/pipeline/cookie.ts). */
  readonly round: number;
  /** Source of conjunction and drop-flow ids; default a new pool. */
  readonly ids?: IdPool;
  readonly logger?: EnforcerLogger;
  /** Audit logging of allowed and dropped connections (see audit.ts); absent: off. */
  readonly audit?: AuditFlowOptions;
  /** Reject instead of drop for pods isolated by the selected policies (see reject.ts); absent: off. */
  readonly reject?: RejectFlowOptions;
}

/** The changes one applySlice() made. */
export interface ApplyResult {
  readonly added: number;
  readonly modified: number;
  readonly removed: number;
  /** Policy flows installed afterwards, base flows included. */
  readonly flows: number;
  /** Wall time of the bundle, in seconds; 0 when nothing changed. */
  readonly seconds: number;
}

/** The rule or isolated pod that an id in a cookie, conj_id, rule-id register or ct_label names. */
export type IdOwner =
  | { readonly kind: "rule"; readonly ruleId: string; readonly policyId: string; readonly direction: Direction; readonly key: string }
  | { readonly kind: "isolation"; readonly pod: string; readonly direction: Direction; readonly address: string; readonly key: string };

export interface RuleCounter {
  readonly id: number;
  readonly ruleId: string;
  readonly direction: Direction;
  /** Packets of new connections this rule allowed (established ones bypass the rules). */
  readonly packets: bigint;
  readonly bytes: bigint;
}

export interface IsolationCounter {
  readonly id: number;
  readonly pod: string;
  readonly direction: Direction;
  /** Packets dropped because no rule allowed them. */
  readonly packets: bigint;
  readonly bytes: bigint;
}

export interface PolicyCounters {
  readonly rules: RuleCounter[];
  readonly isolation: IsolationCounter[];
}

const SILENT: EnforcerLogger = { info: () => undefined, debug: () => undefined };

/**
 * Installs and updates the flows of the policy tables. Calls are queued and run one at a
 * time. applySlice() is idempotent and all-or-nothing: when the switch rejects the bundle,
 * the switch, the cached flows and the ids stay as they were, and the call rejects with
 * PolicyError POLICY_INSTALL_FAILED.
 */
export class PolicyEnforcer {
  readonly #sender: BundleSender;
  readonly #round: number;
  readonly #ids: IdPool;
  readonly #logger: EnforcerLogger;
  readonly #audit: AuditFlowOptions | undefined;
  readonly #reject: RejectFlowOptions | undefined;
  #installed = new Map<string, PipelineFlow>();
  /** Id of each conjunction plan key ("rule/...") and isolation key ("isolation/..."). */
  #idByKey = new Map<string, number>();
  #owners = new Map<number, IdOwner>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: PolicyEnforcerOptions) {
    this.#sender = options.sender;
    this.#round = options.round;
    this.#ids = options.ids ?? new IdPool();
    this.#logger = options.logger ?? SILENT;
    this.#audit = options.audit;
    this.#reject = options.reject;
  }

  /** Makes the policy flows on the switch exactly those `slice` requires, in one bundle. */
  applySlice(slice: NodeSlice): Promise<ApplyResult> {
    return this.#enqueue(() => this.#apply(slice));
  }

  /** Sends every installed flow again in one bundle, after ovs-vswitchd restarted and lost its flows. */
  replay(): Promise<void> {
    return this.#enqueue(async () => {
      const diff: FlowDiff = { add: [...this.#installed.values()], modify: [], remove: [] };
      await this.#send(diff);
    });
  }

  /** Returns the installed policy flows, base flows included. */
  installedFlows(): PipelineFlow[] {
    return [...this.#installed.values()];
  }

  /** Returns the rule or pod an id names, or undefined for an id not in use. */
  owner(id: number): IdOwner | undefined {
    return this.#owners.get(id);
  }

  /** Returns every id in use with its owner. */
  owners(): [number, IdOwner][] {
    return [...this.#owners];
  }

  /** Returns the ids in use, in increasing order. */
  idsInUse(): number[] {
    return this.#ids.inUse();
  }

  /**
   * Sums flow statistics (a dump of the policy tables) per rule and per isolated pod, using
   * the id in each flow's cookie. Flows of other rounds, categories or unknown ids are skipped.
   */
  counters(stats: readonly FlowStats[]): PolicyCounters {
    const rules = new Map<number, RuleCounter>();
    const isolation = new Map<number, IsolationCounter>();
    for (const stat of stats) {
      const cookie = decodeCookie(stat.cookie);
      if (cookie.category !== CookieCategory.policy || cookie.round !== this.#round) continue;
      const owner = this.#owners.get(cookie.owner);
      if (owner === undefined) continue;
      const id = cookie.owner;
      if (owner.kind === "rule") {
        const previous = rules.get(id);
        rules.set(id, { id, ruleId: owner.ruleId, direction: owner.direction, packets: (previous?.packets ?? 0n) + stat.packetCount, bytes: (previous?.bytes ?? 0n) + stat.byteCount });
      } else {
        const previous = isolation.get(id);
        isolation.set(id, { id, pod: owner.pod, direction: owner.direction, packets: (previous?.packets ?? 0n) + stat.packetCount, bytes: (previous?.bytes ?? 0n) + stat.byteCount });
      }
    }
    return { rules: [...rules.values()].sort((a, b) => a.id - b.id), isolation: [...isolation.values()].sort((a, b) => a.id - b.id) };
  }

  async #apply(slice: NodeSlice): Promise<ApplyResult> {
    const plan = planSlice(slice);
    const conjunctions = plan.conjunctions.filter(hasNoEmptyClause);
    const desiredOwners = new Map<string, IdOwner>([
      ...conjunctions.map((entry): [string, IdOwner] => [`rule/${entry.key}`, ruleOwner(entry)]),
      ...plan.isolation.map((entry): [string, IdOwner] => [`isolation/${entry.key}`, isolationOwner(entry)]),
    ]);

    const allocated: number[] = [];
    const idByKey = new Map<string, number>();
    try {
      for (const key of desiredOwners.keys()) {
        let id = this.#idByKey.get(key);
        if (id === undefined) {
          id = this.#ids.allocate();
          allocated.push(id);
        }
        idByKey.set(key, id);
      }
    } catch (error) {
      for (const id of allocated) this.#ids.release(id);
      throw error;
    }
    const idOf = (key: string): number => idByKey.get(key) ?? 0;

    const desired = indexFlows([
      ...baseFlows(this.#round),
      ...buildPolicyFlows({
        round: this.#round,
        ...(this.#audit === undefined ? {} : { audit: this.#audit }),
        ...(this.#reject === undefined ? {} : { reject: this.#reject }),
        conjunctions: conjunctions.map((entry) => ({ plan: entry, id: idOf(`rule/${entry.key}`) })),
        isolation: plan.isolation.map((entry) => ({ plan: entry, id: idOf(`isolation/${entry.key}`) })),
      }),
    ]);
    const diff = diffFlows(this.#installed, desired);

    let seconds = 0;
    try {
      seconds = await this.#send(diff);
    } catch (error) {
      for (const id of allocated) this.#ids.release(id);
      throw error;
    }

    // The bundle is committed: ids of rules that are gone go back to the pool only now, so an
    // id is never reused inside the bundle that removes its old flows.
    for (const [key, id] of this.#idByKey) {
      if (!idByKey.has(key)) this.#ids.release(id);
    }
    this.#installed = desired;
    this.#idByKey = idByKey;
    this.#owners = new Map([...idByKey].map(([key, id]) => [id, desiredOwners.get(key) as IdOwner]));
    const result = { added: diff.add.length, modified: diff.modify.length, removed: diff.remove.length, flows: desired.size, seconds };
    this.#logger.info("Applied NetworkPolicy slice", { generation: slice.generation, policies: slice.policies.length, ...result });
    return result;
  }

  /** Sends a diff as one bundle and returns its duration in seconds. */
  async #send(diff: FlowDiff): Promise<number> {
    if (isEmptyDiff(diff)) return 0;
    const started = process.hrtime.bigint();
    try {
      await this.#sender.bundle(diffMessages(diff));
    } catch (error) {
      throw new PolicyError(PolicyErrorCode.installFailed, `installing ${diff.add.length} added, ${diff.modify.length} modified and ${diff.remove.length} removed policy flows failed; the switch keeps the previous flows`, { cause: error });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.#logger.debug("Sent policy flow bundle", { added: diff.add.length, modified: diff.modify.length, removed: diff.remove.length, seconds });
    return seconds;
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(task);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

/** Returns false when a clause has no element: such a plan matches no packet and needs no flows and no id. */
function hasNoEmptyClause(plan: ConjunctionPlan): boolean {
  return plan.appliedTo.length > 0 && plan.peers?.length !== 0 && plan.ports?.length !== 0;
}

function ruleOwner(plan: ConjunctionPlan): IdOwner {
  return { kind: "rule", ruleId: plan.ruleId, policyId: plan.policyId, direction: plan.direction, key: plan.key };
}

function isolationOwner(plan: IsolationPlan): IdOwner {
  return { kind: "isolation", pod: plan.pod, direction: plan.direction, address: formatCidr(plan.address), key: plan.key };
}
