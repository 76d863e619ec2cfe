/**
 * Label and field selectors with the syntax and matching rules of
 * k8s.io/apimachinery (labels.Parse and fields.ParseSelector).
 */

import { badRequest } from "./status.ts";

export type LabelOperator = "exists" | "doesNotExist" | "=" | "!=" | "in" | "notin" | "gt" | "lt";

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

/** A parsed label selector; an empty list matches everything. */
export type LabelSelector = LabelRequirement[];

// Label key: optional DNS subdomain prefix and "/", then a name of 1-63
// alphanumerics, '-', '_' or '.', starting and ending alphanumeric.
export const LABEL_KEY_PATTERN = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export const LABEL_VALUE_PATTERN = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Splits on commas that are not inside parentheses. */
function splitRequirements(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "(") depth += 1;
    if (ch === ")") depth -= 1;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function checkKey(key: string, selector: string): string {
  if (!LABEL_KEY_PATTERN.test(key)) {
    throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${selector}": a key is an optional DNS prefix and "/" then 1-63 alphanumerics, '-', '_' or '.'`);
  }
  return key;
}

function checkValue(value: string, selector: string): string {
  if (!LABEL_VALUE_PATTERN.test(value)) {
    throw badRequest(`unable to parse requirement: invalid label value "${value}" in selector "${selector}": a value is at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric`);
  }
  return value;
}

function parseSetRequirement(part: string, selector: string): LabelRequirement | undefined {
  const match = /^\s*(\S+)\s+(in|notin)\s*\((.*)\)\s*$/.exec(part);
  if (match === null) {
    return undefined;
  }
  const [, key = "", operator = "", list = ""] = match;
  const values = list.split(",").map((value) => checkValue(value.trim(), selector));
  return { key: checkKey(key, selector), operator: operator === "in" ? "in" : "notin", values };
}

function parseRequirement(part: string, selector: string): LabelRequirement {
  const setRequirement = parseSetRequirement(part, selector);
  if (setRequirement !== undefined) {
    return setRequirement;
  }
  const trimmed = part.trim();
  const binary = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/.exec(trimmed);
  if (binary !== null) {
    const [, key = "", op = "", rawValue = ""] = binary;
    const value = rawValue.trim();
    if (op === ">" || op === "<") {
      if (!/^-?\d+$/.test(value)) {
        throw badRequest(`unable to parse requirement: for '${op}' in selector "${selector}", the value must be an integer, got "${value}"`);
      }
      return { key: checkKey(key, selector), operator: op === ">" ? "gt" : "lt", values: [value] };
    }
    return { key: checkKey(key, selector), operator: op === "!=" ? "!=" : "=", values: [checkValue(value, selector)] };
  }
  if (trimmed.startsWith("!")) {
    return { key: checkKey(trimmed.slice(1).trim(), selector), operator: "doesNotExist", values: [] };
  }
  return { key: checkKey(trimmed, selector), operator: "exists", values: [] };
}

/**
 * Parses a label selector such as `app=web,tier in (a,b),!canary`.
 * Throws a 400 ApiStatusError naming the bad requirement.
 */
export function parseLabelSelector(text: string | null | undefined): LabelSelector {
  if (text == null || text.trim() === "") {
    return [];
  }
  return splitRequirements(text).map((part) => {
    if (part.trim() === "") {
      throw badRequest(`unable to parse requirement: empty requirement in selector "${text}"`);
    }
    return parseRequirement(part, text);
  });
}

function matchesRequirement(requirement: LabelRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  const value = labels[requirement.key];
  switch (requirement.operator) {
    case "exists":
      return has;
    case "doesNotExist":
      return !has;
    case "=":
    case "in":
      return has && requirement.values.includes(value ?? "");
    case "!=":
    case "notin":
      return !has || !requirement.values.includes(value ?? "");
    case "gt":
    case "lt": {
      if (!has || !/^-?\d+$/.test(value ?? "")) {
        return false;
      }
      const actual = Number(value);
      const bound = Number(requirement.values[0]);
      return requirement.operator === "gt" ? actual > bound : actual < bound;
    }
  }
}

/** Returns whether every requirement holds for `labels`; a missing label counts as absent. */
export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const actual = labels ?? {};
  return selector.every((requirement) => matchesRequirement(requirement, actual));
}

export interface FieldRequirement {
  field: string;
  operator: "=" | "!=";
  value: string;
}

export type FieldSelector = FieldRequirement[];

/** Splits on a separator that is not escaped with a backslash, then unescapes `\\`, `\,` and `\=`. */
function splitEscaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i] ?? "";
    if (ch === "\\" && i + 1 < text.length) {
      current += ch + (text[i + 1] ?? "");
      i += 1;
    } else if (ch === separator) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function unescapeFieldValue(value: string): string {
  return value.replace(/\\(.)/g, "$1");
}

/**
 * Parses a field selector such as `spec.nodeName=n1,status.phase!=Failed`.
 * `supportedFields` lists the fields the resource type can be filtered on;
 * any other field is rejected with 400 as the real server does.
 */
export function parseFieldSelector(text: string | null | undefined, supportedFields: readonly string[]): FieldSelector {
  if (text == null || text.trim() === "") {
    return [];
  }
  return splitEscaped(text, ",").map((part) => {
    const match = /^([^=!]+)(==|=|!=)(.*)$/s.exec(part.trim());
    if (match === null) {
      throw badRequest(`invalid field selector "${text}": each requirement is field=value, field==value or field!=value`);
    }
    const [, field = "", op = "", value = ""] = match;
    if (!supportedFields.includes(field)) {
      throw badRequest(`field label not supported: ${field} (supported: ${supportedFields.join(", ")})`);
    }
    return { field, operator: op === "!=" ? "!=" : "=", value: unescapeFieldValue(value) };
  });
}

/** Reads a dotted field path such as `spec.nodeName`; absent fields read as "". */
export function readFieldPath(object: unknown, path: string): string {
  let current: unknown = object;
  for (const segment of path.split(".")) {
    if (current === null || typeof current !== "object") {
      return "";
    }
    current = (current as Record<string, unknown>)[segment];
  }
  if (current === undefined || current === null) {
    return "";
  }
  return typeof current === "string" ? current : JSON.stringify(current);
}

export function matchesFields(selector: FieldSelector, object: unknown): boolean {
  return selector.every((requirement) => {
    const actual = readFieldPath(object, requirement.field);
    return requirement.operator === "=" ? actual === requirement.value : actual !== requirement.value;
  });
}

/** Field selector keys per kind, following the field label conversion functions of kube-apiserver 1.32. */
export function supportedFieldsFor(kind: string): string[] {
  const common = ["metadata.name", "metadata.namespace"];
  switch (kind) {
    case "Pod":
      return [...common, "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"];
    case "Node":
      return [...common, "spec.unschedulable"];
    case "Namespace":
      return [...common, "status.phase"];
    case "Event":
      return [...common, "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "type"];
    default:
      return common;
  }
}
