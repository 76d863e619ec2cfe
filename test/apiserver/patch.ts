/**
 * The three PATCH content types of kube-apiserver: JSON merge patch
 * (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.
 * Each function is pure: it returns a new document and leaves its inputs alone.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export const PATCH_ERROR_CODES = {
  malformed: "PATCH_MALFORMED",
  pathMissing: "PATCH_PATH_MISSING",
  testFailed: "PATCH_TEST_FAILED",
} as const;
export type PatchErrorCode = (typeof PATCH_ERROR_CODES)[keyof typeof PATCH_ERROR_CODES];

/** A patch that could not be applied. `code` separates a malformed patch from one that does not fit the document. */
export class PatchError extends Error {
  readonly code: PatchErrorCode;
  constructor(code: PatchErrorCode, message: string) {
    super(message);
    this.name = "PatchError";
    this.code = code;
  }
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function clone<T extends JsonValue>(value: T): T {
  return structuredClone(value);
}

/** Applies an RFC 7386 JSON merge patch: objects merge recursively, null deletes, anything else replaces. */
export function applyMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (!isJsonObject(patch)) {
    return clone(patch);
  }
  const result: JsonObject = isJsonObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else {
      result[key] = applyMergePatch(result[key], value);
    }
  }
  return result;
}

// ---- RFC 6902 JSON patch ----

/** Splits an RFC 6901 JSON pointer into unescaped reference tokens. */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === "") {
    return [];
  }
  if (!pointer.startsWith("/")) {
    throw new PatchError(PATCH_ERROR_CODES.malformed, `invalid JSON pointer "${pointer}": a non-empty pointer starts with "/"`);
  }
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function arrayIndex(token: string, length: number, options: { allowEnd: boolean; pointer: string }): number {
  if (options.allowEnd && token === "-") {
    return length;
  }
  if (!/^(0|[1-9][0-9]*)$/.test(token)) {
    throw new PatchError(PATCH_ERROR_CODES.malformed, `invalid array index "${token}" in path "${options.pointer}"`);
  }
  const index = Number(token);
  const max = options.allowEnd ? length : length - 1;
  if (index > max) {
    throw new PatchError(PATCH_ERROR_CODES.pathMissing, `array index ${index} is out of range (length ${length}) in path "${options.pointer}"`);
  }
  return index;
}

/** Walks to the container of the last token; the caller reads or writes that token. */
function resolveParent(document: JsonValue, pointer: string): { parent: JsonValue; last: string } {
  const tokens = parseJsonPointer(pointer);
  const last = tokens.pop();
  if (last === undefined) {
    throw new PatchError(PATCH_ERROR_CODES.malformed, `path "${pointer}" points at the document root, which this operation cannot address`);
  }
  let current: JsonValue = document;
  for (const token of tokens) {
    if (Array.isArray(current)) {
      current = current[arrayIndex(token, current.length, { allowEnd: false, pointer })] ?? null;
    } else if (isJsonObject(current) && Object.hasOwn(current, token)) {
      current = current[token] ?? null;
    } else {
      throw new PatchError(PATCH_ERROR_CODES.pathMissing, `path "${pointer}" does not exist: "${token}" is missing`);
    }
  }
  return { parent: current, last };
}

function readPointer(document: JsonValue, pointer: string): JsonValue {
  if (pointer === "") {
    return document;
  }
  const { parent, last } = resolveParent(document, pointer);
  if (Array.isArray(parent)) {
    return parent[arrayIndex(last, parent.length, { allowEnd: false, pointer })] ?? null;
  }
  if (isJsonObject(parent) && Object.hasOwn(parent, last)) {
    return parent[last] ?? null;
  }
  throw new PatchError(PATCH_ERROR_CODES.pathMissing, `path "${pointer}" does not exist`);
}

function addAt(document: JsonValue, pointer: string, value: JsonValue): JsonValue {
  if (pointer === "") {
    return value;
  }
  const { parent, last } = resolveParent(document, pointer);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(last, parent.length, { allowEnd: true, pointer }), 0, value);
  } else if (isJsonObject(parent)) {
    parent[last] = value;
  } else {
    throw new PatchError(PATCH_ERROR_CODES.pathMissing, `path "${pointer}" does not exist: its parent is not an object or array`);
  }
  return document;
}

function removeAt(document: JsonValue, pointer: string): JsonValue {
  const { parent, last } = resolveParent(document, pointer);
  if (Array.isArray(parent)) {
    parent.splice(arrayIndex(last, parent.length, { allowEnd: false, pointer }), 1);
  } else if (isJsonObject(parent) && Object.hasOwn(parent, last)) {
    delete parent[last];
  } else {
    throw new PatchError(PATCH_ERROR_CODES.pathMissing, `path "${pointer}" does not exist, so it cannot be removed`);
  }
  return document;
}

function requireString(operation: JsonObject, field: string, index: number): string {
  const value = operation[field];
  if (typeof value !== "string") {
    throw new PatchError(PATCH_ERROR_CODES.malformed, `JSON patch operation ${index} needs a string "${field}"`);
  }
  return value;
}

function requireValue(operation: JsonObject, index: number): JsonValue {
  if (!Object.hasOwn(operation, "value")) {
    throw new PatchError(PATCH_ERROR_CODES.malformed, `JSON patch operation ${index} (${String(operation.op)}) needs a "value"`);
  }
  return clone(operation.value ?? null);
}

function applyOperation(document: JsonValue, operation: JsonObject, index: number): JsonValue {
  const op = requireString(operation, "op", index);
  const path = requireString(operation, "path", index);
  switch (op) {
    case "add":
      return addAt(document, path, requireValue(operation, index));
    case "remove":
      return removeAt(document, path);
    case "replace":
      readPointer(document, path);
      return addAt(removeAt(document, path), path, requireValue(operation, index));
    case "move": {
      const from = requireString(operation, "from", index);
      const value = readPointer(document, from);
      return addAt(removeAt(document, from), path, value);
    }
    case "copy": {
      const from = requireString(operation, "from", index);
      return addAt(document, path, clone(readPointer(document, from)));
    }
    case "test": {
      const expected = requireValue(operation, index);
      if (!jsonEqual(readPointer(document, path), expected)) {
        throw new PatchError(PATCH_ERROR_CODES.testFailed, `JSON patch test operation ${index} failed: the value at "${path}" differs from ${JSON.stringify(expected)}`);
      }
      return document;
    }
    default:
      throw new PatchError(PATCH_ERROR_CODES.malformed, `JSON patch operation ${index} has unknown op "${op}": use add, remove, replace, move, copy or test`);
  }
}

/** Applies an RFC 6902 JSON patch; all-or-nothing, because it works on a copy. */
export function applyJsonPatch(target: JsonValue, patch: JsonValue): JsonValue {
  if (!Array.isArray(patch)) {
    throw new PatchError(PATCH_ERROR_CODES.malformed, "a JSON patch must be an array of operations");
  }
  let document = clone(target);
  patch.forEach((operation, index) => {
    if (!isJsonObject(operation)) {
      throw new PatchError(PATCH_ERROR_CODES.malformed, `JSON patch operation ${index} is not an object`);
    }
    document = applyOperation(document, operation, index);
  });
  return document;
}

/** Structural equality of JSON values; object key order does not matter. */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
  }
  return false;
}
