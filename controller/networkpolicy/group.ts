// One canonical pod selection and everything derived from it: its member pods, the
// applied-to members per node, the reference-counted address members, the nodes that need
// it, and the changes since the last flush.
import type { PodFacts } from "./pod.ts";
import { sortStringsInPlace } from "./slice.ts";
import type { AddressMember, AppliedToMember, GroupId, GroupSelector, LabelRequirement } from "./types.ts";

const noNodes: ReadonlySet<string> = new Set();

/** The value of one applied-to member before the changes since the last flush. */
interface AppliedMemberBefore {
  nodeName: string | null;
  member: AppliedToMember | null;
  signature: string;
}

/** A policy as far as a group needs to know it. */
export interface GroupUser {
  readonly id: string;
}

/**
 * A pod selection shared by every policy that uses the same canonical selector, both as the
 * pods a policy applies to and as a rule's peers. Not safe for re-entrant use: the computer
 * mutates it only from within one input call.
 */
export class PodGroup<P extends GroupUser = GroupUser> {
  readonly id: GroupId;
  readonly key: string;
  readonly selector: GroupSelector;
  /** The pod selector, as required by LabelIndex. */
  readonly requirements: readonly LabelRequirement[];

  /** Selected pods by `namespace/name`. */
  readonly pods = new Map<string, PodFacts>();
  // Selected, scheduled pods per node: the pod itself while it is the node's only one (the
  // common case, which saves a map per node), a map by key from the second pod on.
  private readonly appliedByNode = new Map<string, PodFacts | Map<string, PodFacts>>();
  /** Address members by addressMemberKey. */
  readonly addressMembers = new Map<string, AddressMember>();
  // Number of selected pods contributing a member, for members with more than one; a
  // member missing here has one.
  private sharedAddressCounts: Map<string, number> | null = null;
  // sortedAddressMembers() result, kept until an address member is added or removed: a group
  // used by many policies is sent whole to every node that newly needs it.
  private sortedMembers: AddressMember[] | null = null;

  /** Policies applied to this group's pods. */
  readonly appliedPolicies = new Set<P>();
  /** Policies with a rule that has this group as a peer. */
  readonly addressPolicies = new Set<P>();
  /**
   * Published spans of the policies in addressPolicies, each with the number of policies
   * that have it. Policies applied to one group share one span object, so a thousand such
   * policies cost one entry here, not a thousand updates per node.
   */
  private addressSpanSets: Map<ReadonlySet<string>, number> | null = null;
  // For each node, the number of distinct span sets in addressSpanSets that contain it. It is
  // allocated on first use because most groups are no policy's peer.
  private addressSpanCounts: Map<string, number> | null = null;

  /**
   * Nodes whose addressSpanCounts entry reached or left zero since the last flush, with
   * whether the node had the address group then. The nodes that have it after a flush are
   * exactly the keys of addressSpanCounts.
   */
  addressSpanChanges: Map<string, boolean> | null = null;
  /** Nodes that received the applied-to group at the last flush (never mutated; replaced). */
  publishedAppliedSpan: ReadonlySet<string> = noNodes;
  /** Nodes that gained their first or lost their last applied-to member since the last flush. */
  appliedNodeChanges: Set<string> | null = null;
  // Immutable copy of appliedByNode's keys, shared by the published spans of every policy
  // applied to the group, so 10,000 policies on one selector keep one node set, not 10,000.
  private spanSnapshot: ReadonlySet<string> | null = null;
  /** Applied-to members changed since the last flush, with their value before. */
  appliedChanges: Map<string, AppliedMemberBefore> | null = null;
  /** Address members changed since the last flush, with their presence before. */
  addressChanges: Map<string, { wasPresent: boolean; member: AddressMember }> | null = null;
  // False while a new group is populated: it reaches nodes whole, in "added" events, so the
  // member and node changes are not recorded.
  private recording = false;

  constructor(options: { id: GroupId; key: string; selector: GroupSelector }) {
    this.id = options.id;
    this.key = options.key;
    this.selector = options.selector;
    this.requirements = options.selector.podSelector;
  }

  /** Starts recording member and node changes for the next flush; called once the new group is populated. */
  startRecording(): void {
    this.recording = true;
    this.appliedChanges = null;
    this.addressChanges = null;
    this.appliedNodeChanges = null;
  }

  /** Whether any policy uses the group; an unused group is dropped at the end of a flush. */
  get inUse(): boolean {
    return this.appliedPolicies.size > 0 || this.addressPolicies.size > 0;
  }

  /**
   * Adds a selected pod. Returns true when the pod is the group's first on its node, which
   * changes the span of the policies applied to the group. The pod must not be a member.
   */
  addPod(pod: PodFacts): boolean {
    let newNode = false;
    if (pod.appliedToMember !== null && pod.nodeName !== null) {
      this.noteAppliedMember(pod.key);
      const onNode = this.appliedByNode.get(pod.nodeName);
      if (onNode === undefined) {
        this.appliedByNode.set(pod.nodeName, pod);
        this.noteAppliedNode(pod.nodeName);
        newNode = true;
      } else if (onNode instanceof Map) {
        onNode.set(pod.key, pod);
      } else {
        this.appliedByNode.set(pod.nodeName, new Map([[onNode.key, onNode], [pod.key, pod]]));
      }
    }
    this.pods.set(pod.key, pod);
    for (const { key, member } of pod.addressMembers) {
      if (!this.addressMembers.has(key)) {
        this.noteAddressMember(key, member, false);
        this.addressMembers.set(key, member);
      } else {
        this.sharedAddressCounts ??= new Map();
        this.sharedAddressCounts.set(key, (this.sharedAddressCounts.get(key) ?? 1) + 1);
      }
    }
    return newNode;
  }

  /**
   * Removes a selected pod by key; does nothing for a non-member. Returns true when the pod
   * was the group's last on its node.
   */
  removePod(podKey: string): boolean {
    const pod = this.pods.get(podKey);
    if (pod === undefined) return false;
    let lastOnNode = false;
    if (pod.appliedToMember !== null && pod.nodeName !== null) {
      this.noteAppliedMember(pod.key);
      const onNode = this.appliedByNode.get(pod.nodeName);
      if (onNode instanceof Map) {
        onNode.delete(pod.key);
        const [remaining] = onNode.values();
        if (onNode.size === 1 && remaining !== undefined) this.appliedByNode.set(pod.nodeName, remaining);
      } else if (onNode !== undefined) {
        this.appliedByNode.delete(pod.nodeName);
        this.noteAppliedNode(pod.nodeName);
        lastOnNode = true;
      }
    }
    this.pods.delete(podKey);
    for (const { key, member } of pod.addressMembers) {
      const shared = this.sharedAddressCounts?.get(key);
      if (shared !== undefined) {
        if (shared > 2) this.sharedAddressCounts?.set(key, shared - 1);
        else this.sharedAddressCounts?.delete(key);
      } else if (this.addressMembers.has(key)) {
        this.noteAddressMember(key, member, true);
        this.addressMembers.delete(key);
      }
    }
    return lastOnNode;
  }

  /**
   * Returns the nodes with at least one applied-to member, as a set that is never mutated:
   * a membership change on a new node or the last pod of a node leaving creates a new one.
   */
  appliedSpan(): ReadonlySet<string> {
    this.spanSnapshot ??= new Set(this.appliedByNode.keys());
    return this.spanSnapshot;
  }

  /** Adds `delta` (+1 or -1) to the number of address-using policies whose span is `span`. */
  adjustAddressSpan(span: ReadonlySet<string>, delta: number): void {
    if (span.size === 0) return;
    this.addressSpanSets ??= new Map();
    const before = this.addressSpanSets.get(span) ?? 0;
    const after = before + delta;
    if (after === 0) {
      this.addressSpanSets.delete(span);
    } else {
      this.addressSpanSets.set(span, after);
    }
    if (before === 0 && after > 0) {
      for (const nodeName of span) this.adjustNodeCount(nodeName, +1);
    } else if (before > 0 && after === 0) {
      for (const nodeName of span) this.adjustNodeCount(nodeName, -1);
    }
  }

  /** Returns whether some policy using the group as a peer spans the node. */
  hasAddressSpan(nodeName: string): boolean {
    return this.addressSpanCounts?.has(nodeName) ?? false;
  }

  /** Returns the nodes that need the address group. */
  addressSpanNodes(): Iterable<string> {
    return this.addressSpanCounts?.keys() ?? [];
  }

  private adjustNodeCount(nodeName: string, delta: number): void {
    this.addressSpanCounts ??= new Map();
    const before = this.addressSpanCounts.get(nodeName) ?? 0;
    const count = before + delta;
    if (count === 0) {
      this.addressSpanCounts.delete(nodeName);
    } else {
      this.addressSpanCounts.set(nodeName, count);
    }
    // Only a count reaching or leaving zero can change whether the node needs the group.
    if (before === 0 || count === 0) {
      this.addressSpanChanges ??= new Map();
      if (!this.addressSpanChanges.has(nodeName)) this.addressSpanChanges.set(nodeName, before > 0);
    }
  }

  /** Applied-to members on one node, sorted by key. */
  appliedMembersOn(nodeName: string): AppliedToMember[] {
    const onNode = this.appliedByNode.get(nodeName);
    if (onNode === undefined) return [];
    if (!(onNode instanceof Map)) return onNode.appliedToMember === null ? [] : [onNode.appliedToMember];
    const members: AppliedToMember[] = [];
    for (const key of sortStringsInPlace([...onNode.keys()])) {
      const member = onNode.get(key)?.appliedToMember;
      if (member !== null && member !== undefined) members.push(member);
    }
    return members;
  }

  /**
   * Returns all address members, sorted by key. The array is cached until the members change
   * and is shared by every caller, so callers must not modify it.
   */
  sortedAddressMembers(): AddressMember[] {
    if (this.sortedMembers !== null) return this.sortedMembers;
    const keys = sortStringsInPlace([...this.addressMembers.keys()]);
    const members: AddressMember[] = [];
    for (const key of keys) {
      const member = this.addressMembers.get(key);
      if (member !== undefined) members.push(member);
    }
    this.sortedMembers = members;
    return members;
  }

  private noteAppliedNode(nodeName: string): void {
    this.spanSnapshot = null;
    if (!this.recording) return;
    this.appliedNodeChanges ??= new Set();
    this.appliedNodeChanges.add(nodeName);
  }

  // Records a member's value before its first change since the last flush.
  private noteAppliedMember(podKey: string): void {
    if (!this.recording) return;
    this.appliedChanges ??= new Map();
    if (this.appliedChanges.has(podKey)) return;
    const pod = this.pods.get(podKey);
    // A selected pod with an applied-to member is, by construction, in appliedByNode.
    const present = pod !== undefined && pod.appliedToMember !== null && pod.nodeName !== null;
    this.appliedChanges.set(
      podKey,
      present
        ? { nodeName: pod.nodeName, member: pod.appliedToMember, signature: pod.appliedToSignature }
        : { nodeName: null, member: null, signature: "" },
    );
  }

  private noteAddressMember(key: string, member: AddressMember, wasPresent: boolean): void {
    this.sortedMembers = null;
    if (!this.recording) return;
    this.addressChanges ??= new Map();
    if (!this.addressChanges.has(key)) {
      this.addressChanges.set(key, { wasPresent, member });
    }
  }
}
