// OVSDB client: the RFC 7047 methods over one long-lived JSON-RPC connection, with
// automatic reconnect. Monitors and locks belong to a connection, so they end when it
// drops. The Replica (replica.ts) listens for "reconnect" and starts its monitor again.
import { EventEmitter } from "node:events";
import { ConnectionClosedError, OvsdbError, OvsdbErrorCode, TransactionError } from "./errors.ts";
import { formatEndpoint, JsonRpcConnection, parseEndpoint } from "./connection.ts";
import type { CallOptions, Endpoint, JsonRpcConnectionOptions } from "./connection.ts";
import type {
  Condition,
  DatabaseSchemaJson,
  MonitorCondRequest,
  MonitorRequest,
  Operation,
  OperationResult,
  TableUpdates,
  TableUpdates2,
} from "./protocol.ts";
import { DatabaseSchema } from "./schema.ts";
import { resolveTraceSink } from "./trace.ts";
import type { TraceSink } from "./trace.ts";

export type BackoffOptions = {
  /** First delay before reconnecting, in milliseconds. Default 100. */
  initialMs?: number;
  /** Upper bound of the doubling delay, in milliseconds. Default 5000. */
  maxMs?: number;
};

export type OvsdbClientOptions = {
  /** Reconnect after the connection drops. Default true. */
  reconnect?: boolean;
  backoff?: BackoffOptions;
  /** Timeout applied to calls that do not pass their own timeoutMs, in milliseconds. Default: none. */
  defaultTimeoutMs?: number;
  /** See JsonRpcConnectionOptions.probeIntervalMs. Default 5000; 0 disables. */
  probeIntervalMs?: number;
  connectTimeoutMs?: number;
  maxMessageBytes?: number;
  /** Receives one line per message sent and received. Default: stderr when SWITCHYARD_TRACE=ovsdb, else off. */
  trace?: TraceSink;
};

export type OvsdbClientEvents = {
  /** The connection dropped; calls fail fast with ConnectionClosedError until "reconnect". */
  disconnect: [error: Error | undefined];
  /** A new connection is up after a drop. Monitors and locks must be re-established. */
  reconnect: [];
  /** A reconnect attempt failed; the client keeps trying after `delayMs`. */
  reconnectFailed: [error: Error, delayMs: number];
  /** The server granted a lock that was requested earlier (RFC 7047 4.1.10). */
  locked: [lockName: string];
  /** Another client stole a lock this client owned (RFC 7047 4.1.11). */
  stolen: [lockName: string];
};

export type MonitorOptions<Request, Update> = {
  db: string;
  /** Per-table requests; see RFC 7047 4.1.5. */
  requests: Record<string, Request>;
  /** Called for every update notification of this monitor, in arrival order. */
  onUpdate: (updates: Update) => void;
  /** Monitor id; a unique one is generated when omitted. */
  id?: string;
} & CallOptions;

export type MonitorCondSinceOptions = MonitorOptions<MonitorCondRequest, TableUpdates2> & {
  /** Transaction id the caller's cache reflects; null requests the full contents. */
  lastTxnId: string | null;
  /** Called with the transaction id carried by each update3 notification. */
  onTxnId?: (lastTxnId: string) => void;
};

export type MonitorResult<Update> = { id: string; initial: Update };
export type MonitorCondSinceResult = MonitorResult<TableUpdates2> & { found: boolean; lastTxnId: string };

type MonitorListener = (method: string, params: unknown[]) => void;

const DEFAULT_BACKOFF_INITIAL_MS = 100;
const DEFAULT_BACKOFF_MAX_MS = 5000;

/**
 * Client for one OVSDB server. All methods may be called concurrently. While the client
 * is disconnected, calls fail fast with ConnectionClosedError. They are not queued,
 * because a queued transaction could apply long after its caller gave up.
 */
export class OvsdbClient extends EventEmitter<OvsdbClientEvents> {
  readonly endpoint: Endpoint;
  readonly #options: OvsdbClientOptions;
  readonly #trace: TraceSink | undefined;
  readonly #monitors = new Map<string, MonitorListener>();
  readonly #schemas = new Map<string, Promise<DatabaseSchema>>();
  #connection: JsonRpcConnection | undefined;
  #closed = false;
  #nextMonitorId = 1;
  #reconnectTimer: NodeJS.Timeout | undefined;

  private constructor(endpoint: Endpoint, options: OvsdbClientOptions) {
    super();
    this.endpoint = endpoint;
    this.#options = options;
    this.#trace = resolveTraceSink(options.trace);
  }

  /**
   * Connects to "unix:PATH" or "tcp:HOST:PORT". The first connection must succeed (else
   * ConnectionClosedError); later drops are retried with backoff when reconnect is on.
   */
  static async connect(endpoint: string, options: OvsdbClientOptions = {}): Promise<OvsdbClient> {
    const client = new OvsdbClient(parseEndpoint(endpoint), options);
    client.#attach(await JsonRpcConnection.open(client.endpoint, client.#connectionOptions()));
    return client;
  }

  /** True while a connection is up. */
  get connected(): boolean {
    return this.#connection !== undefined && !this.#connection.closed;
  }

  /** Closes the connection and stops reconnecting. Pending calls fail with ConnectionClosedError. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    this.#connection?.close();
    this.#connection = undefined;
  }

  /** Drops the current connection as if the network failed; the client then reconnects. For tests and probes. */
  dropConnection(): void {
    this.#connection?.close();
  }

  /** Sends any method; the typed methods below are preferred. */
  async call(method: string, params: unknown[], options: CallOptions = {}): Promise<unknown> {
    const connection = this.#connection;
    if (this.#closed || connection === undefined || connection.closed) {
      const reason = this.#closed ? "the client was closed" : `not connected to ${formatEndpoint(this.endpoint)}, reconnecting`;
      throw new ConnectionClosedError(method, reason);
    }
    const timeoutMs = options.timeoutMs ?? this.#options.defaultTimeoutMs;
    const callOptions: CallOptions = {};
    if (timeoutMs !== undefined) callOptions.timeoutMs = timeoutMs;
    if (options.signal !== undefined) callOptions.signal = options.signal;
    return connection.request(method, params, callOptions);
  }

  /** Returns the names of the databases the server offers. */
  async listDbs(options: CallOptions = {}): Promise<string[]> {
    return (await this.call("list_dbs", [], options)) as string[];
  }

  /** Fetches the schema of `db` from the server (no cache). */
  async getSchema(db: string, options: CallOptions = {}): Promise<DatabaseSchema> {
    return new DatabaseSchema((await this.call("get_schema", [db], options)) as DatabaseSchemaJson);
  }

  /** Returns the schema of `db`, fetched once per connection. */
  schema(db: string): Promise<DatabaseSchema> {
    let schema = this.#schemas.get(db);
    if (schema === undefined) {
      schema = this.getSchema(db);
      schema.catch(() => this.#schemas.delete(db));
      this.#schemas.set(db, schema);
    }
    return schema;
  }

  /**
   * Runs `operations` as one transaction and returns one result per operation. The
   * transaction is all-or-nothing: when any operation or the commit fails, the server
   * applies nothing and this raises TransactionError with the failing index. When the
   * connection drops before the reply, the outcome is unknown (ConnectionClosedError);
   * callers that retry should make their operations idempotent or guard them with "wait".
   * Aborting options.signal sends "cancel" to the server.
   */
  async transact(db: string, operations: Operation[], options: CallOptions = {}): Promise<OperationResult[]> {
    const reply = await this.call("transact", [db, ...operations], options);
    return checkTransactionResults(operations, reply);
  }

  /** Sends "echo" and returns the echoed parameters. */
  async echo(params: unknown[] = [], options: CallOptions = {}): Promise<unknown[]> {
    return (await this.call("echo", params, options)) as unknown[];
  }

  /** Starts a monitor (RFC 7047 4.1.5) and returns the initial contents. Updates go to onUpdate. */
  async monitor(options: MonitorOptions<MonitorRequest, TableUpdates>): Promise<MonitorResult<TableUpdates>> {
    const id = options.id ?? this.#newMonitorId();
    this.#monitors.set(id, (method, params) => {
      if (method === "update") options.onUpdate(params[1] as TableUpdates);
    });
    const initial = await this.#startMonitor("monitor", [options.db, id, options.requests], id, options);
    return { id, initial: (initial ?? {}) as TableUpdates };
  }

  /** Starts a conditional monitor (update2 notifications with row diffs). */
  async monitorCond(options: MonitorOptions<MonitorCondRequest, TableUpdates2>): Promise<MonitorResult<TableUpdates2>> {
    const id = options.id ?? this.#newMonitorId();
    this.#monitors.set(id, (method, params) => {
      if (method === "update2") options.onUpdate(params[1] as TableUpdates2);
    });
    const initial = await this.#startMonitor("monitor_cond", [options.db, id, options.requests], id, options);
    return { id, initial: (initial ?? {}) as TableUpdates2 };
  }

  /**
   * Starts monitor_cond_since (OVSDB 2.12+). When `found` is true, `initial` contains only
   * the changes after lastTxnId, otherwise the full contents. Servers without the
   * method raise RpcError with isUnknownMethod() true.
   */
  async monitorCondSince(options: MonitorCondSinceOptions): Promise<MonitorCondSinceResult> {
    const id = options.id ?? this.#newMonitorId();
    this.#monitors.set(id, (method, params) => {
      if (method !== "update3") return;
      options.onTxnId?.(params[1] as string);
      options.onUpdate(params[2] as TableUpdates2);
    });
    const params = [options.db, id, options.requests, options.lastTxnId ?? "00000000-0000-0000-0000-000000000000"];
    const reply = (await this.#startMonitor("monitor_cond_since", params, id, options)) as [boolean, string, TableUpdates2 | null];
    return { id, found: reply[0], lastTxnId: reply[1], initial: reply[2] ?? {} };
  }

  /**
   * Replaces the conditions of a monitor_cond or monitor_cond_since monitor, per table
   * (an OVSDB extension of RFC 7047). The server then sends the rows that enter or leave
   * the new condition as an update.
   */
  async monitorCondChange(id: string, conditions: Record<string, Condition[] | [true] | [false]>, options: CallOptions = {}): Promise<void> {
    const requests = Object.fromEntries(Object.entries(conditions).map(([table, where]) => [table, [{ where }]]));
    await this.call("monitor_cond_change", [id, id, requests], options);
  }

  /** Cancels a monitor; idempotent on the client side. */
  async monitorCancel(id: string, options: CallOptions = {}): Promise<void> {
    const known = this.#monitors.delete(id);
    if (known && this.connected) {
      await this.call("monitor_cancel", [id], options);
    }
  }

  /** Requests a lock. Returns true when granted now; otherwise a "locked" event follows when it is. */
  async lock(name: string, options: CallOptions = {}): Promise<boolean> {
    const reply = (await this.call("lock", [name], options)) as { locked: boolean };
    return reply.locked;
  }

  /** Takes a lock from its current owner, which gets "stolen". */
  async steal(name: string, options: CallOptions = {}): Promise<boolean> {
    const reply = (await this.call("steal", [name], options)) as { locked: boolean };
    return reply.locked;
  }

  async unlock(name: string, options: CallOptions = {}): Promise<void> {
    await this.call("unlock", [name], options);
  }

  /** Asks the server to close the connection rather than break it when a database changes (clustered servers). */
  async setDbChangeAware(value = true, options: CallOptions = {}): Promise<void> {
    await this.call("set_db_change_aware", [value], options);
  }

  async #startMonitor(method: string, params: unknown[], id: string, options: CallOptions): Promise<unknown> {
    try {
      return await this.call(method, params, options);
    } catch (error) {
      this.#monitors.delete(id);
      throw error;
    }
  }

  #newMonitorId(): string {
    return `m${this.#nextMonitorId++}`;
  }

  #connectionOptions(): JsonRpcConnectionOptions {
    const options: JsonRpcConnectionOptions = { trace: this.#trace };
    if (this.#options.probeIntervalMs !== undefined) options.probeIntervalMs = this.#options.probeIntervalMs;
    if (this.#options.connectTimeoutMs !== undefined) options.connectTimeoutMs = this.#options.connectTimeoutMs;
    if (this.#options.maxMessageBytes !== undefined) options.maxMessageBytes = this.#options.maxMessageBytes;
    return options;
  }

  #attach(connection: JsonRpcConnection): void {
    this.#connection = connection;
    connection.on("notification", (method, params) => this.#onNotification(method, params));
    connection.on("close", (error) => this.#onClose(connection, error));
  }

  #onNotification(method: string, params: unknown[]): void {
    if (method === "update" || method === "update2" || method === "update3") {
      const listener = this.#monitors.get(params[0] as string);
      listener?.(method, params);
    } else if (method === "locked") {
      this.emit("locked", params[0] as string);
    } else if (method === "stolen") {
      this.emit("stolen", params[0] as string);
    }
  }

  #onClose(connection: JsonRpcConnection, error: Error | undefined): void {
    if (this.#connection !== connection) {
      return;
    }
    this.#connection = undefined;
    this.#monitors.clear();
    this.#schemas.clear();
    this.emit("disconnect", error);
    if (!this.#closed && this.#options.reconnect !== false) {
      this.#scheduleReconnect(this.#options.backoff?.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS);
    }
  }

  #scheduleReconnect(delayMs: number): void {
    this.#reconnectTimer = setTimeout(() => void this.#reconnect(delayMs), delayMs);
  }

  async #reconnect(delayMs: number): Promise<void> {
    let connection: JsonRpcConnection;
    try {
      connection = await JsonRpcConnection.open(this.endpoint, this.#connectionOptions());
    } catch (error) {
      const maxMs = this.#options.backoff?.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
      const nextDelayMs = Math.min(maxMs, delayMs * 2);
      this.emit("reconnectFailed", error as Error, nextDelayMs);
      if (!this.#closed) this.#scheduleReconnect(nextDelayMs);
      return;
    }
    if (this.#closed) {
      connection.close();
      return;
    }
    this.#attach(connection);
    this.emit("reconnect");
  }
}

/**
 * Checks a transact reply against RFC 7047 4.1.3 and returns the results, or raises
 * TransactionError for the first error result, or for a reply with fewer results than
 * operations (which the RFC does not allow).
 */
export function checkTransactionResults(operations: Operation[], reply: unknown): OperationResult[] {
  if (!Array.isArray(reply)) {
    throw new OvsdbError(OvsdbErrorCode.Rpc, `OVSDB transact returned ${JSON.stringify(reply)} where an array of results was expected`);
  }
  const results = reply as OperationResult[];
  for (let index = 0; index < results.length; index++) {
    const result = results[index];
    if (result !== null && result !== undefined && typeof result.error === "string") {
      throw new TransactionError({
        index,
        operation: operations[index],
        error: result.error,
        details: typeof result.details === "string" ? result.details : undefined,
        results,
      });
    }
  }
  if (results.length < operations.length) {
    throw new TransactionError({
      index: results.length,
      operation: operations[results.length],
      error: "operation count mismatch",
      details: `server returned ${results.length} results for ${operations.length} operations`,
      results,
    });
  }
  return results;
}

