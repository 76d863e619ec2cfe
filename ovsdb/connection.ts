// One JSON-RPC 1.0 connection to an OVSDB server over a unix socket or TCP: framing,
// request/reply matching, notifications, echo in both directions, per-call timeouts and
// the dead-peer probe. Reconnecting is the client's job (client.ts); a connection object
// lives exactly as long as its socket.
import { EventEmitter } from "node:events";
import net from "node:net";
import { CancelledError, ConnectionClosedError, OvsdbError, OvsdbErrorCode, RpcError, TimeoutError } from "./errors.ts";
import { JsonStreamScanner } from "./framing.ts";
import type { TraceSink } from "./trace.ts";

export type Endpoint = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

/** Parses "unix:PATH" or "tcp:HOST:PORT" (an IPv6 host goes in brackets: "tcp:[::1]:6640"). */
export function parseEndpoint(text: string): Endpoint {
  if (text.startsWith("unix:") && text.length > 5) {
    return { kind: "unix", path: text.slice(5) };
  }
  const tcp = /^tcp:(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text);
  if (tcp !== null) {
    const host = (tcp[1] as string).replace(/^\[|\]$/g, "");
    const port = Number(tcp[2]);
    if (port > 0 && port < 65536) {
      return { kind: "tcp", host, port };
    }
  }
  throw new OvsdbError(
    OvsdbErrorCode.Endpoint,
    `invalid OVSDB endpoint "${text}"; expected unix:PATH or tcp:HOST:PORT, for example unix:/var/run/openvswitch/db.sock`,
  );
}

export function formatEndpoint(endpoint: Endpoint): string {
  return endpoint.kind === "unix" ? `unix:${endpoint.path}` : `tcp:${endpoint.host}:${endpoint.port}`;
}

export type CallOptions = {
  /** Fail with TimeoutError when no reply arrives within this many milliseconds. */
  timeoutMs?: number;
  /** Abort the call; for transact the client also sends "cancel" to the server. */
  signal?: AbortSignal;
};

export type JsonRpcConnectionOptions = {
  /**
   * Idle time in milliseconds after which the connection sends an echo request. When that
   * echo gets no reply within the same time, the peer counts as dead and the connection
   * closes. 0 disables the probe. Default 5000, the interval ovsdb-server itself uses.
   */
  probeIntervalMs?: number;
  /** Time allowed for the socket to connect, in milliseconds. Default 10000. */
  connectTimeoutMs?: number;
  maxMessageBytes?: number;
  trace?: TraceSink | undefined;
};

type PendingCall = {
  method: string;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
  signal: AbortSignal | undefined;
};

type IncomingMessage = {
  id?: unknown;
  method?: unknown;
  params?: unknown;
  result?: unknown;
  error?: unknown;
};

export type JsonRpcConnectionEvents = {
  /** A request or notification from the server other than echo: method and params. */
  notification: [method: string, params: unknown[]];
  /** The socket closed. `error` is the cause, or undefined after a local close() or a clean close by the server. */
  close: [error: Error | undefined];
};

export const DEFAULT_PROBE_INTERVAL_MS = 5000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * A JSON-RPC connection. Calls may be issued concurrently; replies are matched by id, so
 * they may complete in any order. After "close" every call fails fast with
 * ConnectionClosedError.
 */
export class JsonRpcConnection extends EventEmitter<JsonRpcConnectionEvents> {
  readonly endpoint: Endpoint;
  readonly #socket: net.Socket;
  readonly #scanner: JsonStreamScanner;
  readonly #pending = new Map<number, PendingCall>();
  readonly #trace: TraceSink | undefined;
  readonly #probeIntervalMs: number;
  #nextId = 1;
  #closed = false;
  #closeReason = "";
  #lastReceived = Date.now();
  #probeTimer: NodeJS.Timeout | undefined;
  #probeInFlight = false;

  private constructor(endpoint: Endpoint, socket: net.Socket, options: JsonRpcConnectionOptions) {
    super();
    this.endpoint = endpoint;
    this.#socket = socket;
    this.#trace = options.trace;
    this.#probeIntervalMs = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    this.#scanner = new JsonStreamScanner(
      options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes },
    );
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", (error) => this.#shutdown(error));
    socket.on("close", () => this.#shutdown(undefined));
    this.#startProbe();
  }

  /** Opens a socket to `endpoint`; rejects with ConnectionClosedError when it cannot connect. */
  static open(endpoint: Endpoint, options: JsonRpcConnectionOptions = {}): Promise<JsonRpcConnection> {
    return new Promise((resolve, reject) => {
      const socket =
        endpoint.kind === "unix" ? net.createConnection({ path: endpoint.path }) : net.createConnection({ host: endpoint.host, port: endpoint.port });
      const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      const timer = setTimeout(() => {
        socket.destroy(new Error(`connect timed out after ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      const onError = (error: Error) => {
        clearTimeout(timer);
        reject(new ConnectionClosedError("connect", `cannot connect to ${formatEndpoint(endpoint)}: ${error.message}`, { cause: error }));
      };
      socket.once("error", onError);
      socket.once("connect", () => {
        clearTimeout(timer);
        socket.off("error", onError);
        socket.setNoDelay(true);
        resolve(new JsonRpcConnection(endpoint, socket, options));
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Number of calls waiting for a reply. */
  get pendingCalls(): number {
    return this.#pending.size;
  }

  /**
   * Sends a request and resolves with its "result". Rejects with RpcError when the reply's
   * "error" is not null, TimeoutError after options.timeoutMs, CancelledError when the
   * signal aborts, ConnectionClosedError when the connection is or becomes closed.
   */
  request(method: string, params: unknown[], options: CallOptions = {}): Promise<unknown> {
    if (this.#closed) {
      return Promise.reject(new ConnectionClosedError(method, this.#closeReason));
    }
    if (options.signal?.aborted === true) {
      return Promise.reject(new CancelledError(method, { cause: options.signal.reason }));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const call: PendingCall = { method, resolve, reject, timer: undefined, onAbort: undefined, signal: options.signal };
      if (options.timeoutMs !== undefined) {
        const timeoutMs = options.timeoutMs;
        call.timer = setTimeout(() => this.#fail(id, new TimeoutError(method, timeoutMs)), timeoutMs);
      }
      if (options.signal !== undefined) {
        const signal = options.signal;
        call.onAbort = () => {
          this.#fail(id, new CancelledError(method, { cause: signal.reason }));
          if (method === "transact") {
            this.notify("cancel", [id]);
          }
        };
        signal.addEventListener("abort", call.onAbort, { once: true });
      }
      this.#pending.set(id, call);
      this.#send({ method, params, id });
    });
  }

  /** Sends a notification (a request with id null, which gets no reply). */
  notify(method: string, params: unknown[]): void {
    if (!this.#closed) {
      this.#send({ method, params, id: null });
    }
  }

  /** Closes the socket; pending calls fail with ConnectionClosedError. Idempotent. */
  close(): void {
    this.#shutdown(undefined, "closed by the client");
    this.#socket.destroy();
  }

  #send(message: object): void {
    const text = JSON.stringify(message);
    this.#trace?.(`send ${formatEndpoint(this.endpoint)} ${text}`);
    this.#socket.write(text);
  }

  #onData(chunk: Buffer): void {
    this.#lastReceived = Date.now();
    let texts: string[];
    try {
      texts = this.#scanner.push(chunk);
    } catch (error) {
      this.#socket.destroy(error as Error);
      return;
    }
    for (const text of texts) {
      this.#trace?.(`recv ${formatEndpoint(this.endpoint)} ${text}`);
      let message: IncomingMessage;
      try {
        message = JSON.parse(text) as IncomingMessage;
      } catch (error) {
        this.#socket.destroy(new Error(`invalid JSON from server: ${(error as Error).message}`, { cause: error }));
        return;
      }
      this.#dispatch(message);
    }
  }

  #dispatch(message: IncomingMessage): void {
    if (typeof message.method === "string") {
      this.#onServerRequest(message.method, Array.isArray(message.params) ? message.params : [], message.id);
      return;
    }
    if (typeof message.id !== "number") {
      return;
    }
    const call = this.#pending.get(message.id);
    if (call === undefined) {
      return; // Reply to a call that already timed out or was cancelled.
    }
    this.#settle(message.id);
    if (message.error !== null && message.error !== undefined) {
      call.reject(new RpcError(call.method, message.error));
    } else {
      call.resolve(message.result);
    }
  }

  #onServerRequest(method: string, params: unknown[], id: unknown): void {
    if (method === "echo" && id !== null && id !== undefined) {
      this.#send({ id, result: params, error: null });
      return;
    }
    if (id !== null && id !== undefined) {
      // A request we do not implement must still get a reply, or the server waits for it.
      this.#send({ id, result: null, error: "unknown method" });
      return;
    }
    this.emit("notification", method, params);
  }

  #fail(id: number, error: Error): void {
    const call = this.#pending.get(id);
    if (call !== undefined) {
      this.#settle(id);
      call.reject(error);
    }
  }

  #settle(id: number): void {
    const call = this.#pending.get(id);
    if (call === undefined) {
      return;
    }
    this.#pending.delete(id);
    clearTimeout(call.timer);
    if (call.onAbort !== undefined) {
      call.signal?.removeEventListener("abort", call.onAbort);
    }
  }

  #startProbe(): void {
    if (this.#probeIntervalMs <= 0) {
      return;
    }
    const tick = Math.max(50, Math.floor(this.#probeIntervalMs / 4));
    this.#probeTimer = setInterval(() => this.#probeIfIdle(), tick);
    this.#probeTimer.unref();
  }

  #probeIfIdle(): void {
    if (this.#probeInFlight || Date.now() - this.#lastReceived < this.#probeIntervalMs) {
      return;
    }
    this.#probeInFlight = true;
    this.request("echo", [], { timeoutMs: this.#probeIntervalMs }).then(
      () => {
        this.#probeInFlight = false;
      },
      (error: Error) => {
        this.#probeInFlight = false;
        if (error instanceof TimeoutError) {
          this.#socket.destroy(new Error(`no reply to echo from the server within ${this.#probeIntervalMs} ms`));
        }
      },
    );
  }

  #shutdown(error: Error | undefined, reason?: string): void {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.#closeReason = reason ?? (error === undefined ? "closed by the server" : error.message);
    clearInterval(this.#probeTimer);
    for (const [id, call] of [...this.#pending]) {
      this.#settle(id);
      call.reject(new ConnectionClosedError(call.method, this.#closeReason, error === undefined ? undefined : { cause: error }));
    }
    this.emit("close", error);
  }
}
