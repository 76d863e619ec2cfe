// LabelIndex returns exactly the items whose selector matches, in its small (list) mode and
// its indexed mode, checked against a direct evaluation of every selector.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { LabelIndex } from "../../../controller/networkpolicy/label-index.ts";
import type { LabelRequirement } from "../../../controller/networkpolicy/types.ts";

interface Item {
  name: string;
  requirements: LabelRequirement[];
}

const requirementArb: fc.Arbitrary<LabelRequirement> = fc.oneof(
  fc.record({
    key: fc.constantFrom("app", "tier"),
    operator: fc.constantFrom<"In" | "NotIn">("In", "NotIn"),
    values: fc.uniqueArray(fc.constantFrom("a", "b", "c"), { minLength: 1 }).map((v) => v.sort()),
  }),
  fc.record({
    key: fc.constantFrom("app", "tier"),
    operator: fc.constantFrom<"Exists" | "DoesNotExist">("Exists", "DoesNotExist"),
    values: fc.constant<string[]>([]),
  }),
);

const labelsArb = fc.record({ app: fc.constantFrom("a", "b", "c"), tier: fc.constantFrom("a", "b") }, { requiredKeys: [] });

// Written from the Kubernetes label selector rules, independently of selector.ts.
function expectedMatch(requirements: LabelRequirement[], labels: Record<string, string>): boolean {
  return requirements.every((r) => {
    const value = labels[r.key];
    if (r.operator === "In") return value !== undefined && r.values.includes(value);
    if (r.operator === "NotIn") return value === undefined || !r.values.includes(value);
    if (r.operator === "Exists") return value !== undefined;
    return value === undefined;
  });
}

describe("LabelIndex", () => {
  it("matches like direct evaluation", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(requirementArb, { maxLength: 2 }), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.array(labelsArb, { minLength: 1, maxLength: 5 }),
        (selectors, deletions, labelSets) => {
          const index = new LabelIndex<Item>();
          const live = new Map<string, Item>();
          selectors.forEach((requirements, i) => {
            const item = { name: `s${i}`, requirements };
            index.add(item);
            live.set(item.name, item);
          });
          for (const d of deletions) {
            const victim = [...live.values()][d % Math.max(live.size, 1)];
            if (victim === undefined) continue;
            index.delete(victim);
            live.delete(victim.name);
          }
          assert.equal(index.size, live.size);
          for (const labels of labelSets) {
            const found: string[] = [];
            index.forEachMatch(labels, (item) => found.push(item.name));
            const expected = [...live.values()].filter((item) => expectedMatch(item.requirements, labels)).map((item) => item.name);
            assert.deepEqual(found.sort(), expected.sort());
          }
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});
