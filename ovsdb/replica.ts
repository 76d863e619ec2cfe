// Local replica of monitored tables, kept consistent across reconnects.
//
// Monitor methods, tried in this order until the server accepts one:
//   monitor_cond_since  Resumes from the last transaction id. When the server still has
//                       that id ("found"), it sends only the changes since then.
//                       Otherwise it sends the full contents.
//   monitor_cond        Full contents, then update2 row diffs.
//   monitor             Full contents, then update notifications with old and new rows.
// After a full resync the replica compares the new contents with its cache and emits
// exactly the difference, so no deleted row survives and no row appears twice.
import { EventEmitter } from "node:events";
import type { OvsdbClient } from "./client.ts";
import { applyDatumDiff, datumEquals, defaultDatum, rowEquals } from "./datum.ts";
import { ConnectionClosedError, OvsdbError, OvsdbErrorCode, RpcError, TimeoutError } from "./errors.ts";
import type { MonitorCondRequest, TableUpdates, TableUpdates2, WireRow, WireValue } from "./protocol.ts";
import { decodeDatum } from "./schema.ts";
import type { ColumnType, Datum, DecodedRow, TableSchema } from "./schema.ts";

export type MonitorMethod = "monitor_cond_since" | "monitor_cond" | "monitor";

export type ReplicaTableOptions = {
  /** Columns to replicate; default all columns of the table. */
  columns?: string[];
};

export type ReplicaOptions = {
  db: string;
  /** Tables to replicate, by name. */
  tables: Record<string, ReplicaTableOptions>;
  /** Newest method to try first. Default "monitor_cond_since". */
  method?: MonitorMethod;
};

/** A replicated row: the monitored columns plus `_uuid`. */
export type ReplicaRow = DecodedRow & { _uuid: string };

export type RowChange =
  | { kind: "insert"; table: string; uuid: string; new: ReplicaRow }
  | { kind: "modify"; table: string; uuid: string; old: ReplicaRow; new: ReplicaRow }
  | { kind: "delete"; table: string; uuid: string; old: ReplicaRow };

export type ReplicaEvents = {
  /** One row changed. Emitted after the cache reflects the change. */
  change: [change: RowChange];
  /** The cache matches the server after a (re)sync; `method` is the monitor method used. */
  synced: [method: MonitorMethod, resumed: boolean];
  /** A resync after reconnect failed; the replica retries on the next reconnect. */
  syncFailed: [error: Error];
};

type TableState = {
  schema: TableSchema;
  columns: string[];
  rows: Map<string, ReplicaRow>;
};

const METHOD_ORDER: MonitorMethod[] = ["monitor_cond_since", "monitor_cond", "monitor"];

/**
 * Cache of the monitored tables of one database. Reads (rows(), row(), find()) are
 * synchronous and see every update the server sent before the reply of a transaction,
 * so after `await client.transact(...)` the cache already contains that transaction's
 * effects on monitored tables.
 */
export class Replica extends EventEmitter<ReplicaEvents> {
  readonly client: OvsdbClient;
  readonly db: string;
  readonly #tables = new Map<string, TableState>();
  readonly #onReconnect = () => void this.#resync();
  #methods: MonitorMethod[];
  #monitorId: string | undefined;
  #lastTxnId: string | null = null;
  #usedMethod: MonitorMethod | undefined;
  #stopped = false;
  #requests: Record<string, MonitorCondRequest> = {};

  private constructor(client: OvsdbClient, options: ReplicaOptions) {
    super();
    // Every pending waitFor() adds a "change" listener, and many may wait at once.
    this.setMaxListeners(0);
    this.client = client;
    this.db = options.db;
    const first = METHOD_ORDER.indexOf(options.method ?? "monitor_cond_since");
    this.#methods = METHOD_ORDER.slice(first);
  }

  /** Starts replicating and resolves after the initial contents are cached. */
  static async start(client: OvsdbClient, options: ReplicaOptions): Promise<Replica> {
    const replica = new Replica(client, options);
    await replica.#init(options);
    return replica;
  }

  /** The method the last (re)sync used. */
  get method(): MonitorMethod | undefined {
    return this.#usedMethod;
  }

  /** The last transaction id seen through monitor_cond_since, or null. */
  get lastTxnId(): string | null {
    return this.#lastTxnId;
  }

  /** Returns the cached rows of `table`, keyed by UUID. The map is live, so callers must not modify it. */
  rows(table: string): ReadonlyMap<string, ReplicaRow> {
    return this.#table(table).rows;
  }

  row(table: string, uuid: string): ReplicaRow | undefined {
    return this.#table(table).rows.get(uuid);
  }

  /** Returns the cached rows of `table` for which `predicate` is true. */
  find(table: string, predicate: (row: ReplicaRow) => boolean): ReplicaRow[] {
    return [...this.#table(table).rows.values()].filter(predicate);
  }

  /**
   * Resolves with the first row of `table` for which `test` returns a value other than
   * undefined, checking the cache now and then on every change (no polling). `test` may
   * throw to reject the wait. Raises TimeoutError after options.timeoutMs.
   */
  waitFor<T>(table: string, test: (row: ReplicaRow) => T | undefined, options: { timeoutMs: number }): Promise<T> {
    for (const row of this.#table(table).rows.values()) {
      const value = test(row);
      if (value !== undefined) return Promise.resolve(value);
    }
    return new Promise<T>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        this.off("change", onChange);
      };
      const onChange = (change: RowChange) => {
        if (change.table !== table || change.kind === "delete") return;
        try {
          const value = test(change.new);
          if (value === undefined) return;
          finish();
          resolve(value);
        } catch (error) {
          finish();
          reject(error as Error);
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new TimeoutError(`wait for a ${table} row`, options.timeoutMs));
      }, options.timeoutMs);
      this.on("change", onChange);
    });
  }

  /** Stops following the server. The cache keeps its last contents. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.client.off("reconnect", this.#onReconnect);
    const id = this.#monitorId;
    this.#monitorId = undefined;
    if (id !== undefined && this.client.connected) {
      await this.client.monitorCancel(id).catch(() => undefined);
    }
  }

  async #init(options: ReplicaOptions): Promise<void> {
    const schema = await this.client.schema(options.db);
    for (const [name, tableOptions] of Object.entries(options.tables)) {
      const tableSchema = schema.table(name);
      const columns = tableOptions.columns ?? [...tableSchema.columns.keys()];
      columns.forEach((column) => tableSchema.column(column));
      this.#tables.set(name, { schema: tableSchema, columns, rows: new Map() });
      this.#requests[name] = { columns };
    }
    this.client.on("reconnect", this.#onReconnect);
    await this.#sync();
  }

  async #resync(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#sync();
    } catch (error) {
      // A drop during resync is retried on the next "reconnect"; report anything else.
      if (!(error instanceof ConnectionClosedError)) {
        this.emit("syncFailed", error as Error);
      }
    }
  }

  /** Starts the monitor with the newest method the server accepts and applies its contents. */
  async #sync(): Promise<void> {
    for (const method of this.#methods) {
      try {
        await this.#syncWith(method);
        return;
      } catch (error) {
        if (error instanceof RpcError && error.isUnknownMethod()) {
          // The server is older than this method; never try it again on this replica.
          this.#methods = this.#methods.filter((m) => m !== method);
          continue;
        }
        throw error;
      }
    }
    throw new OvsdbError(OvsdbErrorCode.Rpc, `OVSDB server rejected monitor_cond_since, monitor_cond and monitor for ${this.db}`);
  }

  async #syncWith(method: MonitorMethod): Promise<void> {
    // The connection dispatches every message of a chunk before the awaiting code runs,
    // so an update can be delivered before the monitor reply has been applied. Queue
    // updates until the initial contents are in the cache.
    const gate = new UpdateGate();
    if (method === "monitor_cond_since") {
      const result = await this.client.monitorCondSince({
        db: this.db,
        requests: this.#requests,
        lastTxnId: this.#lastTxnId,
        onUpdate: (updates) => gate.run(() => this.#applyUpdate2(updates)),
        onTxnId: (id) => gate.run(() => (this.#lastTxnId = id)),
      });
      this.#monitorId = result.id;
      this.#lastTxnId = result.lastTxnId;
      if (result.found) {
        this.#applyUpdate2(result.initial);
      } else {
        this.#replaceAll(this.#decodeFull2(result.initial));
      }
      gate.open();
      this.#usedMethod = method;
      this.emit("synced", method, result.found);
      return;
    }
    if (method === "monitor_cond") {
      const result = await this.client.monitorCond({
        db: this.db,
        requests: this.#requests,
        onUpdate: (updates) => gate.run(() => this.#applyUpdate2(updates)),
      });
      this.#monitorId = result.id;
      this.#replaceAll(this.#decodeFull2(result.initial));
    } else {
      const requests = Object.fromEntries(Object.entries(this.#requests).map(([table, r]) => [table, { columns: r.columns ?? [] }]));
      const result = await this.client.monitor({
        db: this.db,
        requests,
        onUpdate: (updates) => gate.run(() => this.#applyUpdate(updates)),
      });
      this.#monitorId = result.id;
      this.#replaceAll(this.#decodeFull1(result.initial));
    }
    gate.open();
    this.#usedMethod = method;
    this.emit("synced", method, false);
  }

  #table(name: string): TableState {
    const table = this.#tables.get(name);
    if (table === undefined) {
      throw new OvsdbError(OvsdbErrorCode.Schema, `table ${name} is not replicated; add it to ReplicaOptions.tables`);
    }
    return table;
  }

  /** Decodes a row that lists only non-default columns (update2 initial/insert) into a full row. */
  #decodeRow(table: TableState, uuid: string, wire: WireRow): ReplicaRow {
    const row: ReplicaRow = { _uuid: uuid };
    for (const column of table.columns) {
      const type = table.schema.column(column);
      const value = wire[column];
      row[column] = value === undefined ? defaultDatum(type) : decodeDatum(value, type);
    }
    return row;
  }

  #decodeFull2(updates: TableUpdates2): Map<string, Map<string, ReplicaRow>> {
    const contents = new Map<string, Map<string, ReplicaRow>>();
    for (const [name, table] of this.#tables) {
      const rows = new Map<string, ReplicaRow>();
      for (const [uuid, update] of Object.entries(updates[name] ?? {})) {
        const wire = update.initial ?? update.insert;
        if (wire !== undefined) rows.set(uuid, this.#decodeRow(table, uuid, wire));
      }
      contents.set(name, rows);
    }
    return contents;
  }

  #decodeFull1(updates: TableUpdates): Map<string, Map<string, ReplicaRow>> {
    const contents = new Map<string, Map<string, ReplicaRow>>();
    for (const [name, table] of this.#tables) {
      const rows = new Map<string, ReplicaRow>();
      for (const [uuid, update] of Object.entries(updates[name] ?? {})) {
        if (update.new !== undefined) rows.set(uuid, this.#decodeRow(table, uuid, update.new));
      }
      contents.set(name, rows);
    }
    return contents;
  }

  /** Replaces the cache with `contents` and emits one event per row that differs. */
  #replaceAll(contents: Map<string, Map<string, ReplicaRow>>): void {
    const changes: RowChange[] = [];
    for (const [name, table] of this.#tables) {
      const next = contents.get(name) ?? new Map<string, ReplicaRow>();
      for (const [uuid, old] of table.rows) {
        const row = next.get(uuid);
        if (row === undefined) {
          changes.push({ kind: "delete", table: name, uuid, old });
        } else if (!rowEquals(old, row)) {
          changes.push({ kind: "modify", table: name, uuid, old, new: row });
        }
      }
      for (const [uuid, row] of next) {
        if (!table.rows.has(uuid)) changes.push({ kind: "insert", table: name, uuid, new: row });
      }
      table.rows = next;
    }
    for (const change of changes) this.emit("change", change);
  }

  #applyUpdate2(updates: TableUpdates2): void {
    for (const [name, rows] of Object.entries(updates)) {
      const table = this.#tables.get(name);
      if (table === undefined) continue;
      for (const [uuid, update] of Object.entries(rows)) {
        const wire = update.initial ?? update.insert;
        if (wire !== undefined) {
          this.#put(name, table, this.#decodeRow(table, uuid, wire));
        } else if (update.modify !== undefined) {
          this.#modify(name, table, uuid, update.modify);
        } else if ("delete" in update) {
          this.#remove(name, table, uuid);
        }
      }
    }
  }

  #applyUpdate(updates: TableUpdates): void {
    for (const [name, rows] of Object.entries(updates)) {
      const table = this.#tables.get(name);
      if (table === undefined) continue;
      for (const [uuid, update] of Object.entries(rows)) {
        if (update.new === undefined) {
          this.#remove(name, table, uuid);
        } else {
          this.#put(name, table, this.#decodeRow(table, uuid, update.new));
        }
      }
    }
  }

  #put(name: string, table: TableState, row: ReplicaRow): void {
    const old = table.rows.get(row._uuid);
    table.rows.set(row._uuid, row);
    if (old === undefined) {
      this.emit("change", { kind: "insert", table: name, uuid: row._uuid, new: row });
    } else if (!rowEquals(old, row)) {
      this.emit("change", { kind: "modify", table: name, uuid: row._uuid, old, new: row });
    }
  }

  #modify(name: string, table: TableState, uuid: string, diff: WireRow): void {
    const old = table.rows.get(uuid);
    if (old === undefined) return; // NOTE: a modify for an unknown row means the cache diverged; the next resync repairs it.
    const row: ReplicaRow = { ...old };
    for (const [column, value] of Object.entries(diff)) {
      const type = table.schema.column(column);
      row[column] = applyColumnDiff(old[column] ?? defaultDatum(type), value, type);
    }
    table.rows.set(uuid, row);
    if (!Object.keys(diff).every((column) => datumEquals(old[column], row[column]))) {
      this.emit("change", { kind: "modify", table: name, uuid, old, new: row });
    }
  }

  #remove(name: string, table: TableState, uuid: string): void {
    const old = table.rows.get(uuid);
    if (old === undefined) return;
    table.rows.delete(uuid);
    this.emit("change", { kind: "delete", table: name, uuid, old });
  }
}

/**
 * Applies one column of an update2 "modify". ovsdb-server (OVS 3.1, ovsdb_datum_diff in
 * lib/ovsdb-data.c) sends a difference only for columns that can hold more than one element
 * (max > 1): the elements to add or remove, or the map keys whose value changed. Every
 * other column, optional ones included, carries its new value, which replaces the old one.
 * For example, Interface.mac_in_use changing from "aa:..." to "bb:..." arrives as "bb:...".
 */
function applyColumnDiff(current: Datum, wire: WireValue, type: ColumnType): Datum {
  if (type.max <= 1) return decodeDatum(wire, type);
  return applyDatumDiff(current, decodeDatum(wire, type), type);
}

/** Runs actions immediately once opened; before that, queues them in order. */
class UpdateGate {
  #queue: (() => void)[] | undefined = [];

  run(action: () => void): void {
    if (this.#queue === undefined) {
      action();
    } else {
      this.#queue.push(action);
    }
  }

  open(): void {
    const queue = this.#queue ?? [];
    this.#queue = undefined;
    for (const action of queue) action();
  }
}
