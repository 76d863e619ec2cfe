// Database schema model and the mapping between wire values and plain TypeScript values.
//
// Decoded form, chosen by column type:
//   scalar   (min 1, max 1)        -> the atom                 e.g. Interface.name: string
//   optional (min 0, max 1)        -> the atom or null         e.g. Interface.ofport: number | null
//   set      (max > 1)             -> array of atoms           e.g. Bridge.ports: string[]
//   map      (has a value type)    -> Map of key to value      e.g. external_ids: Map<string, string>
// UUID atoms decode to their string form. Integers decode to JS numbers, exact up to 2^53.
import { SchemaError } from "./errors.ts";
import type {
  AtomicTypeName,
  BaseTypeJson,
  ColumnTypeJson,
  DatabaseSchemaJson,
  TableSchemaJson,
  WireAtom,
  WireRow,
  WireValue,
} from "./protocol.ts";

export type Atom = number | string | boolean;
export type Datum = Atom | null | Atom[] | Map<Atom, Atom>;
export type DecodedRow = Record<string, Datum>;

export type BaseType = {
  type: AtomicTypeName;
  refTable?: string;
  refType?: "strong" | "weak";
  enum?: Atom[];
};

export type ColumnShape = "scalar" | "optional" | "set" | "map";

export type ColumnType = {
  key: BaseType;
  value?: BaseType;
  min: number;
  /** Maximum number of elements; Infinity for "unlimited". */
  max: number;
  shape: ColumnShape;
};

/** The implicit columns every table has (RFC 7047 3.2). */
const IMPLICIT_COLUMNS: Record<string, ColumnType> = {
  _uuid: { key: { type: "uuid" }, min: 1, max: 1, shape: "scalar" },
  _version: { key: { type: "uuid" }, min: 1, max: 1, shape: "scalar" },
};

function parseBaseType(json: BaseTypeJson): BaseType {
  if (typeof json === "string") {
    return { type: json };
  }
  const base: BaseType = { type: json.type };
  if (json.refTable !== undefined) {
    base.refTable = json.refTable;
    base.refType = json.refType ?? "strong";
  }
  if (json.enum !== undefined) {
    base.enum = decodeAtoms(json.enum, base);
  }
  return base;
}

/** Normalises a column type from its schema JSON. */
export function parseColumnType(json: ColumnTypeJson): ColumnType {
  if (typeof json === "string") {
    return { key: { type: json }, min: 1, max: 1, shape: "scalar" };
  }
  const key = parseBaseType(json.key);
  const value = json.value === undefined ? undefined : parseBaseType(json.value);
  const min = json.min ?? 1;
  const max = json.max === undefined ? 1 : json.max === "unlimited" ? Infinity : json.max;
  let shape: ColumnShape;
  if (value !== undefined) {
    shape = "map";
  } else if (max > 1) {
    shape = "set";
  } else {
    shape = min === 0 ? "optional" : "scalar";
  }
  return value === undefined ? { key, min, max, shape } : { key, value, min, max, shape };
}

/** One table of a schema, with normalised column types. */
export class TableSchema {
  readonly name: string;
  readonly columns: ReadonlyMap<string, ColumnType>;
  readonly json: TableSchemaJson;

  constructor(name: string, json: TableSchemaJson) {
    this.name = name;
    this.json = json;
    const columns = new Map<string, ColumnType>();
    for (const [columnName, column] of Object.entries(json.columns)) {
      columns.set(columnName, parseColumnType(column.type));
    }
    this.columns = columns;
  }

  /** Returns the column's type; raises SchemaError naming the table when it does not exist. */
  column(name: string): ColumnType {
    const column = this.columns.get(name) ?? IMPLICIT_COLUMNS[name];
    if (column === undefined) {
      throw new SchemaError(
        `column "${name}" not found in table ${this.name}; known columns: ${[...this.columns.keys()].join(", ")}`,
      );
    }
    return column;
  }

  /** Decodes every column of a wire row. Unknown columns raise SchemaError. */
  decodeRow(row: WireRow): DecodedRow {
    const decoded: DecodedRow = {};
    for (const [name, value] of Object.entries(row)) {
      decoded[name] = decodeDatum(value, this.column(name));
    }
    return decoded;
  }

  /** Encodes a plain row for insert or update. Undefined fields are skipped. */
  encodeRow(row: Record<string, Datum | WireValue | undefined>): WireRow {
    const encoded: WireRow = {};
    for (const [name, value] of Object.entries(row)) {
      if (value !== undefined) {
        encoded[name] = encodeDatum(value, this.column(name));
      }
    }
    return encoded;
  }
}

/** A database schema as returned by get_schema. */
export class DatabaseSchema {
  readonly name: string;
  readonly version: string;
  readonly tables: ReadonlyMap<string, TableSchema>;
  readonly json: DatabaseSchemaJson;

  constructor(json: DatabaseSchemaJson) {
    this.json = json;
    this.name = json.name;
    this.version = json.version;
    const tables = new Map<string, TableSchema>();
    for (const [name, table] of Object.entries(json.tables)) {
      tables.set(name, new TableSchema(name, table));
    }
    this.tables = tables;
  }

  /** Returns the table; raises SchemaError naming the database when it does not exist. */
  table(name: string): TableSchema {
    const table = this.tables.get(name);
    if (table === undefined) {
      throw new SchemaError(`table "${name}" not found in database ${this.name}`);
    }
    return table;
  }
}

function decodeAtom(atom: WireAtom, base: BaseType): Atom {
  if (Array.isArray(atom)) {
    if (base.type !== "uuid") {
      throw new SchemaError(`expected a ${base.type} atom, got ${JSON.stringify(atom)}`);
    }
    return atom[1];
  }
  return atom;
}

function decodeAtoms(value: WireValue, base: BaseType): Atom[] {
  if (Array.isArray(value) && value[0] === "set") {
    return (value[1] as WireAtom[]).map((atom) => decodeAtom(atom, base));
  }
  if (Array.isArray(value) && value[0] === "map") {
    throw new SchemaError(`expected a set or atom, got map ${JSON.stringify(value)}`);
  }
  return [decodeAtom(value as WireAtom, base)];
}

/** Decodes one wire value to its plain form for a column of type `type`. */
export function decodeDatum(value: WireValue, type: ColumnType): Datum {
  if (type.shape === "map") {
    if (!Array.isArray(value) || value[0] !== "map") {
      throw new SchemaError(`expected a map, got ${JSON.stringify(value)}`);
    }
    const valueType = type.value as BaseType;
    const map = new Map<Atom, Atom>();
    for (const [key, item] of value[1] as [WireAtom, WireAtom][]) {
      map.set(decodeAtom(key, type.key), decodeAtom(item, valueType));
    }
    return map;
  }
  const atoms = decodeAtoms(value, type.key);
  if (type.shape === "set") {
    return atoms;
  }
  if (type.shape === "optional") {
    return atoms[0] ?? null;
  }
  if (atoms.length !== 1) {
    throw new SchemaError(`expected exactly one atom, got ${JSON.stringify(value)}`);
  }
  return atoms[0] as Atom;
}

function isWireReference(value: unknown): value is WireAtom {
  return Array.isArray(value) && value.length === 2 && (value[0] === "uuid" || value[0] === "named-uuid");
}

function encodeAtom(value: unknown, base: BaseType): WireAtom {
  if (base.type === "uuid") {
    if (isWireReference(value)) {
      return value;
    }
    if (typeof value === "string") {
      return ["uuid", value];
    }
  } else if (base.type === "string" && typeof value === "string") {
    return value;
  } else if (base.type === "boolean" && typeof value === "boolean") {
    return value;
  } else if ((base.type === "integer" || base.type === "real") && typeof value === "number") {
    if (base.type === "integer" && !Number.isInteger(value)) {
      throw new SchemaError(`expected an integer, got ${value}`);
    }
    return value;
  }
  throw new SchemaError(`expected a ${base.type} atom, got ${JSON.stringify(value)}`);
}

function isWireCompound(value: unknown): boolean {
  return Array.isArray(value) && (value[0] === "set" || value[0] === "map") && value.length === 2 && Array.isArray(value[1]);
}

/**
 * Encodes a plain value for a column of type `type`. Values already in wire form (a
 * ["set", ...] or ["map", ...] array, or a ["uuid"|"named-uuid", ...] reference) pass
 * through unchanged, so callers may mix named-uuid references into plain rows.
 */
export function encodeDatum(value: Datum | WireValue, type: ColumnType): WireValue {
  if (isWireCompound(value)) {
    return value as WireValue;
  }
  if (type.shape === "map") {
    const valueType = type.value as BaseType;
    const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object);
    return ["map", entries.map(([key, item]) => [encodeAtom(key, type.key), encodeAtom(item, valueType)])];
  }
  if (value === null) {
    return ["set", []];
  }
  if (Array.isArray(value) && !isWireReference(value)) {
    return ["set", (value as unknown[]).map((atom) => encodeAtom(atom, type.key))];
  }
  return encodeAtom(value, type.key);
}
