// Operations on decoded values that the replica needs: defaults, equality, and applying
// the row diffs of update2/update3 notifications.
import type { Atom, ColumnType, Datum, DecodedRow } from "./schema.ts";

const ZERO_UUID = "00000000-0000-0000-0000-000000000000";

/** Returns the value a column has when a row does not set it (RFC 7047 5.1). */
export function defaultDatum(type: ColumnType): Datum {
  switch (type.shape) {
    case "map":
      return new Map();
    case "set":
      return [];
    case "optional":
      return null;
    case "scalar":
      return defaultAtom(type);
  }
}

function defaultAtom(type: ColumnType): Atom {
  switch (type.key.type) {
    case "integer":
    case "real":
      return 0;
    case "boolean":
      return false;
    case "string":
      return "";
    case "uuid":
      return ZERO_UUID;
  }
}

function atomKey(atom: Atom): string {
  return `${typeof atom}:${String(atom)}`;
}

/** Compares two decoded values; sets compare without regard to order. */
export function datumEquals(a: Datum | undefined, b: Datum | undefined): boolean {
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [key, value] of a) {
      if (!b.has(key) || b.get(key) !== value) return false;
    }
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    const keys = new Set(a.map(atomKey));
    return b.every((atom) => keys.has(atomKey(atom)));
  }
  return a === b;
}

/** Compares two decoded rows column by column. */
export function rowEquals(a: DecodedRow, b: DecodedRow): boolean {
  const columns = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const column of columns) {
    if (!datumEquals(a[column], b[column])) return false;
  }
  return true;
}

/**
 * Applies one column of an update2 "modify" diff. For sets (including optional values)
 * the diff is the symmetric difference of old and new. For maps each pair is added when
 * the key is absent, removed when key and value both match, and replaces the value
 * otherwise. Scalars carry the new value itself.
 */
export function applyDatumDiff(current: Datum, diff: Datum, type: ColumnType): Datum {
  if (type.shape === "map") {
    const result = new Map(current as Map<Atom, Atom>);
    for (const [key, value] of diff as Map<Atom, Atom>) {
      if (!result.has(key)) {
        result.set(key, value);
      } else if (result.get(key) === value) {
        result.delete(key);
      } else {
        result.set(key, value);
      }
    }
    return result;
  }
  if (type.shape === "scalar") {
    return diff;
  }
  const currentAtoms = toAtoms(current);
  const diffKeys = new Map(toAtoms(diff).map((atom) => [atomKey(atom), atom]));
  const result = currentAtoms.filter((atom) => !diffKeys.delete(atomKey(atom)));
  result.push(...diffKeys.values());
  if (type.shape === "optional") {
    return result[0] ?? null;
  }
  return result;
}

function toAtoms(datum: Datum): Atom[] {
  if (datum === null) return [];
  if (Array.isArray(datum)) return datum;
  return [datum as Atom];
}
