// Allocation of the 32-bit ids that name conjunctions and drop flows. The same id is the
// conj_id of a rule's conjunction, the value written to the rule-id register and ct_label,
// and the owner part of the cookie, so one number finds a rule in dump-flows, conntrack and
// flow statistics.
import { PolicyError, PolicyErrorCode } from "./errors.ts";

/** The largest id; 0 is never handed out because a zero rule-id register means "no rule". */
export const MAX_ID = 0xffff_ffff;

/**
 * Hands out the lowest free id from 1 upward and takes ids back. Released ids are reused
 * before new ones, so the ids in use stay dense after any number of add/delete cycles.
 * Not safe to share between concurrent callers without the caller's own ordering.
 */
export class IdPool {
  readonly #inUse = new Set<number>();
  /** Released ids, kept sorted in decreasing order so pop() returns the lowest. */
  #released: number[] = [];
  #next = 1;
  readonly #max: number;

  /** `max` lowers the limit for tests of exhaustion; default MAX_ID. */
  constructor(options: { max?: number } = {}) {
    this.#max = options.max ?? MAX_ID;
  }

  /** Returns a free id and marks it in use. Throws PolicyError when all ids are in use. */
  allocate(): number {
    const reused = this.#released.pop();
    const id = reused ?? this.#next;
    if (reused === undefined) {
      if (id > this.#max) {
        throw new PolicyError(PolicyErrorCode.idsExhausted, `all ${this.#max} conjunction ids are in use: remove policies or rules before adding more`);
      }
      this.#next += 1;
    }
    this.#inUse.add(id);
    return id;
  }

  /** Returns `id` to the pool. Throws PolicyError when the id is not in use. */
  release(id: number): void {
    if (!this.#inUse.delete(id)) {
      throw new PolicyError(PolicyErrorCode.idNotAllocated, `conjunction id ${id} is not in use, so it cannot be released`);
    }
    this.#released.push(id);
    this.#released.sort((a, b) => b - a);
  }

  has(id: number): boolean {
    return this.#inUse.has(id);
  }

  /** Ids in use, in increasing order. */
  inUse(): number[] {
    return [...this.#inUse].sort((a, b) => a - b);
  }

  /** Returns the highest id ever handed out, or 0 before the first allocation. */
  highWater(): number {
    return this.#next - 1;
  }
}
