// Label selectors in canonical form: normalisation from the Kubernetes shape, matching
// against a label map, and the canonical key and id of a group selector.
import { hash } from "node:crypto";
import type { V1LabelSelector, V1LabelSelectorRequirement } from "@kubernetes/client-node";
import { sortStringsInPlace } from "./slice.ts";
import type { GroupId, GroupSelector, LabelRequirement } from "./types.ts";

export type Labels = Readonly<Record<string, string>>;

const operators: ReadonlySet<string> = new Set(["In", "NotIn", "Exists", "DoesNotExist"]);

/** A selector that Kubernetes validation would reject; `field` is relative to the selector. */
export class InvalidSelectorError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.name = "InvalidSelectorError";
    this.field = field;
  }
}

/**
 * Converts a Kubernetes label selector to sorted requirements. An absent selector and `{}`
 * both give `[]`, which matches every label set. Throws InvalidSelectorError for an unknown
 * operator, for In/NotIn without values and for Exists/DoesNotExist with values.
 */
export function normalizeSelector(selector: V1LabelSelector | undefined): LabelRequirement[] {
  const requirements: LabelRequirement[] = [];
  const matchLabels = selector?.matchLabels;
  if (matchLabels !== undefined) {
    for (const key of Object.keys(matchLabels)) {
      requirements.push({ key, operator: "In", values: [matchLabels[key] as string] });
    }
  }

  const expressions = selector?.matchExpressions ?? [];
  for (let index = 0; index < expressions.length; index += 1) {
    const expression = expressions[index] as V1LabelSelectorRequirement;
    const field = `matchExpressions[${index}]`;
    if (!operators.has(expression.operator)) {
      throw new InvalidSelectorError(
        `${field}.operator`,
        `unknown operator ${JSON.stringify(expression.operator)}; use In, NotIn, Exists or DoesNotExist`,
      );
    }
    const operator = expression.operator as LabelRequirement["operator"];
    const listed = expression.values ?? [];
    const values = sortStringsInPlace(listed.length < 2 ? [...listed] : [...new Set(listed)]);
    const takesValues = operator === "In" || operator === "NotIn";
    if (takesValues && values.length === 0) {
      throw new InvalidSelectorError(`${field}.values`, `operator ${operator} needs at least one value`);
    }
    if (!takesValues && values.length > 0) {
      throw new InvalidSelectorError(`${field}.values`, `operator ${operator} takes no values`);
    }
    requirements.push({ key: expression.key, operator, values });
  }

  return dedupeAndSort(requirements);
}

function requirementKey(requirement: LabelRequirement): string {
  return JSON.stringify([requirement.key, requirement.operator, requirement.values]);
}

// Sorts by the JSON of each requirement and drops repeated ones. The order is that of the
// JSON, not of the key, because group ids are hashes of it and must not change.
function dedupeAndSort(requirements: LabelRequirement[]): LabelRequirement[] {
  // The result is kept in the group selector, so it is built at its exact length: an array
  // grown by push keeps spare capacity.
  if (requirements.length < 2) return requirements.slice();
  const keys = requirements.map(requirementKey);
  const order = sortStringsInPlace([...keys]).filter((key, index, sorted) => index === 0 || key !== sorted[index - 1]);
  return order.map((key) => requirements[keys.indexOf(key)] as LabelRequirement);
}

/**
 * Returns whether labels satisfy every requirement, with Kubernetes semantics: NotIn and
 * DoesNotExist match a label set without the key.
 */
export function matchesRequirements(requirements: readonly LabelRequirement[], labels: Labels): boolean {
  for (const requirement of requirements) {
    const value = Object.hasOwn(labels, requirement.key) ? labels[requirement.key] : undefined;
    switch (requirement.operator) {
      case "In":
        if (value === undefined || !requirement.values.includes(value)) return false;
        break;
      case "NotIn":
        if (value !== undefined && requirement.values.includes(value)) return false;
        break;
      case "Exists":
        if (value === undefined) return false;
        break;
      case "DoesNotExist":
        if (value !== undefined) return false;
        break;
    }
  }
  return true;
}

/** Returns the canonical key of a group selector: the JSON of its normalised form. */
export function groupSelectorKey(selector: GroupSelector): string {
  return JSON.stringify([selector.namespace, selector.namespaceSelector, selector.podSelector]);
}

/** Returns the canonical key of a namespace selector, for sharing its namespace matches. */
export function requirementsKey(requirements: readonly LabelRequirement[]): string {
  return JSON.stringify(requirements);
}

/** Returns the group id of a canonical key: 16 hex digits of its SHA-256. */
export function groupIdOf(key: string): GroupId {
  // Hex of the first 8 bytes only: slicing a 64-digit hex string would keep the whole
  // string alive behind a 16-digit slice, and comparing slices is slower when ids are sorted.
  return hash("sha256", key, "buffer").toString("hex", 0, 8);
}
