// Label selectors in canonical form: normalisation from the Kubernetes shape, matching
// against a label map, and the canonical key and id of a group selector.
import { hash } from "node:crypto";
import type { V1LabelSelector } from "@kubernetes/client-node";
import { compareStrings } from "./slice.ts";
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
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) {
    requirements.push({ key, operator: "In", values: [value] });
  }

  (selector?.matchExpressions ?? []).forEach((expression, index) => {
    const field = `matchExpressions[${index}]`;
    if (!operators.has(expression.operator)) {
      throw new InvalidSelectorError(
        `${field}.operator`,
        `unknown operator ${JSON.stringify(expression.operator)}; use In, NotIn, Exists or DoesNotExist`,
      );
    }
    const operator = expression.operator as LabelRequirement["operator"];
    const values = [...new Set(expression.values ?? [])].sort();
    const takesValues = operator === "In" || operator === "NotIn";
    if (takesValues && values.length === 0) {
      throw new InvalidSelectorError(`${field}.values`, `operator ${operator} needs at least one value`);
    }
    if (!takesValues && values.length > 0) {
      throw new InvalidSelectorError(`${field}.values`, `operator ${operator} takes no values`);
    }
    requirements.push({ key: expression.key, operator, values });
  });

  return dedupeAndSort(requirements);
}

function requirementKey(requirement: LabelRequirement): string {
  return JSON.stringify([requirement.key, requirement.operator, requirement.values]);
}

function dedupeAndSort(requirements: LabelRequirement[]): LabelRequirement[] {
  const unique = new Map<string, LabelRequirement>();
  for (const requirement of requirements) {
    unique.set(requirementKey(requirement), requirement);
  }
  const keys = [...unique.keys()].sort(compareStrings);
  return keys.map((key) => unique.get(key)).filter((requirement) => requirement !== undefined);
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
  return hash("sha256", key, "hex").slice(0, 16);
}
