// Pure helpers on node slices shared by the controller and the agent-side client: member
// identity keys, canonical ordering, and applying a stream of events to a slice.
import { SliceEventError } from "./errors.ts";
import type {
  AddressGroup,
  AddressMember,
  AppliedToGroup,
  AppliedToMember,
  InternalPolicy,
  NamedPort,
  NodeSlice,
  SliceEvent,
} from "./types.ts";

/** Returns the identity of an applied-to member: `namespace/name`. */
export function appliedToMemberKey(member: AppliedToMember): string {
  return `${member.namespace}/${member.name}`;
}

/** Returns the identity of an address member: the address plus its named ports. */
export function addressMemberKey(member: AddressMember): string {
  return `${member.ip}|${namedPortsKey(member.namedPorts)}`;
}

/** Returns a compact canonical string for an already sorted named-port list. */
export function namedPortsKey(ports: readonly NamedPort[]): string {
  return ports.map((p) => `${p.name}/${p.protocol}/${p.port}`).join(",");
}

/** Compares two strings by UTF-16 code units, the order every sorted list here uses. */
export function compareStrings(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

// Below this length insertion sort is used: Array.prototype.sort allocates working state on
// every call, and most lists sorted here (a pod's addresses, a selector's requirements, the
// pods of a group on one node) have one or two items.
const insertionSortLength = 12;

/**
 * Sorts strings in place by UTF-16 code units, the order of compareStrings and of the
 * default Array.prototype.sort, and returns the same array.
 */
export function sortStringsInPlace(values: string[]): string[] {
  if (values.length > insertionSortLength) return values.sort(compareStrings);
  for (let i = 1; i < values.length; i += 1) {
    const value = values[i] as string;
    let j = i - 1;
    while (j >= 0 && (values[j] as string) > value) {
      values[j + 1] = values[j] as string;
      j -= 1;
    }
    values[j + 1] = value;
  }
  return values;
}

/** Sorts members by their identity key; returns a new array. */
export function sortAppliedToMembers(members: readonly AppliedToMember[]): AppliedToMember[] {
  return [...members].sort((a, b) => compareStrings(appliedToMemberKey(a), appliedToMemberKey(b)));
}

/** Sorts members by their identity key; returns a new array. */
export function sortAddressMembers(members: readonly AddressMember[]): AddressMember[] {
  return [...members].sort((a, b) => compareStrings(addressMemberKey(a), addressMemberKey(b)));
}

/** Returns an empty slice at generation 0. */
export function emptySlice(nodeName: string): NodeSlice {
  return { nodeName, generation: 0, policies: [], addressGroups: [], appliedToGroups: [] };
}

/**
 * Applies events in order to a copy of `slice` and returns the result in canonical order.
 * The input slice is not modified. Throws SliceEventError, naming the event, when an event's
 * generation is not the next one, or when it names a group or policy the slice lacks or adds
 * one it already has. The call is all-or-nothing, so the caller can then fetch a snapshot.
 */
export function applySliceEvents(slice: NodeSlice, events: readonly SliceEvent[]): NodeSlice {
  const state = SliceState.from(slice);
  for (const event of events) {
    state.apply(event);
  }
  return state.toSlice();
}

/** A mutable, map-based copy of a slice used while applying events. */
class SliceState {
  readonly nodeName: string;
  generation: number;
  readonly policies = new Map<string, InternalPolicy>();
  readonly addressGroups = new Map<string, { group: AddressGroup; members: Map<string, AddressMember> }>();
  readonly appliedToGroups = new Map<string, { group: AppliedToGroup; members: Map<string, AppliedToMember> }>();

  private constructor(nodeName: string, generation: number) {
    this.nodeName = nodeName;
    this.generation = generation;
  }

  static from(slice: NodeSlice): SliceState {
    const state = new SliceState(slice.nodeName, slice.generation);
    for (const policy of slice.policies) {
      state.policies.set(policy.id, policy);
    }
    for (const group of slice.addressGroups) {
      state.addressGroups.set(group.id, { group, members: new Map(group.members.map((m) => [addressMemberKey(m), m])) });
    }
    for (const group of slice.appliedToGroups) {
      state.appliedToGroups.set(group.id, {
        group,
        members: new Map(group.members.map((m) => [appliedToMemberKey(m), m])),
      });
    }
    return state;
  }

  apply(event: SliceEvent): void {
    if (event.generation !== this.generation + 1) {
      this.fail(event, `expected generation ${this.generation + 1}`);
    }
    this.generation = event.generation;
    switch (event.type) {
      case "PolicyAdded":
        this.requireAbsent(event, this.policies, event.policy.id);
        this.policies.set(event.policy.id, event.policy);
        break;
      case "PolicyUpdated":
        this.requirePresent(event, this.policies, event.policy.id);
        this.policies.set(event.policy.id, event.policy);
        break;
      case "PolicyRemoved":
        this.requirePresent(event, this.policies, event.policyId);
        this.policies.delete(event.policyId);
        break;
      case "AddressGroupAdded":
        this.requireAbsent(event, this.addressGroups, event.group.id);
        this.addressGroups.set(event.group.id, {
          group: event.group,
          members: new Map(event.group.members.map((m) => [addressMemberKey(m), m])),
        });
        break;
      case "AddressGroupRemoved":
        this.requirePresent(event, this.addressGroups, event.groupId);
        this.addressGroups.delete(event.groupId);
        break;
      case "AddressGroupMembersAdded":
        this.updateMembers(event, this.addressGroups, event.members, addressMemberKey, "add");
        break;
      case "AddressGroupMembersRemoved":
        this.updateMembers(event, this.addressGroups, event.members, addressMemberKey, "remove");
        break;
      case "AppliedToGroupAdded":
        this.requireAbsent(event, this.appliedToGroups, event.group.id);
        this.appliedToGroups.set(event.group.id, {
          group: event.group,
          members: new Map(event.group.members.map((m) => [appliedToMemberKey(m), m])),
        });
        break;
      case "AppliedToGroupRemoved":
        this.requirePresent(event, this.appliedToGroups, event.groupId);
        this.appliedToGroups.delete(event.groupId);
        break;
      case "AppliedToGroupMembersAdded":
        this.updateMembers(event, this.appliedToGroups, event.members, appliedToMemberKey, "add");
        break;
      case "AppliedToGroupMembersRemoved":
        this.updateMembers(event, this.appliedToGroups, event.members, appliedToMemberKey, "remove");
        break;
    }
  }

  private updateMembers<M>(
    event: SliceEvent & { groupId: string },
    groups: Map<string, { members: Map<string, M> }>,
    members: readonly M[],
    keyOf: (member: M) => string,
    operation: "add" | "remove",
  ): void {
    const entry = groups.get(event.groupId);
    if (entry === undefined) {
      this.fail(event, `group ${event.groupId} is not in the slice`);
    }
    for (const member of members) {
      const key = keyOf(member);
      if (operation === "add") {
        if (entry.members.has(key)) {
          this.fail(event, `member ${key} is already in group ${event.groupId}`);
        }
        entry.members.set(key, member);
      } else {
        if (!entry.members.has(key)) {
          this.fail(event, `member ${key} is not in group ${event.groupId}`);
        }
        entry.members.delete(key);
      }
    }
  }

  private requirePresent(event: SliceEvent, map: Map<string, unknown>, id: string): void {
    if (!map.has(id)) {
      this.fail(event, `${id} is not in the slice`);
    }
  }

  private requireAbsent(event: SliceEvent, map: Map<string, unknown>, id: string): void {
    if (map.has(id)) {
      this.fail(event, `${id} is already in the slice`);
    }
  }

  private fail(event: SliceEvent, message: string): never {
    throw new SliceEventError({ nodeName: this.nodeName, generation: event.generation, message: `${event.type}: ${message}` });
  }

  toSlice(): NodeSlice {
    const byId = (a: { id: string }, b: { id: string }): number => compareStrings(a.id, b.id);
    return {
      nodeName: this.nodeName,
      generation: this.generation,
      policies: [...this.policies.values()].sort(byId),
      addressGroups: [...this.addressGroups.values()]
        .map(({ group, members }) => ({ ...group, members: sortAddressMembers([...members.values()]) }))
        .sort(byId),
      appliedToGroups: [...this.appliedToGroups.values()]
        .map(({ group, members }) => ({ ...group, members: sortAppliedToMembers([...members.values()]) }))
        .sort(byId),
    };
  }
}
