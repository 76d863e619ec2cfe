/**
 * Strategic merge patch, the PATCH type kubectl uses for built-in kinds
 * (`kubectl apply` and `kubectl patch --type strategic`).
 *
 * NOTE: simplified. A real server reads the patch strategy and merge key
 * of every list from the Go struct tags of each kind. Here a fixed table
 * keyed by field name (below) lists the well-known merge keys. Every other
 * list is replaced as a whole, which is also the real default for lists
 * without a strategy. Directives handled: `$patch` (replace, delete, merge),
 * `$retainKeys`, `$setElementOrder/<list>` (reorders merged lists) and
 * `$deleteFromPrimitiveList/<list>`. Multi-key merges (such as Service
 * ports keyed by port and protocol) use the first key only.
 */

import { PATCH_ERROR_CODES, PatchError, isJsonObject, jsonEqual } from "./patch.ts";
import type { JsonObject, JsonValue } from "./patch.ts";

/** How a list field merges: by a key in each element, or as a set of primitives. */
type ListStrategy = { mergeKey: string } | { primitiveSet: true };

/** Finds the strategy of the list at `path` (field names from the root, indices left out) of an object of `kind`. */
function listStrategy(kind: string, path: readonly string[]): ListStrategy | undefined {
  const field = path[path.length - 1] ?? "";
  const parent = path[path.length - 2] ?? "";
  const containerLists = ["containers", "initContainers", "ephemeralContainers"];
  switch (field) {
    case "containers":
    case "initContainers":
    case "ephemeralContainers":
    case "env":
    case "volumes":
    case "imagePullSecrets":
    case "resourceClaims":
      return { mergeKey: "name" };
    case "ports":
      if (containerLists.includes(parent)) return { mergeKey: "containerPort" };
      if (kind === "Service" && path.length === 2 && parent === "spec") return { mergeKey: "port" };
      return undefined;
    case "volumeMounts":
      return { mergeKey: "mountPath" };
    case "volumeDevices":
      return { mergeKey: "devicePath" };
    case "hostAliases":
      return { mergeKey: "ip" };
    case "conditions":
    case "addresses":
      return parent === "status" ? { mergeKey: "type" } : undefined;
    case "readinessGates":
      return { mergeKey: "conditionType" };
    case "ownerReferences":
      return parent === "metadata" ? { mergeKey: "uid" } : undefined;
    case "finalizers":
      return parent === "metadata" ? { primitiveSet: true } : undefined;
    default:
      return undefined;
  }
}

const SET_ORDER_PREFIX = "$setElementOrder/";
const DELETE_FROM_PRIMITIVE_PREFIX = "$deleteFromPrimitiveList/";

function elementKey(element: JsonValue | undefined, mergeKey: string): string | undefined {
  if (!isJsonObject(element) || !Object.hasOwn(element, mergeKey)) {
    return undefined;
  }
  return JSON.stringify(element[mergeKey]);
}

function mergeKeyedList(options: { original: JsonValue[]; patch: JsonValue[]; mergeKey: string; kind: string; path: readonly string[] }): JsonValue[] {
  const { mergeKey } = options;
  if (options.patch.some((item) => isJsonObject(item) && item.$patch === "replace")) {
    return options.patch.filter((item) => !(isJsonObject(item) && item.$patch === "replace")).map((item) => stripDirectives(item));
  }
  const result = [...options.original];
  for (const item of options.patch) {
    const key = elementKey(item, mergeKey);
    if (key === undefined || !isJsonObject(item)) {
      throw new PatchError(PATCH_ERROR_CODES.malformed, `strategic merge patch element of list "${options.path.join(".")}" has no merge key "${mergeKey}"`);
    }
    const index = result.findIndex((existing) => elementKey(existing, mergeKey) === key);
    if (item.$patch === "delete") {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (index >= 0) {
      result[index] = mergeObject({ original: result[index], patch: item, kind: options.kind, path: options.path });
    } else {
      result.push(stripDirectives(item));
    }
  }
  return result;
}

function mergePrimitiveSet(original: JsonValue[], patch: JsonValue[]): JsonValue[] {
  const result = [...original];
  for (const value of patch) {
    if (!result.some((existing) => jsonEqual(existing, value))) {
      result.push(value);
    }
  }
  return result;
}

/** Orders `list` as `order` lists it (by merge key, or by value for primitives); elements not named keep their place at the end. */
function applyElementOrder(list: JsonValue[], order: JsonValue[], strategy: ListStrategy): JsonValue[] {
  const keyOf = (value: JsonValue | undefined): string | undefined =>
    "mergeKey" in strategy ? elementKey(value, strategy.mergeKey) : JSON.stringify(value);
  const orderKeys = order.map((value) => keyOf(value));
  const position = (value: JsonValue): number => {
    const index = orderKeys.indexOf(keyOf(value));
    return index < 0 ? Number.MAX_SAFE_INTEGER : index;
  };
  return [...list].sort((a, b) => position(a) - position(b));
}

function stripDirectives(value: JsonValue): JsonValue {
  if (Array.isArray(value)) {
    return value.map((item) => stripDirectives(item));
  }
  if (!isJsonObject(value)) {
    return value;
  }
  const result: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (key.startsWith("$") || item === null) continue;
    result[key] = stripDirectives(item);
  }
  return result;
}

function mergeList(options: { original: JsonValue | undefined; patch: JsonValue[]; kind: string; path: readonly string[] }): JsonValue[] {
  const strategy = listStrategy(options.kind, options.path);
  const original = Array.isArray(options.original) ? options.original : [];
  if (strategy === undefined) {
    return options.patch.map((item) => stripDirectives(item));
  }
  if ("mergeKey" in strategy) {
    return mergeKeyedList({ original, patch: options.patch, mergeKey: strategy.mergeKey, kind: options.kind, path: options.path });
  }
  return mergePrimitiveSet(original, options.patch);
}

function applyListDirectives(result: JsonObject, patch: JsonObject, options: { kind: string; path: readonly string[] }): void {
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(DELETE_FROM_PRIMITIVE_PREFIX) && Array.isArray(value)) {
      const field = key.slice(DELETE_FROM_PRIMITIVE_PREFIX.length);
      const current = result[field];
      if (Array.isArray(current)) {
        result[field] = current.filter((item) => !value.some((gone) => jsonEqual(gone, item)));
      }
    }
  }
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith(SET_ORDER_PREFIX) && Array.isArray(value)) {
      const field = key.slice(SET_ORDER_PREFIX.length);
      const current = result[field];
      const strategy = listStrategy(options.kind, [...options.path, field]);
      if (Array.isArray(current) && strategy !== undefined) {
        result[field] = applyElementOrder(current, value, strategy);
      }
    }
  }
}

function mergeObject(options: { original: JsonValue | undefined; patch: JsonObject; kind: string; path: readonly string[] }): JsonValue {
  const { patch, kind, path } = options;
  const directive = patch.$patch;
  if (directive === "replace") {
    return stripDirectives(patch);
  }
  if (directive !== undefined && directive !== "merge" && directive !== "delete") {
    throw new PatchError(PATCH_ERROR_CODES.malformed, `unknown $patch directive ${JSON.stringify(directive)} at "${path.join(".")}": use replace, merge or delete`);
  }
  const result: JsonObject = isJsonObject(options.original) ? { ...options.original } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith("$")) continue;
    if (value === null) {
      delete result[key];
    } else if (isJsonObject(value)) {
      if (value.$patch === "delete") {
        delete result[key];
      } else {
        result[key] = mergeObject({ original: result[key], patch: value, kind, path: [...path, key] });
      }
    } else if (Array.isArray(value)) {
      result[key] = mergeList({ original: result[key], patch: value, kind, path: [...path, key] });
    } else {
      result[key] = value;
    }
  }
  applyListDirectives(result, patch, { kind, path });
  const retainKeys = patch.$retainKeys;
  if (Array.isArray(retainKeys)) {
    for (const key of Object.keys(result)) {
      if (!retainKeys.includes(key)) delete result[key];
    }
  }
  return result;
}

/**
 * Applies a strategic merge patch to `original`, an object of `kind`.
 * Throws PatchError for a malformed patch (not an object, unknown directive,
 * list element without its merge key).
 */
export function applyStrategicMergePatch(original: JsonValue, patch: JsonValue, kind: string): JsonValue {
  if (!isJsonObject(patch)) {
    throw new PatchError(PATCH_ERROR_CODES.malformed, "a strategic merge patch must be a JSON object");
  }
  return mergeObject({ original: structuredClone(original), patch, kind, path: [] });
}
