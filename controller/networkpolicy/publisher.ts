// Publishing: turns the groups and policies one input call changed into ordered per-node
// events, and keeps each node's view (what it has received) for snapshots.
//
// Every policy and group stores what was last published (its span, and for a policy its
// internal object). A flush compares that with the current state, for changed objects only:
//
//   policy span  = nodes with a pod of its applied-to group
//   address span = union of the spans of the policies that use the group as a peer
//                  (counted per node in PodGroup)
//   applied span = nodes with a pod of the group, while some policy applies to it
//
// A node entering a span receives the whole object, a node leaving it a removal, and a node
// in both the net member delta recorded in the group since the previous flush.
import type { PodGroup } from "./group.ts";
import { compareStrings, emptySlice, sortAppliedToMembers } from "./slice.ts";
import type {
  AddressMember,
  AppliedToMember,
  InternalPolicy,
  NodeSlice,
  SliceEvent,
} from "./types.ts";

/** A policy's state as the publisher needs it. */
export interface PublishedPolicy {
  readonly id: string;
  /** Current internal form; null once the policy is deleted. */
  current(): InternalPolicy | null;
  /** Current applied-to group; null once the policy is deleted. */
  appliedGroup(): PodGroup<PublishedPolicy> | null;
  /** Current distinct peer groups; empty once the policy is deleted. */
  addressGroups(): readonly PodGroup<PublishedPolicy>[];
  published: { internal: InternalPolicy | null; span: ReadonlySet<string>; groups: readonly PodGroup<PublishedPolicy>[] };
}

// The SliceEvent ordering contract as one number per type: the phase in the tens (groups
// added, members changed, policies added or updated, policies removed, groups removed), and
// address groups before applied-to groups in the units.
const eventOrder: Record<SliceEvent["type"], number> = {
  AddressGroupAdded: 0,
  AppliedToGroupAdded: 1,
  AddressGroupMembersRemoved: 10,
  AddressGroupMembersAdded: 10,
  AppliedToGroupMembersRemoved: 11,
  AppliedToGroupMembersAdded: 11,
  PolicyAdded: 20,
  PolicyUpdated: 20,
  PolicyRemoved: 30,
  AddressGroupRemoved: 40,
  AppliedToGroupRemoved: 41,
};

function objectIdOf(event: SliceEvent): string {
  switch (event.type) {
    case "PolicyAdded":
    case "PolicyUpdated":
      return event.policy.id;
    case "PolicyRemoved":
      return event.policyId;
    case "AddressGroupAdded":
    case "AppliedToGroupAdded":
      return event.group.id;
    default:
      return event.groupId;
  }
}

// Sorts one node's events into contract order, then by object id. Array.prototype.sort is
// stable, so a group's removed-members event stays before its added-members event.
function sortBatch(events: SliceEvent[]): SliceEvent[] {
  if (events.length < 2) return events;
  // Each key is computed once, not once per comparison: an initial sync sorts hundreds of
  // events per node.
  const keyed = events.map((event) => ({ order: eventOrder[event.type], id: objectIdOf(event), event }));
  keyed.sort((a, b) => a.order - b.order || compareStrings(a.id, b.id));
  return keyed.map((entry) => entry.event);
}

/** The groups a node has received, which are the source of its snapshot. Its policies are
 * those applied to its applied-to groups, so they need no set of their own. */
interface NodeView {
  generation: number;
  readonly addressGroups: Set<PodGroup<PublishedPolicy>>;
  readonly appliedToGroups: Set<PodGroup<PublishedPolicy>>;
}

/** The changed objects of one input call (or one batch of calls). */
export class ChangeSet {
  readonly groups = new Set<PodGroup<PublishedPolicy>>();
  readonly policies = new Set<PublishedPolicy>();

  touchGroup(group: PodGroup<PublishedPolicy>): void {
    this.groups.add(group);
  }

  touchPolicy(policy: PublishedPolicy): void {
    this.policies.add(policy);
  }
}

interface SpanDiff {
  added: string[];
  removed: string[];
}

const emptySpan: ReadonlySet<string> = new Set();
const noAppliedChanges: ReadonlyMap<string, never> = new Map<string, never>();

/** State of one flush: the per-node batches and a cache of span differences. */
class FlushContext {
  readonly batches = new Map<string, SliceEvent[]>();
  // Policies on one selector share span sets, so one difference serves them all.
  private diffs: Map<ReadonlySet<string>, Map<ReadonlySet<string>, SpanDiff>> | null = null;

  batchOf(nodeName: string): SliceEvent[] {
    let batch = this.batches.get(nodeName);
    if (batch === undefined) {
      batch = [];
      this.batches.set(nodeName, batch);
    }
    return batch;
  }

  diff(before: ReadonlySet<string>, after: ReadonlySet<string>): SpanDiff {
    this.diffs ??= new Map();
    let byAfter = this.diffs.get(before);
    if (byAfter === undefined) {
      byAfter = new Map();
      this.diffs.set(before, byAfter);
    }
    let diff = byAfter.get(after);
    if (diff === undefined) {
      diff = { added: difference(after, before), removed: difference(before, after) };
      byAfter.set(after, diff);
    }
    return diff;
  }
}

/**
 * Per-node views and event generation. `flush` is all-or-nothing in effect because it runs
 * synchronously and throws only on a programming error.
 */
export class Publisher {
  private readonly views = new Map<string, NodeView>();

  /**
   * Publishes a change set: updates node views and returns the new events per node, each
   * numbered with that node's next generations. `discard` is called for every changed
   * group, after its events, so the caller can drop unused groups.
   */
  flush(changes: ChangeSet, discard: (group: PodGroup<PublishedPolicy>) => void): Map<string, SliceEvent[]> {
    const context = new FlushContext();
    for (const policy of changes.policies) {
      this.publishPolicy(policy, changes, context);
    }
    for (const group of changes.groups) {
      this.publishAddressRole(group, context);
      this.publishAppliedRole(group, context);
      group.appliedChanges = null;
      group.addressChanges = null;
      discard(group);
    }

    const result = new Map<string, SliceEvent[]>();
    for (const [nodeName, batch] of context.batches) {
      const view = this.viewOf(nodeName);
      const events = sortBatch(batch);
      // Events are built with generation 0, the field present from the start so that every
      // event keeps one object shape. Each is this node's own object, so numbering in place is safe.
      for (const event of events) {
        view.generation += 1;
        event.generation = view.generation;
      }
      if (events.length > 0) result.set(nodeName, events);
    }
    return result;
  }

  /** Builds a node's slice from its view; sorted as NodeSlice requires. */
  snapshot(nodeName: string): NodeSlice {
    const view = this.views.get(nodeName);
    if (view === undefined) return emptySlice(nodeName);
    const byId = (a: { id: string }, b: { id: string }): number => compareStrings(a.id, b.id);
    const policies: InternalPolicy[] = [];
    for (const group of view.appliedToGroups) {
      for (const policy of group.appliedPolicies) {
        if (policy.published.internal !== null && policy.published.span.has(nodeName)) {
          policies.push(policy.published.internal);
        }
      }
    }
    return {
      nodeName,
      generation: view.generation,
      policies: policies.sort(byId),
      addressGroups: [...view.addressGroups]
        .map((group) => ({ id: group.id, selector: group.selector, members: [...group.sortedAddressMembers()] }))
        .sort(byId),
      appliedToGroups: [...view.appliedToGroups]
        .map((group) => ({ id: group.id, selector: group.selector, members: group.appliedMembersOn(nodeName) }))
        .sort(byId),
    };
  }

  /** Names of nodes that have received at least one event. */
  nodeNames(): string[] {
    return [...this.views.keys()].sort();
  }

  private viewOf(nodeName: string): NodeView {
    let view = this.views.get(nodeName);
    if (view === undefined) {
      view = { generation: 0, addressGroups: new Set(), appliedToGroups: new Set() };
      this.views.set(nodeName, view);
    }
    return view;
  }

  private publishPolicy(policy: PublishedPolicy, changes: ChangeSet, context: FlushContext): void {
    const before = policy.published;
    const internal = policy.current();
    const group = policy.appliedGroup();
    const span = internal === null || group === null ? emptySpan : group.appliedSpan();
    const groups = internal === null ? [] : policy.addressGroups();
    const contentChanged = before.internal !== internal;
    if (!contentChanged && before.span === span) return;

    // Each peer group counts the policies using it by span, to know the nodes that need it.
    adjustSpans(before.groups, before.span, -1, changes);
    adjustSpans(groups, span, +1, changes);
    if (contentChanged) {
      for (const nodeName of spanUnion(before.span, span)) {
        const had = before.internal !== null && before.span.has(nodeName);
        const has = internal !== null && span.has(nodeName);
        if (had && !has && before.internal !== null) {
          context.batchOf(nodeName).push({ type: "PolicyRemoved", generation: 0, policyId: before.internal.id });
        } else if (!had && has && internal !== null) {
          context.batchOf(nodeName).push({ type: "PolicyAdded", generation: 0, policy: internal });
        } else if (had && has && internal !== null) {
          context.batchOf(nodeName).push({ type: "PolicyUpdated", generation: 0, policy: internal });
        }
      }
    } else if (internal !== null) {
      const diff = context.diff(before.span, span);
      for (const nodeName of diff.removed) {
        context.batchOf(nodeName).push({ type: "PolicyRemoved", generation: 0, policyId: internal.id });
      }
      for (const nodeName of diff.added) {
        context.batchOf(nodeName).push({ type: "PolicyAdded", generation: 0, policy: internal });
      }
    }
    policy.published = { internal, span, groups };
  }

  private publishAddressRole(group: PodGroup<PublishedPolicy>, context: FlushContext): void {
    const entered = new Set<string>();
    let fullMembers: AddressMember[] | null = null;

    for (const [nodeName, had] of group.addressSpanChanges ?? []) {
      const has = group.hasAddressSpan(nodeName);
      if (had && !has) {
        context.batchOf(nodeName).push({ type: "AddressGroupRemoved", generation: 0, groupId: group.id });
        this.viewOf(nodeName).addressGroups.delete(group);
      } else if (!had && has) {
        fullMembers ??= group.sortedAddressMembers();
        context.batchOf(nodeName).push({
          type: "AddressGroupAdded",
          generation: 0,
          group: { id: group.id, selector: group.selector, members: fullMembers },
        });
        this.viewOf(nodeName).addressGroups.add(group);
        entered.add(nodeName);
      }
    }
    group.addressSpanChanges = null;

    const delta = addressDelta(group);
    if (delta.added.length === 0 && delta.removed.length === 0) return;
    for (const nodeName of group.addressSpanNodes()) {
      if (entered.has(nodeName)) continue;
      const batch = context.batchOf(nodeName);
      if (delta.removed.length > 0) {
        batch.push({ type: "AddressGroupMembersRemoved", generation: 0, groupId: group.id, members: delta.removed });
      }
      if (delta.added.length > 0) {
        batch.push({ type: "AddressGroupMembersAdded", generation: 0, groupId: group.id, members: delta.added });
      }
    }
  }

  private publishAppliedRole(group: PodGroup<PublishedPolicy>, context: FlushContext): void {
    const published = group.publishedAppliedSpan;
    const span = group.appliedPolicies.size > 0 ? group.appliedSpan() : emptySpan;
    // When both spans are non-empty, the group was in use at the last flush and is now, so
    // only nodes whose first pod arrived or last pod left can enter or leave the span.
    const candidates: Iterable<string> =
      published.size === 0 || span.size === 0 ? spanUnion(published, span) : (group.appliedNodeChanges ?? []);
    group.appliedNodeChanges = null;
    const entered = new Set<string>();

    for (const nodeName of candidates) {
      const had = published.has(nodeName);
      const has = span.has(nodeName);
      if (had && !has) {
        context.batchOf(nodeName).push({ type: "AppliedToGroupRemoved", generation: 0, groupId: group.id });
        this.viewOf(nodeName).appliedToGroups.delete(group);
      } else if (!had && has) {
        context.batchOf(nodeName).push({
          type: "AppliedToGroupAdded",
          generation: 0,
          group: { id: group.id, selector: group.selector, members: group.appliedMembersOn(nodeName) },
        });
        this.viewOf(nodeName).appliedToGroups.add(group);
        entered.add(nodeName);
      }
    }
    group.publishedAppliedSpan = span;

    for (const [nodeName, delta] of appliedDeltas(group)) {
      if (!span.has(nodeName) || entered.has(nodeName)) continue;
      const batch = context.batchOf(nodeName);
      if (delta.removed.length > 0) {
        batch.push({ type: "AppliedToGroupMembersRemoved", generation: 0, groupId: group.id, members: sortAppliedToMembers(delta.removed) });
      }
      if (delta.added.length > 0) {
        batch.push({ type: "AppliedToGroupMembersAdded", generation: 0, groupId: group.id, members: sortAppliedToMembers(delta.added) });
      }
    }
  }
}

function adjustSpans(
  groups: readonly PodGroup<PublishedPolicy>[],
  span: ReadonlySet<string>,
  delta: number,
  changes: ChangeSet,
): void {
  for (const group of groups) {
    changes.touchGroup(group);
    group.adjustAddressSpan(span, delta);
  }
}

// Net address member changes since the last flush, each list sorted by member key.
function addressDelta(group: PodGroup<PublishedPolicy>): { added: AddressMember[]; removed: AddressMember[] } {
  if (group.addressChanges === null) return { added: [], removed: [] };
  const added: [string, AddressMember][] = [];
  const removed: [string, AddressMember][] = [];
  for (const [key, change] of group.addressChanges ?? []) {
    const current = group.addressMembers.get(key);
    if (change.wasPresent && current === undefined) removed.push([key, change.member]);
    if (!change.wasPresent && current !== undefined) added.push([key, current]);
  }
  const byKey = (a: [string, AddressMember], b: [string, AddressMember]): number => compareStrings(a[0], b[0]);
  return { added: added.sort(byKey).map(([, m]) => m), removed: removed.sort(byKey).map(([, m]) => m) };
}

// Net applied-to member changes since the last flush, per node. A member whose value or
// node changed is removed with its old value and added with its new one.
function appliedDeltas(
  group: PodGroup<PublishedPolicy>,
): ReadonlyMap<string, { added: AppliedToMember[]; removed: AppliedToMember[] }> {
  if (group.appliedChanges === null) return noAppliedChanges;
  const deltas = new Map<string, { added: AppliedToMember[]; removed: AppliedToMember[] }>();
  const deltaOf = (nodeName: string): { added: AppliedToMember[]; removed: AppliedToMember[] } => {
    let delta = deltas.get(nodeName);
    if (delta === undefined) {
      delta = { added: [], removed: [] };
      deltas.set(nodeName, delta);
    }
    return delta;
  };

  for (const [podKey, before] of group.appliedChanges ?? []) {
    const pod = group.pods.get(podKey);
    const now = pod !== undefined && pod.nodeName !== null && pod.appliedToMember !== null ? pod : null;
    const unchanged =
      now !== null && before.member !== null && before.nodeName === now.nodeName && before.signature === now.appliedToSignature;
    if (unchanged) continue;
    if (before.member !== null && before.nodeName !== null) deltaOf(before.nodeName).removed.push(before.member);
    if (now !== null && now.appliedToMember !== null && now.nodeName !== null) deltaOf(now.nodeName).added.push(now.appliedToMember);
  }
  return deltas;
}

function difference<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): T[] {
  return [...a].filter((item) => !b.has(item));
}

function union<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): Set<T> {
  return new Set([...a, ...b]);
}

// The union of two spans without copying when one contains the other trivially.
function spanUnion(a: ReadonlySet<string>, b: ReadonlySet<string>): ReadonlySet<string> {
  if (a === b || a.size === 0) return b;
  if (b.size === 0) return a;
  return union(a, b);
}
