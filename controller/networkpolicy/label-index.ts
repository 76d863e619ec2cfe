// An index from labels to the selectors that may match them, so a pod or namespace event
// evaluates only the selectors that can possibly match instead of every selector.
import { matchesRequirements } from "./selector.ts";
import type { Labels } from "./selector.ts";
import type { LabelRequirement } from "./types.ts";

const smallIndexSize = 16;

export interface Selecting {
  readonly requirements: readonly LabelRequirement[];
}

/**
 * Items indexed by one equality of their requirements. A selector with an `In` requirement
 * can only match labels that contain one of its values, so the item is filed under each
 * `key=value` of its first `In` requirement. Selectors without one (empty, Exists, NotIn,
 * DoesNotExist only) are kept in a list that every lookup returns.
 */
export class LabelIndex<T extends Selecting> {
  // Below smallIndexSize items the index is a plain list that every lookup scans: most
  // namespaces have a handful of selectors, and the maps would cost more than the scan.
  private small: T[] | null = [];
  private readonly byLabel = new Map<string, Set<T>>();
  private readonly unindexed = new Set<T>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(item: T): void {
    if (this.small !== null) {
      this.small.push(item);
      this.count += 1;
      if (this.small.length > smallIndexSize) {
        const items = this.small;
        this.small = null;
        this.count = 0;
        for (const existing of items) this.addIndexed(existing);
      }
      return;
    }
    this.addIndexed(item);
  }

  private addIndexed(item: T): void {
    const slots = indexSlots(item.requirements);
    if (slots === null) {
      this.unindexed.add(item);
    } else {
      for (const slot of slots) {
        let items = this.byLabel.get(slot);
        if (items === undefined) {
          items = new Set();
          this.byLabel.set(slot, items);
        }
        items.add(item);
      }
    }
    this.count += 1;
  }

  delete(item: T): void {
    if (this.small !== null) {
      const index = this.small.indexOf(item);
      if (index >= 0) {
        this.small.splice(index, 1);
        this.count -= 1;
      }
      return;
    }
    const slots = indexSlots(item.requirements);
    if (slots === null) {
      this.unindexed.delete(item);
    } else {
      for (const slot of slots) {
        const items = this.byLabel.get(slot);
        items?.delete(item);
        if (items?.size === 0) this.byLabel.delete(slot);
      }
    }
    this.count -= 1;
  }

  /** Calls `visit` once for every item whose requirements the labels satisfy; `visit` must
   * not add to or delete from this index. */
  forEachMatch(labels: Labels, visit: (item: T) => void): void {
    if (this.small !== null) {
      for (const item of this.small) {
        if (matchesRequirements(item.requirements, labels)) visit(item);
      }
      return;
    }
    for (const item of this.unindexed) {
      if (matchesRequirements(item.requirements, labels)) visit(item);
    }
    for (const [key, value] of Object.entries(labels)) {
      const items = this.byLabel.get(slotOf(key, value));
      if (items === undefined) continue;
      for (const item of items) {
        if (matchesRequirements(item.requirements, labels)) visit(item);
      }
    }
  }

  /** Calls `visit` for every item. */
  forEach(visit: (item: T) => void): void {
    if (this.small !== null) {
      for (const item of this.small) visit(item);
      return;
    }
    for (const item of this.unindexed) visit(item);
    const seen = new Set<T>();
    for (const items of this.byLabel.values()) {
      for (const item of items) {
        if (seen.has(item)) continue;
        seen.add(item);
        visit(item);
      }
    }
  }
}

function slotOf(key: string, value: string): string {
  return `${key}\u0000${value}`;
}

function indexSlots(requirements: readonly LabelRequirement[]): string[] | null {
  const equality = requirements.find((requirement) => requirement.operator === "In");
  if (equality === undefined) return null;
  return equality.values.map((value) => slotOf(equality.key, value));
}
