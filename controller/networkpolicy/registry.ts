// The pods, namespaces and groups of the computation with the indexes that connect them:
// namespace -> groups scoped to it, namespace labels -> namespace selectors that match,
// pod labels -> groups whose pod selector may match. A pod or namespace event visits only the
// groups these indexes return.
import { PodGroup } from "./group.ts";
import type { GroupUser } from "./group.ts";
import { LabelIndex } from "./label-index.ts";
import type { PodFacts } from "./pod.ts";
import { groupIdOf, groupSelectorKey, matchesRequirements, requirementsKey } from "./selector.ts";
import type { Labels } from "./selector.ts";
import type { GroupId, GroupSelector, LabelRequirement } from "./types.ts";

/** Receives the groups and policies an input call changed, to publish them at the end. */
export interface ChangeSink<P extends GroupUser> {
  touchGroup(group: PodGroup<P>): void;
  touchPolicy(policy: P): void;
}

// Below this many pods a namespace is scanned instead of indexed: most namespaces are small,
// and one label index per namespace would cost more memory than scanning a few pods.
const namespaceIndexThreshold = 64;

/** The pods of one namespace, with a label index (built once it is large) for populating new groups. */
class NamespacePods {
  readonly pods = new Map<string, PodFacts>();
  private byLabel: Map<string, Set<PodFacts>> | null = null;

  add(pod: PodFacts): void {
    this.pods.set(pod.key, pod);
    if (this.byLabel !== null) {
      this.indexPod(this.byLabel, pod);
    } else if (this.pods.size > namespaceIndexThreshold) {
      const byLabel = new Map<string, Set<PodFacts>>();
      for (const member of this.pods.values()) this.indexPod(byLabel, member);
      this.byLabel = byLabel;
    }
  }

  delete(pod: PodFacts): void {
    this.pods.delete(pod.key);
    if (this.byLabel === null) return;
    for (const [key, value] of Object.entries(pod.labels)) {
      const slot = `${key}\u0000${value}`;
      const set = this.byLabel.get(slot);
      set?.delete(pod);
      if (set?.size === 0) this.byLabel.delete(slot);
    }
  }

  /** Calls `visit` for each selectable pod matching the requirements. */
  forEachMatch(requirements: readonly LabelRequirement[], visit: (pod: PodFacts) => void): void {
    const equality = requirements.find((requirement) => requirement.operator === "In");
    if (equality === undefined || this.byLabel === null) {
      for (const pod of this.pods.values()) {
        if (pod.selectable && matchesRequirements(requirements, pod.labels)) visit(pod);
      }
      return;
    }
    // A pod has one value per key, so the value sets are disjoint and no pod is visited twice.
    for (const value of equality.values) {
      for (const pod of this.byLabel.get(`${equality.key}\u0000${value}`) ?? []) {
        if (pod.selectable && matchesRequirements(requirements, pod.labels)) visit(pod);
      }
    }
  }

  private indexPod(byLabel: Map<string, Set<PodFacts>>, pod: PodFacts): void {
    for (const [key, value] of Object.entries(pod.labels)) {
      const slot = `${key}\u0000${value}`;
      let set = byLabel.get(slot);
      if (set === undefined) {
        set = new Set();
        byLabel.set(slot, set);
      }
      set.add(pod);
    }
  }
}

/** The groups sharing one namespace selector, and the namespaces it currently matches. */
class NamespaceSelectorEntry<P extends GroupUser> {
  readonly key: string;
  readonly requirements: readonly LabelRequirement[];
  readonly namespaces = new Set<string>();
  readonly groups = new LabelIndex<PodGroup<P>>();

  constructor(key: string, requirements: readonly LabelRequirement[]) {
    this.key = key;
    this.requirements = requirements;
  }
}

/**
 * All pods, namespaces and groups. Membership invariant, kept by every method: a group's
 * pods are exactly the selectable pods in its namespace scope whose labels match its pod
 * selector, where a namespace selector matches only namespaces the registry has seen.
 */
export class GroupRegistry<P extends GroupUser> {
  private readonly podsByKey = new Map<string, PodFacts>();
  private readonly podsByNamespace = new Map<string, NamespacePods>();
  private readonly namespaceLabels = new Map<string, Labels>();
  // Namespace names by `key\u0000value` of their labels, so a new namespace selector visits
  // only the namespaces that carry a value of its first In requirement.
  private readonly namespacesByLabel = new Map<string, Set<string>>();

  private readonly groupsByKey = new Map<string, PodGroup<P>>();
  private readonly keysById = new Map<GroupId, string>();
  private readonly fixedScope = new Map<string, LabelIndex<PodGroup<P>>>();
  private readonly selectorEntries = new Map<string, NamespaceSelectorEntry<P>>();
  private readonly selectorIndex = new LabelIndex<NamespaceSelectorEntry<P>>();
  private readonly entriesByNamespace = new Map<string, Set<NamespaceSelectorEntry<P>>>();

  get groupCount(): number {
    return this.groupsByKey.size;
  }

  get podCount(): number {
    return this.podsByKey.size;
  }

  getPod(key: string): PodFacts | undefined {
    return this.podsByKey.get(key);
  }

  getNamespaceLabels(name: string): Labels | undefined {
    return this.namespaceLabels.get(name);
  }

  /**
   * Stores a pod's new facts (null: the pod is gone) and moves it between groups. Only the
   * groups whose scope and pod selector match the old or new facts are visited.
   */
  setPod(key: string, next: PodFacts | null, changes: ChangeSink<P>): void {
    const previous = this.podsByKey.get(key);
    if (previous !== undefined) {
      this.forEachGroupOf(previous, (group) => this.removeFromGroup(group, key, changes));
      this.podsByNamespace.get(previous.namespace)?.delete(previous);
      this.podsByKey.delete(key);
    }
    if (next === null) return;

    this.podsByKey.set(key, next);
    let namespacePods = this.podsByNamespace.get(next.namespace);
    if (namespacePods === undefined) {
      namespacePods = new NamespacePods();
      this.podsByNamespace.set(next.namespace, namespacePods);
    }
    namespacePods.add(next);
    this.forEachGroupOf(next, (group) => this.addToGroup(group, next, changes));
  }

  /**
   * Stores a namespace's labels (null: the namespace is gone) and adds or removes its pods in
   * the groups of every namespace selector whose match changed.
   */
  setNamespace(name: string, labels: Labels | null, changes: ChangeSink<P>): void {
    const before = this.entriesByNamespace.get(name) ?? new Set<NamespaceSelectorEntry<P>>();
    const after = new Set<NamespaceSelectorEntry<P>>();
    this.indexNamespace(name, labels);
    if (labels === null) {
      this.namespaceLabels.delete(name);
    } else {
      this.namespaceLabels.set(name, labels);
      this.selectorIndex.forEachMatch(labels, (entry) => after.add(entry));
    }

    const pods = this.podsByNamespace.get(name);
    for (const entry of before) {
      if (after.has(entry)) continue;
      entry.namespaces.delete(name);
      pods?.pods.forEach((pod) => {
        if (!pod.selectable) return;
        entry.groups.forEachMatch(pod.labels, (group) => this.removeFromGroup(group, pod.key, changes));
      });
    }
    for (const entry of after) {
      if (before.has(entry)) continue;
      entry.namespaces.add(name);
      pods?.pods.forEach((pod) => {
        if (!pod.selectable) return;
        entry.groups.forEachMatch(pod.labels, (group) => this.addToGroup(group, pod, changes));
      });
    }

    if (after.size === 0) {
      this.entriesByNamespace.delete(name);
    } else {
      this.entriesByNamespace.set(name, after);
    }
  }

  /** Returns the group for a selector, creating and populating it when it is new. */
  acquire(selector: GroupSelector, changes: ChangeSink<P>): PodGroup<P> {
    const key = groupSelectorKey(selector);
    const existing = this.groupsByKey.get(key);
    if (existing !== undefined) return existing;

    const group = new PodGroup<P>({ id: this.allocateId(key), key, selector });
    this.groupsByKey.set(key, group);
    changes.touchGroup(group);

    if (selector.namespace !== null) {
      let index = this.fixedScope.get(selector.namespace);
      if (index === undefined) {
        index = new LabelIndex();
        this.fixedScope.set(selector.namespace, index);
      }
      index.add(group);
      this.populate(group, [selector.namespace]);
    } else {
      const entry = this.acquireSelectorEntry(selector.namespaceSelector ?? []);
      entry.groups.add(group);
      this.populate(group, entry.namespaces);
    }
    return group;
  }

  /** Drops a group no policy uses from the registry and its indexes. */
  discard(group: PodGroup<P>): void {
    if (group.inUse || this.groupsByKey.get(group.key) !== group) return;
    this.groupsByKey.delete(group.key);
    this.keysById.delete(group.id);
    const { namespace, namespaceSelector } = group.selector;
    if (namespace !== null) {
      const index = this.fixedScope.get(namespace);
      index?.delete(group);
      if (index?.size === 0) this.fixedScope.delete(namespace);
      return;
    }
    const entryKey = requirementsKey(namespaceSelector ?? []);
    const entry = this.selectorEntries.get(entryKey);
    if (entry === undefined) return;
    entry.groups.delete(group);
    if (entry.groups.size > 0) return;
    this.selectorEntries.delete(entryKey);
    this.selectorIndex.delete(entry);
    for (const name of entry.namespaces) {
      const entries = this.entriesByNamespace.get(name);
      entries?.delete(entry);
      if (entries?.size === 0) this.entriesByNamespace.delete(name);
    }
  }

  private populate(group: PodGroup<P>, namespaces: Iterable<string>): void {
    for (const name of namespaces) {
      this.podsByNamespace.get(name)?.forEachMatch(group.requirements, (pod) => {
        group.addPod(pod);
      });
    }
    // A new group carries no change history: it reaches nodes whole, in an "added" event.
    group.startRecording();
  }

  private acquireSelectorEntry(requirements: readonly LabelRequirement[]): NamespaceSelectorEntry<P> {
    const key = requirementsKey(requirements);
    const existing = this.selectorEntries.get(key);
    if (existing !== undefined) return existing;

    const entry = new NamespaceSelectorEntry<P>(key, requirements);
    for (const name of this.namespaceCandidates(requirements)) {
      const labels = this.namespaceLabels.get(name);
      if (labels === undefined || !matchesRequirements(requirements, labels)) continue;
      entry.namespaces.add(name);
      let entries = this.entriesByNamespace.get(name);
      if (entries === undefined) {
        entries = new Set();
        this.entriesByNamespace.set(name, entries);
      }
      entries.add(entry);
    }
    this.selectorEntries.set(key, entry);
    this.selectorIndex.add(entry);
    return entry;
  }

  // Moves a namespace from the label slots of its old labels to those of its new ones.
  private indexNamespace(name: string, labels: Labels | null): void {
    const previous = this.namespaceLabels.get(name);
    for (const [key, value] of Object.entries(previous ?? {})) {
      const slot = `${key}\u0000${value}`;
      const names = this.namespacesByLabel.get(slot);
      names?.delete(name);
      if (names?.size === 0) this.namespacesByLabel.delete(slot);
    }
    for (const [key, value] of Object.entries(labels ?? {})) {
      const slot = `${key}\u0000${value}`;
      let names = this.namespacesByLabel.get(slot);
      if (names === undefined) {
        names = new Set();
        this.namespacesByLabel.set(slot, names);
      }
      names.add(name);
    }
  }

  // Namespaces that can match the requirements: those with a value of the first In
  // requirement, or every namespace when there is none.
  private namespaceCandidates(requirements: readonly LabelRequirement[]): Iterable<string> {
    const equality = requirements.find((requirement) => requirement.operator === "In");
    if (equality === undefined) return this.namespaceLabels.keys();
    const candidates: string[] = [];
    // A namespace has one value per key, so the value sets are disjoint.
    for (const value of equality.values) {
      for (const name of this.namespacesByLabel.get(`${equality.key}\u0000${value}`) ?? []) candidates.push(name);
    }
    return candidates;
  }

  // The id is the selector hash; on the unlikely 64-bit collision a suffix keeps ids unique.
  private allocateId(key: string): GroupId {
    const base = groupIdOf(key);
    let id = base;
    for (let suffix = 1; this.keysById.has(id); suffix += 1) {
      id = `${base}-${suffix}`;
    }
    this.keysById.set(id, key);
    return id;
  }

  private forEachGroupOf(pod: PodFacts, visit: (group: PodGroup<P>) => void): void {
    if (!pod.selectable) return;
    this.fixedScope.get(pod.namespace)?.forEachMatch(pod.labels, visit);
    for (const entry of this.entriesByNamespace.get(pod.namespace) ?? []) {
      entry.groups.forEachMatch(pod.labels, visit);
    }
  }

  private addToGroup(group: PodGroup<P>, pod: PodFacts, changes: ChangeSink<P>): void {
    changes.touchGroup(group);
    if (group.addPod(pod)) {
      group.appliedPolicies.forEach((policy) => changes.touchPolicy(policy));
    }
  }

  private removeFromGroup(group: PodGroup<P>, podKey: string, changes: ChangeSink<P>): void {
    changes.touchGroup(group);
    if (group.removePod(podKey)) {
      group.appliedPolicies.forEach((policy) => changes.touchPolicy(policy));
    }
  }
}
