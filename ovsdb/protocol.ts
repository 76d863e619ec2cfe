// Wire types of RFC 7047: atoms, sets, maps, operations, results and monitor updates,
// exactly as they appear in the JSON text.

export type Uuid = ["uuid", string];
export type NamedUuid = ["named-uuid", string];

/** An atom on the wire: integer, real, boolean, string, or a (named) UUID reference. */
export type WireAtom = number | string | boolean | Uuid | NamedUuid;
export type WireSet = ["set", WireAtom[]];
export type WireMap = ["map", [WireAtom, WireAtom][]];

/** A column value on the wire. A set of exactly one atom may also be sent as that bare atom. */
export type WireValue = WireAtom | WireSet | WireMap;

export type WireRow = Record<string, WireValue>;

export type ConditionFunction = "<" | "<=" | "==" | "!=" | ">=" | ">" | "includes" | "excludes";
export type Condition = [column: string, fn: ConditionFunction, value: WireValue];
export type MutatorName = "+=" | "-=" | "*=" | "/=" | "%=" | "insert" | "delete";
export type Mutation = [column: string, mutator: MutatorName, value: WireValue];

export type InsertOperation = { op: "insert"; table: string; row: WireRow; "uuid-name"?: string; uuid?: string };
export type SelectOperation = { op: "select"; table: string; where: Condition[]; columns?: string[] };
export type UpdateOperation = { op: "update"; table: string; where: Condition[]; row: WireRow };
export type MutateOperation = { op: "mutate"; table: string; where: Condition[]; mutations: Mutation[] };
export type DeleteOperation = { op: "delete"; table: string; where: Condition[] };
export type WaitOperation = {
  op: "wait";
  table: string;
  where: Condition[];
  columns: string[];
  until: "==" | "!=";
  rows: WireRow[];
  timeout?: number;
};
export type CommitOperation = { op: "commit"; durable: boolean };
export type AbortOperation = { op: "abort" };
export type CommentOperation = { op: "comment"; comment: string };
export type AssertOperation = { op: "assert"; lock: string };

export type Operation =
  | InsertOperation
  | SelectOperation
  | UpdateOperation
  | MutateOperation
  | DeleteOperation
  | WaitOperation
  | CommitOperation
  | AbortOperation
  | CommentOperation
  | AssertOperation;

/**
 * One element of a transact reply. Successful results carry `uuid` (insert), `rows`
 * (select) or `count` (update, mutate, delete); a failed one carries `error` and usually
 * `details`. The server returns null for operations after the first failure.
 */
export type OperationResult = {
  uuid?: Uuid;
  rows?: WireRow[];
  count?: number;
  error?: string;
  details?: string;
  [key: string]: unknown;
} | null;

/** Per-table request of monitor (RFC 7047 4.1.5). */
export type MonitorRequest = {
  columns?: string[];
  select?: { initial?: boolean; insert?: boolean; delete?: boolean; modify?: boolean };
};

/**
 * Per-table request of monitor_cond and monitor_cond_since, which adds a `where` filter.
 * Unlike the where of select, a row matches when any one of its conditions is true
 * (checked by the monitor-cond cases of test/integration/ovsdb/conformance-monitor.test.ts).
 */
export type MonitorCondRequest = MonitorRequest & { where?: Condition[] | [true] | [false] };

/** `update` notification body of monitor: table name, then row UUID. */
export type TableUpdates = Record<string, Record<string, { old?: WireRow; new?: WireRow }>>;

/** `update2`/`update3` body of monitor_cond and monitor_cond_since. Modify carries a diff. */
export type RowUpdate2 = { initial?: WireRow; insert?: WireRow; modify?: WireRow; delete?: null };
export type TableUpdates2 = Record<string, Record<string, RowUpdate2>>;

/** A database schema as get_schema returns it (RFC 7047 3.2). */
export type DatabaseSchemaJson = {
  name: string;
  version: string;
  cksum?: string;
  tables: Record<string, TableSchemaJson>;
};

export type TableSchemaJson = {
  columns: Record<string, { type: ColumnTypeJson; ephemeral?: boolean; mutable?: boolean }>;
  maxRows?: number;
  isRoot?: boolean;
  indexes?: string[][];
};

export type AtomicTypeName = "integer" | "real" | "boolean" | "string" | "uuid";

export type BaseTypeJson =
  | AtomicTypeName
  | {
      type: AtomicTypeName;
      enum?: WireValue;
      minInteger?: number;
      maxInteger?: number;
      minReal?: number;
      maxReal?: number;
      minLength?: number;
      maxLength?: number;
      refTable?: string;
      refType?: "strong" | "weak";
    };

export type ColumnTypeJson =
  | AtomicTypeName
  | { key: BaseTypeJson; value?: BaseTypeJson; min?: number; max?: number | "unlimited" };

/** Wraps a row UUID for the wire. */
export function uuid(value: string): Uuid {
  return ["uuid", value];
}

/** Wraps a uuid-name of an insert in the same transaction for the wire. */
export function namedUuid(name: string): NamedUuid {
  return ["named-uuid", name];
}

/** Builds a wire set. */
export function wireSet(atoms: WireAtom[]): WireSet {
  return ["set", atoms];
}

/** Builds a wire map from pairs or from a string-keyed record. */
export function wireMap(entries: Iterable<[WireAtom, WireAtom]> | Record<string, WireAtom>): WireMap {
  const pairs = Symbol.iterator in entries ? [...(entries as Iterable<[WireAtom, WireAtom]>)] : Object.entries(entries);
  return ["map", pairs];
}
