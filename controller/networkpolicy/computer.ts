// The incremental NetworkPolicy computation: Kubernetes objects in, per-node slices and
// events out. See docs/networkpolicy.md for the model and the update algorithm.
import { isDeepStrictEqual } from "node:util";
import type { V1Namespace, V1NetworkPolicy, V1Pod } from "@kubernetes/client-node";
import type { PodGroup } from "./group.ts";
import { normalizePolicy } from "./policy.ts";
import type { NormalizedPolicy } from "./policy.ts";
import { podFactsOf, sameMembership } from "./pod.ts";
import { ChangeSet, Publisher } from "./publisher.ts";
import type { FlushResult, PublishedPolicy } from "./publisher.ts";
import { GroupRegistry } from "./registry.ts";
import { compareStrings, sortStringsInPlace } from "./slice.ts";
import type { Labels } from "./selector.ts";
import type {
  InternalPolicy,
  NodeSlice,
  PolicyComputation,
  PolicyRule,
  SliceEvent,
  SliceUpdateListener,
} from "./types.ts";

type Group = PodGroup<PublishedPolicy>;

// The published state of a policy before its first flush. It is shared and never mutated
// (a flush replaces the whole object), so an initial sync does not keep one empty set per
// policy until its single flush.
const neverPublished: PublishedPolicy["published"] = { internal: null, span: new Set(), groups: [] };

/** One NetworkPolicy object as the computation tracks it. */
class PolicyState implements PublishedPolicy {
  readonly id: string;
  /** `namespace/name` of the Kubernetes object. */
  readonly objectKey: string;
  internal: InternalPolicy | null = null;
  applied: Group | null = null;
  peers: Group[] = [];
  published: PublishedPolicy["published"] = neverPublished;

  constructor(id: string, objectKey: string) {
    this.id = id;
    this.objectKey = objectKey;
  }

  current(): InternalPolicy | null {
    return this.internal;
  }

  appliedGroup(): Group | null {
    return this.applied;
  }

  addressGroups(): readonly Group[] {
    return this.peers;
  }
}

/** Sizes of the computed state, for metrics and benchmarks. */
export interface ComputerStats {
  pods: number;
  policies: number;
  groups: number;
}

/**
 * The NetworkPolicy computation (see PolicyComputation for the input and output contract).
 * Pure TypeScript without I/O; not safe for re-entrant calls, so a listener must not call
 * an input method.
 */
export class NetworkPolicyComputer implements PolicyComputation {
  private readonly registry = new GroupRegistry<PublishedPolicy>();
  private readonly publisher = new Publisher();
  private readonly policies = new Map<string, PolicyState>();
  /** Policies deleted since the last flush, by id, so a re-creation reuses the same state. */
  private readonly deletedSinceFlush = new Map<string, PolicyState>();
  private readonly listeners = new Set<SliceUpdateListener>();
  private readonly buffered = new Map<string, SliceEvent[]>();
  private batchChanges: ChangeSet | null = null;

  upsertPod(pod: V1Pod): void {
    const facts = podFactsOf(pod);
    const previous = this.registry.getPod(facts.key);
    if (previous !== undefined && sameMembership(previous, facts)) return;
    this.run((changes) => this.registry.setPod(facts.key, facts, changes));
  }

  deletePod(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (this.registry.getPod(key) === undefined) return;
    this.run((changes) => this.registry.setPod(key, null, changes));
  }

  upsertNamespace(namespace: V1Namespace): void {
    const name = namespace.metadata?.name ?? "";
    const labels: Labels = { ...(namespace.metadata?.labels ?? {}) };
    const previous = this.registry.getNamespaceLabels(name);
    if (previous !== undefined && JSON.stringify(sortedEntries(previous)) === JSON.stringify(sortedEntries(labels))) return;
    this.run((changes) => this.registry.setNamespace(name, labels, changes));
  }

  deleteNamespace(name: string): void {
    if (this.registry.getNamespaceLabels(name) === undefined) return;
    this.run((changes) => this.registry.setNamespace(name, null, changes));
  }

  upsertPolicy(policy: V1NetworkPolicy): void {
    // Validation comes first, so an invalid object leaves the state unchanged.
    const normalized = normalizePolicy(policy);
    const objectKey = `${normalized.namespace}/${normalized.name}`;
    const existing = this.policies.get(objectKey);

    this.run((changes) => {
      if (existing !== undefined && existing.id !== normalized.id) {
        this.removePolicy(existing, changes);
      }
      const state =
        existing !== undefined && existing.id === normalized.id
          ? existing
          : (this.deletedSinceFlush.get(normalized.id) ?? new PolicyState(normalized.id, objectKey));
      this.deletedSinceFlush.delete(normalized.id);
      this.applyPolicy(state, normalized, changes);
      this.policies.set(objectKey, state);
    });
  }

  deletePolicy(namespace: string, name: string): void {
    const existing = this.policies.get(`${namespace}/${name}`);
    if (existing === undefined) return;
    this.run((changes) => this.removePolicy(existing, changes));
  }

  snapshot(nodeName: string): NodeSlice {
    return this.publisher.snapshot(nodeName);
  }

  onUpdate(listener: SliceUpdateListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  drainUpdates(): Map<string, SliceEvent[]> {
    const drained = new Map(this.buffered);
    this.buffered.clear();
    return drained;
  }

  runBatch(inputs: () => void): void {
    if (this.batchChanges !== null) {
      inputs();
      return;
    }
    const changes = new ChangeSet();
    this.batchChanges = changes;
    try {
      inputs();
    } finally {
      this.batchChanges = null;
      this.publish(changes);
    }
  }

  /** Names of the nodes that have received at least one event. */
  nodeNames(): string[] {
    return this.publisher.nodeNames();
  }

  stats(): ComputerStats {
    return { pods: this.registry.podCount, policies: this.policies.size, groups: this.registry.groupCount };
  }

  private run(mutate: (changes: ChangeSet) => void): void {
    if (this.batchChanges !== null) {
      mutate(this.batchChanges);
      return;
    }
    const changes = new ChangeSet();
    mutate(changes);
    this.publish(changes);
  }

  private publish(changes: ChangeSet): void {
    this.deletedSinceFlush.clear();
    const result = this.publisher.flush(changes, (group) => this.registry.discard(group));
    if (result.nodeCount === 0) return;
    if (this.listeners.size === 0) {
      for (let index = 0; index < result.nodeCount; index += 1) {
        const nodeName = result.nodeName(index);
        const events = result.takeEvents(index);
        const pending = this.buffered.get(nodeName);
        if (pending === undefined) {
          this.buffered.set(nodeName, events);
        } else {
          pending.push(...events);
        }
      }
      return;
    }
    this.deliver(result);
  }

  // Node by node: a node's events are built, given to every listener and then released, so
  // an initial sync never holds every node's events at once. Every listener gets every
  // node's events even if one throws; the first error is rethrown afterwards, when the state
  // is already consistent.
  private deliver(result: FlushResult): void {
    const listeners = [...this.listeners];
    let firstError: unknown = null;
    for (let index = 0; index < result.nodeCount; index += 1) {
      const nodeName = result.nodeName(index);
      const events = result.takeEvents(index);
      for (const listener of listeners) {
        try {
          listener(nodeName, events);
        } catch (error) {
          firstError ??= error;
        }
      }
    }
    if (firstError !== null) throw firstError;
  }

  // Acquires the new groups before releasing the old ones, so a selector the policy keeps
  // keeps its group and members.
  private applyPolicy(state: PolicyState, normalized: NormalizedPolicy, changes: ChangeSet): void {
    const applied = this.registry.acquire(normalized.appliedTo, changes);
    // Distinct peer groups in first-use order; a policy has few, so a list beats a map.
    const peers: Group[] = [];
    const rules: PolicyRule[] = normalized.rules.map((rule) => {
      if (rule.peers === null) {
        return { id: rule.id, direction: rule.direction, index: rule.index, peers: null, ports: rule.ports };
      }
      const groupIds: string[] = [];
      for (const selector of rule.peers.selectors) {
        const group = this.registry.acquire(selector, changes);
        if (!peers.includes(group)) peers.push(group);
        if (!groupIds.includes(group.id)) groupIds.push(group.id);
      }
      return {
        id: rule.id,
        direction: rule.direction,
        index: rule.index,
        // slice(): the list is kept in the policy, at its exact length.
        peers: { addressGroups: sortStringsInPlace(groupIds.slice()), ipBlocks: rule.peers.ipBlocks },
        ports: rule.ports,
      };
    });

    const internal: InternalPolicy = {
      id: normalized.id,
      namespace: normalized.namespace,
      name: normalized.name,
      uid: normalized.uid,
      appliedToGroup: applied.id,
      policyTypes: normalized.policyTypes,
      rules,
    };
    // An update that changes nothing (a resync, a metadata-only edit) leaves every object
    // in place, so it emits no events. Equal ids mean the groups acquired above already existed.
    if (state.internal !== null && isDeepStrictEqual(state.internal, internal)) return;

    applied.appliedPolicies.add(state);
    changes.touchGroup(applied);
    for (const group of peers) {
      group.addressPolicies.add(state);
      changes.touchGroup(group);
    }
    if (state.applied !== null && state.applied !== applied) {
      state.applied.appliedPolicies.delete(state);
      changes.touchGroup(state.applied);
    }
    for (const group of state.peers) {
      if (peers.includes(group)) continue;
      group.addressPolicies.delete(state);
      changes.touchGroup(group);
    }

    state.applied = applied;
    state.peers = peers.slice();
    state.internal = internal;
    changes.touchPolicy(state);
  }

  private removePolicy(state: PolicyState, changes: ChangeSet): void {
    if (state.applied !== null) {
      state.applied.appliedPolicies.delete(state);
      changes.touchGroup(state.applied);
    }
    for (const group of state.peers) {
      group.addressPolicies.delete(state);
      changes.touchGroup(group);
    }
    state.applied = null;
    state.peers = [];
    state.internal = null;
    this.policies.delete(state.objectKey);
    this.deletedSinceFlush.set(state.id, state);
    changes.touchPolicy(state);
  }
}

function sortedEntries(labels: Labels): [string, string][] {
  return Object.entries(labels).sort(([a], [b]) => compareStrings(a, b));
}
