// The events that turn one slice into another, for a resync. The agent receives a whole
// snapshot but its enforcement code consumes changes, and a policy deleted while the agent
// was away must come out as a removal.
import type {
  AddressMember,
  AppliedToMember,
  NodeSlice,
  SliceEvent,
} from "../../controller/networkpolicy/types.ts";

/**
 * Returns the events that change `before` into `after`, in the order the controller uses
 * within one batch: groups added, group members removed then added, policies added or
 * updated, policies removed, groups removed. Every event carries after.generation, because
 * they summarise a jump rather than replay the controller's history. Pure; inputs untouched.
 */
export function diffSlices(before: NodeSlice, after: NodeSlice): SliceEvent[] {
  const generation = after.generation;
  const groupsAdded: SliceEvent[] = [];
  const membersRemoved: SliceEvent[] = [];
  const membersAdded: SliceEvent[] = [];
  const policiesChanged: SliceEvent[] = [];
  const policiesRemoved: SliceEvent[] = [];
  const groupsRemoved: SliceEvent[] = [];

  const oldAddress = new Map(before.addressGroups.map((g) => [g.id, g]));
  const newAddress = new Map(after.addressGroups.map((g) => [g.id, g]));
  for (const [id, group] of newAddress) {
    const old = oldAddress.get(id);
    if (old === undefined) {
      groupsAdded.push({ type: "AddressGroupAdded", generation, group });
      continue;
    }
    const delta = memberDelta<AddressMember>(old.members, group.members);
    if (delta.removed.length > 0) membersRemoved.push({ type: "AddressGroupMembersRemoved", generation, groupId: id, members: delta.removed });
    if (delta.added.length > 0) membersAdded.push({ type: "AddressGroupMembersAdded", generation, groupId: id, members: delta.added });
  }
  for (const id of oldAddress.keys()) {
    if (!newAddress.has(id)) groupsRemoved.push({ type: "AddressGroupRemoved", generation, groupId: id });
  }

  const oldApplied = new Map(before.appliedToGroups.map((g) => [g.id, g]));
  const newApplied = new Map(after.appliedToGroups.map((g) => [g.id, g]));
  for (const [id, group] of newApplied) {
    const old = oldApplied.get(id);
    if (old === undefined) {
      groupsAdded.push({ type: "AppliedToGroupAdded", generation, group });
      continue;
    }
    const delta = memberDelta<AppliedToMember>(old.members, group.members);
    if (delta.removed.length > 0) membersRemoved.push({ type: "AppliedToGroupMembersRemoved", generation, groupId: id, members: delta.removed });
    if (delta.added.length > 0) membersAdded.push({ type: "AppliedToGroupMembersAdded", generation, groupId: id, members: delta.added });
  }
  for (const id of oldApplied.keys()) {
    if (!newApplied.has(id)) groupsRemoved.push({ type: "AppliedToGroupRemoved", generation, groupId: id });
  }

  const oldPolicies = new Map(before.policies.map((p) => [p.id, p]));
  const newPolicies = new Map(after.policies.map((p) => [p.id, p]));
  for (const [id, policy] of newPolicies) {
    const old = oldPolicies.get(id);
    if (old === undefined) policiesChanged.push({ type: "PolicyAdded", generation, policy });
    else if (!sameValue(old, policy)) policiesChanged.push({ type: "PolicyUpdated", generation, policy });
  }
  for (const id of oldPolicies.keys()) {
    if (!newPolicies.has(id)) policiesRemoved.push({ type: "PolicyRemoved", generation, policyId: id });
  }

  return [...groupsAdded, ...membersRemoved, ...membersAdded, ...policiesChanged, ...policiesRemoved, ...groupsRemoved];
}

/**
 * Members present on one side only, compared by their whole value: a member whose
 * addresses or ports changed is a removal of the old value and an addition of the new one.
 */
function memberDelta<M>(before: readonly M[], after: readonly M[]): { removed: M[]; added: M[] } {
  if (JSON.stringify(before) === JSON.stringify(after)) return { removed: [], added: [] };
  const oldKeys = new Set(before.map(canonicalJson));
  const newKeys = new Set(after.map(canonicalJson));
  return {
    removed: before.filter((m) => !newKeys.has(canonicalJson(m))),
    added: after.filter((m) => !oldKeys.has(canonicalJson(m))),
  };
}

/** Compares plain JSON first, because both sides usually share key order, then canonical JSON. */
function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b) || canonicalJson(a) === canonicalJson(b);
}

/** JSON with object keys sorted, so equal values built in different key orders compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) return item;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(item).sort()) sorted[key] = (item as Record<string, unknown>)[key];
    return sorted;
  });
}
