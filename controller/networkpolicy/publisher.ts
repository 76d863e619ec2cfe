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

// The SliceEvent ordering contract as one bucket per type: groups added, members changed,
// policies added or updated, policies removed, groups removed, with address groups before
// applied-to groups within a phase.
const eventBucket: Record<SliceEvent["type"], number> = {
  AddressGroupAdded: 0,
  AppliedToGroupAdded: 1,
  AddressGroupMembersRemoved: 2,
  AddressGroupMembersAdded: 2,
  AppliedToGroupMembersRemoved: 3,
  AppliedToGroupMembersAdded: 3,
  PolicyAdded: 4,
  PolicyUpdated: 4,
  PolicyRemoved: 5,
  AddressGroupRemoved: 6,
  AppliedToGroupRemoved: 7,
};
const bucketCount = 8;

/**
 * The events of one flush, per node, as Publisher.flush returns them. Each node's list contains
 * unnumbered events (generation 0) that may be shared by every node the object reaches: a
 * policy added on 1,000 nodes is one object until takeEvents copies it with the node's
 * generation. So a large flush keeps one reference per node and event, not one object, and
 * each node's numbered copies can be released as soon as they are delivered. The
 * generations are reserved by the flush, so snapshots taken before the events are taken
 * already count them.
 *
 * Order: a flush publishes policies, then groups, in id order, and each object adds at most
 * one event of a kind to a node (a group's removed members before its added ones). So the
 * events of one bucket of eventBucket arrive in id order, and a stable partition by bucket
 * gives the contract order without comparing ids.
 */
export class FlushResult {
  private readonly nodeNames: string[] = [];
  private readonly lists: SliceEvent[][] = [];
  private readonly firstGenerations: number[] = [];
  private readonly indexByNode = new Map<string, number>();

  /** Number of nodes with events. */
  get nodeCount(): number {
    return this.nodeNames.length;
  }

  nodeName(index: number): string {
    return this.nodeNames[index] as string;
  }

  /** Returns the node's unnumbered event list, creating it on the first event. */
  listOf(nodeName: string): SliceEvent[] {
    const index = this.indexByNode.get(nodeName);
    if (index !== undefined) return this.lists[index] as SliceEvent[];
    const list: SliceEvent[] = [];
    this.indexByNode.set(nodeName, this.nodeNames.length);
    this.nodeNames.push(nodeName);
    this.lists.push(list);
    this.firstGenerations.push(0);
    return list;
  }

  /** Returns the number of events of the node at `index`. */
  eventCount(index: number): number {
    return (this.lists[index] as SliceEvent[]).length;
  }

  /** Sets the generation of the node's first event. The others follow it by one each. */
  reserveGenerations(index: number, firstGeneration: number): void {
    this.firstGenerations[index] = firstGeneration;
  }

  /**
   * Builds and returns the events of the node at `index` in contract order, numbered. Call it
   * once per node: the unnumbered list is released.
   */
  takeEvents(index: number): SliceEvent[] {
    const list = this.lists[index] as SliceEvent[];
    this.lists[index] = [];
    const firstGeneration = this.firstGenerations[index] as number;
    const ordered = inBucketOrder(list) ? list : partitionByBucket(list);
    const events = new Array<SliceEvent>(ordered.length);
    for (let next = 0; next < ordered.length; next += 1) {
      events[next] = numbered(ordered[next] as SliceEvent, firstGeneration + next);
    }
    return events;
  }
}

// Returns a copy of an unnumbered event with its generation. Each type is written out, not
// spread, so every copy of a type gets one object shape with the keys in the order type,
// generation, payload (the order the events serialise in).
function numbered(event: SliceEvent, generation: number): SliceEvent {
  switch (event.type) {
    case "PolicyAdded":
    case "PolicyUpdated":
      return { type: event.type, generation, policy: event.policy };
    case "PolicyRemoved":
      return { type: event.type, generation, policyId: event.policyId };
    case "AddressGroupAdded":
      return { type: event.type, generation, group: event.group };
    case "AppliedToGroupAdded":
      return { type: event.type, generation, group: event.group };
    case "AddressGroupMembersAdded":
    case "AddressGroupMembersRemoved":
      return { type: event.type, generation, groupId: event.groupId, members: event.members };
    case "AppliedToGroupMembersAdded":
    case "AppliedToGroupMembersRemoved":
      return { type: event.type, generation, groupId: event.groupId, members: event.members };
    case "AddressGroupRemoved":
    case "AppliedToGroupRemoved":
      return { type: event.type, generation, groupId: event.groupId };
  }
}

// Stable: events of one bucket keep their relative order.
function partitionByBucket(events: readonly SliceEvent[]): SliceEvent[] {
  const partitioned: SliceEvent[] = [];
  for (let bucket = 0; bucket < bucketCount; bucket += 1) {
    for (const event of events) {
      if (eventBucket[event.type] === bucket) partitioned.push(event);
    }
  }
  return partitioned;
}

function inBucketOrder(events: readonly SliceEvent[]): boolean {
  let previous = 0;
  for (const event of events) {
    const bucket = eventBucket[event.type];
    if (bucket < previous) return false;
    previous = bucket;
  }
  return true;
}

// Below this length insertion sort is used, because Array.prototype.sort allocates working
// state on every call and a single input call usually touches one to three objects.
const insertionSortLength = 12;

/** Returns the items in a new array sorted by id. */
function sortedById<T extends { readonly id: string }>(items: Iterable<T>): T[] {
  const sorted = [...items];
  if (sorted.length > insertionSortLength) return sorted.sort((a, b) => compareStrings(a.id, b.id));
  for (let i = 1; i < sorted.length; i += 1) {
    const item = sorted[i] as T;
    let j = i - 1;
    while (j >= 0 && (sorted[j] as T).id > item.id) {
      sorted[j + 1] = sorted[j] as T;
      j -= 1;
    }
    sorted[j + 1] = item;
  }
  return sorted;
}

/** The groups a node has received, which are the source of its snapshot. Its policies are
 * those applied to its applied-to groups, so they need no set of their own. */
interface NodeView {
  generation: number;
  readonly addressGroups: Set<PodGroup<PublishedPolicy>>;
  readonly appliedToGroups: Set<PodGroup<PublishedPolicy>>;
}

// Up to this many items a TouchedList finds repeats by scanning its array.
const touchedScanLength = 8;

/**
 * Distinct items in insertion order. Most input calls touch one to three objects, so a
 * list is scanned until it is long enough for a set to pay off.
 */
class TouchedList<T> implements Iterable<T> {
  private readonly items: T[] = [];
  private index: Set<T> | null = null;

  add(item: T): void {
    if (this.index !== null) {
      if (this.index.has(item)) return;
      this.index.add(item);
    } else if (this.items.includes(item)) {
      return;
    } else if (this.items.length >= touchedScanLength) {
      this.index = new Set(this.items);
      this.index.add(item);
    }
    this.items.push(item);
  }

  [Symbol.iterator](): Iterator<T> {
    return this.items[Symbol.iterator]();
  }
}

/** The changed objects of one input call (or one batch of calls). */
export class ChangeSet {
  readonly groups = new TouchedList<PodGroup<PublishedPolicy>>();
  readonly policies = new TouchedList<PublishedPolicy>();

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

/** State of one flush: the per-node events and a cache of span differences. */
class FlushContext {
  readonly result = new FlushResult();
  // Policies on one selector share span sets, so one difference serves them all.
  private diffs: Map<ReadonlySet<string>, Map<ReadonlySet<string>, SpanDiff>> | null = null;

  batchOf(nodeName: string): SliceEvent[] {
    return this.result.listOf(nodeName);
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
   * Publishes a change set: updates node views, reserves each affected node's next
   * generations and returns the per-node events, which are numbered when the caller takes
   * them. `discard` is called for every changed group, after its events, so the caller can
   * drop unused groups.
   */
  flush(changes: ChangeSet, discard: (group: PodGroup<PublishedPolicy>) => void): FlushResult {
    const context = new FlushContext();
    // Id order here gives every node's events in id order within each phase (see FlushResult).
    // Groups are sorted after the policies are published, because publishing a policy
    // touches its peer groups.
    for (const policy of sortedById(changes.policies)) {
      this.publishPolicy(policy, changes, context);
    }
    for (const group of sortedById(changes.groups)) {
      this.publishAddressRole(group, context);
      this.publishAppliedRole(group, context);
      group.appliedChanges = null;
      group.addressChanges = null;
      discard(group);
    }

    const result = context.result;
    for (let index = 0; index < result.nodeCount; index += 1) {
      const view = this.viewOf(result.nodeName(index));
      result.reserveGenerations(index, view.generation + 1);
      view.generation += result.eventCount(index);
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
    // One unnumbered event per kind serves every node (see FlushResult).
    if (contentChanged) {
      let removed: SliceEvent | null = null;
      let added: SliceEvent | null = null;
      let updated: SliceEvent | null = null;
      for (const nodeName of spanUnion(before.span, span)) {
        const had = before.internal !== null && before.span.has(nodeName);
        const has = internal !== null && span.has(nodeName);
        if (had && !has && before.internal !== null) {
          removed ??= { type: "PolicyRemoved", generation: 0, policyId: before.internal.id };
          context.batchOf(nodeName).push(removed);
        } else if (!had && has && internal !== null) {
          added ??= { type: "PolicyAdded", generation: 0, policy: internal };
          context.batchOf(nodeName).push(added);
        } else if (had && has && internal !== null) {
          updated ??= { type: "PolicyUpdated", generation: 0, policy: internal };
          context.batchOf(nodeName).push(updated);
        }
      }
    } else if (internal !== null) {
      const diff = context.diff(before.span, span);
      if (diff.removed.length > 0) {
        const removed: SliceEvent = { type: "PolicyRemoved", generation: 0, policyId: internal.id };
        for (const nodeName of diff.removed) context.batchOf(nodeName).push(removed);
      }
      if (diff.added.length > 0) {
        const added: SliceEvent = { type: "PolicyAdded", generation: 0, policy: internal };
        for (const nodeName of diff.added) context.batchOf(nodeName).push(added);
      }
    }
    policy.published = { internal, span, groups };
  }

  private publishAddressRole(group: PodGroup<PublishedPolicy>, context: FlushContext): void {
    // Nodes that receive the whole group skip its member delta, so they are recorded only
    // when there is a delta.
    const hasDelta = group.addressChanges !== null;
    let entered: Set<string> | null = null;
    let added: SliceEvent | null = null;
    let removed: SliceEvent | null = null;

    const spanChanges = group.addressSpanChanges;
    for (const nodeName of spanChanges?.keys() ?? []) {
      const had = spanChanges?.get(nodeName) === true;
      const has = group.hasAddressSpan(nodeName);
      if (had && !has) {
        removed ??= { type: "AddressGroupRemoved", generation: 0, groupId: group.id };
        context.batchOf(nodeName).push(removed);
        this.viewOf(nodeName).addressGroups.delete(group);
      } else if (!had && has) {
        added ??= {
          type: "AddressGroupAdded",
          generation: 0,
          group: { id: group.id, selector: group.selector, members: group.sortedAddressMembers() },
        };
        context.batchOf(nodeName).push(added);
        this.viewOf(nodeName).addressGroups.add(group);
        if (hasDelta) {
          entered ??= new Set();
          entered.add(nodeName);
        }
      }
    }
    group.addressSpanChanges = null;

    const delta = addressDelta(group);
    if (delta.added.length === 0 && delta.removed.length === 0) return;
    const membersRemoved: SliceEvent | null =
      delta.removed.length > 0
        ? { type: "AddressGroupMembersRemoved", generation: 0, groupId: group.id, members: delta.removed }
        : null;
    const membersAdded: SliceEvent | null =
      delta.added.length > 0
        ? { type: "AddressGroupMembersAdded", generation: 0, groupId: group.id, members: delta.added }
        : null;
    for (const nodeName of group.addressSpanNodes()) {
      if (entered?.has(nodeName) === true) continue;
      const batch = context.batchOf(nodeName);
      if (membersRemoved !== null) batch.push(membersRemoved);
      if (membersAdded !== null) batch.push(membersAdded);
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
    // Nodes that receive the whole group skip its member delta, so they are recorded only
    // when there is a delta.
    const hasDelta = group.appliedChanges !== null;
    let entered: Set<string> | null = null;

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
        if (hasDelta) {
          entered ??= new Set();
          entered.add(nodeName);
        }
      }
    }
    group.publishedAppliedSpan = span;

    for (const [nodeName, delta] of appliedDeltas(group)) {
      if (!span.has(nodeName) || entered?.has(nodeName) === true) continue;
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

interface AddressDelta {
  added: AddressMember[];
  removed: AddressMember[];
}

// Shared by every group without changes; its empty lists never reach an event.
const noAddressChanges: AddressDelta = { added: [], removed: [] };

// Net address member changes since the last flush, each list sorted by member key.
function addressDelta(group: PodGroup<PublishedPolicy>): AddressDelta {
  if (group.addressChanges === null) return noAddressChanges;
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
