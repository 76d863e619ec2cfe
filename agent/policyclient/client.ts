// The agent's side of the distribution API. It keeps this node's policy slice current and
// emits change events for the enforcement code. See controller/distribution/protocol.ts for the wire.
import { EventEmitter } from "node:events";
import { request as httpsRequest } from "node:https";
import type { ClientRequest, IncomingMessage } from "node:http";
import {
  LineDecoder,
  STATUS_PATH,
  WATCH_PATH,
  decodeMessage,
  type HelloMessage,
  type StatusReport,
  type WatchMessage,
} from "../../controller/distribution/protocol.ts";
import { applySliceEvents, emptySlice } from "../../controller/networkpolicy/slice.ts";
import type { NodeSlice, SliceEvent } from "../../controller/networkpolicy/types.ts";
import { loadCachedState, saveCachedState } from "./cache.ts";
import { diffSlices } from "./diff.ts";

/** The logging calls the client makes; a winston Logger fits. */
export interface PolicyClientLogger {
  error(message: string, fields?: Record<string, unknown>): unknown;
  warn(message: string, fields?: Record<string, unknown>): unknown;
  info(message: string, fields?: Record<string, unknown>): unknown;
  debug(message: string, fields?: Record<string, unknown>): unknown;
}

export interface PolicyClientOptions {
  /** This node's name; must equal the client certificate's CN. */
  readonly nodeName: string;
  /** Base URL of the controller, e.g. "https://switchyard-controller.kube-system.svc:10351". */
  readonly controllerUrl: string;
  /** PEM CA that signed the controller's certificate, and this node's certificate and key. */
  readonly tls: { readonly ca: Buffer; readonly cert: Buffer; readonly key: Buffer };
  /** File holding the last known slice. */
  readonly cacheFile: string;
  /** First reconnect delay in milliseconds, doubled per failure. Default 500. */
  readonly backoffInitialMs?: number;
  /** Cap of the reconnect delay in milliseconds. Default 30000. */
  readonly backoffMaxMs?: number;
  /** Delay before writing the cache after a change, to batch bursts. Default 100 ms. */
  readonly cacheWriteDelayMs?: number;
  readonly logger?: PolicyClientLogger;
}

/** Origin of a change. */
export type ChangeSource =
  /** The slice loaded from the cache file at start. */
  | "cache"
  /** A full snapshot from the controller; events are the difference to the previous slice. */
  | "snapshot"
  /** Incremental events from the controller. */
  | "events";

export interface SliceChange {
  readonly source: ChangeSource;
  /** The changes, in an order the enforcement code can apply one by one. */
  readonly events: readonly SliceEvent[];
  /** The whole slice after the change. */
  readonly slice: NodeSlice;
}

export interface PolicyClientEvents {
  change: [SliceChange];
  /** The controller accepted the watch; carries its hello line. */
  connected: [HelloMessage];
  /** The watch ended; the client reconnects after `delayMs`. */
  disconnected: [{ error?: Error; delayMs: number }];
}

const SILENT: PolicyClientLogger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
/** Missed heartbeats before the watch counts as dead. */
const HEARTBEAT_MISSES = 3;

/**
 * Keeps one node's slice in memory and on disk and reconnects for ever with backoff.
 * Emits "change" for every update, in order, after the in-memory slice is updated.
 * Listeners run synchronously inside the stream handler; a listener that throws is logged.
 */
export class PolicyClient extends EventEmitter<PolicyClientEvents> {
  private readonly options: PolicyClientOptions;
  private readonly log: PolicyClientLogger;
  private current: NodeSlice;
  private instance: string | undefined;
  /** Instance named by the last hello; becomes `instance` when its snapshot is applied. */
  private pendingInstance: string | undefined;
  private running = false;
  private request: ClientRequest | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private cacheTimer: NodeJS.Timeout | undefined;
  private cacheWrite: Promise<void> = Promise.resolve();
  private failures = 0;
  private heartbeatMs = 30_000;

  constructor(options: PolicyClientOptions) {
    super();
    this.options = options;
    this.log = options.logger ?? SILENT;
    this.current = emptySlice(options.nodeName);
  }

  /** The slice as last received (or loaded from the cache). */
  get slice(): NodeSlice {
    return this.current;
  }

  get generation(): number {
    return this.current.generation;
  }

  /** Instance id of the controller the slice came from, if any. */
  get controllerInstance(): string | undefined {
    return this.instance;
  }

  /**
   * Loads the cache (emitting a "cache" change when it contains a slice) and starts watching.
   * Resolves once the cache is loaded; it does not wait for the controller.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.loadCache();
    this.connect();
  }

  /** Closes the watch, cancels reconnects and writes any pending cache update. Idempotent. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.idleTimer);
    this.request?.destroy();
    this.request = undefined;
    if (this.cacheTimer !== undefined) {
      clearTimeout(this.cacheTimer);
      this.cacheTimer = undefined;
      this.writeCache();
    }
    await this.cacheWrite;
  }

  /** Posts this agent's realization status. Rejects unless the controller responds 204. */
  async reportStatus(report: StatusReport): Promise<void> {
    const body = JSON.stringify(report);
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = httpsRequest(this.url(STATUS_PATH), {
        ...this.tlsOptions(),
        method: "POST",
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
      });
      request.on("response", resolve);
      request.on("error", reject);
      request.end(body);
    });
    const text = await readBody(response);
    if (response.statusCode !== 204) {
      throw new Error(`status report rejected by controller: HTTP ${response.statusCode ?? 0}: ${text.trim()}`);
    }
  }

  private async loadCache(): Promise<void> {
    try {
      const state = await loadCachedState(this.options.cacheFile, this.options.nodeName);
      if (state === undefined) return;
      this.current = state.slice;
      this.instance = state.controllerInstance;
      this.log.info("loaded policy slice from cache", { node: this.options.nodeName, generation: state.slice.generation, policies: state.slice.policies.length });
      this.emitChange({ source: "cache", events: diffSlices(emptySlice(this.options.nodeName), state.slice), slice: state.slice });
    } catch (error) {
      this.log.warn("policy cache ignored", { node: this.options.nodeName, error: (error as Error).message });
    }
  }

  private connect(): void {
    if (!this.running) return;
    const query = new URLSearchParams();
    if (this.instance !== undefined) {
      query.set("instance", this.instance);
      query.set("generation", String(this.current.generation));
    }
    const target = this.url(`${WATCH_PATH}${query.size > 0 ? `?${query.toString()}` : ""}`);
    const request = httpsRequest(target, { ...this.tlsOptions(), method: "GET" });
    this.request = request;
    let ended = false;
    const end = (error?: Error): void => {
      if (ended) return;
      ended = true;
      this.onDisconnect(request, error);
    };
    request.on("error", (error) => end(error));
    request.on("response", (response) => this.onResponse({ request, response, end }));
    request.end();
    this.resetIdleTimer(request);
  }

  private onResponse(options: { request: ClientRequest; response: IncomingMessage; end: (error?: Error) => void }): void {
    const { request, response, end } = options;
    if (response.statusCode !== 200) {
      void readBody(response).then((text) => end(new Error(`watch rejected by controller: HTTP ${response.statusCode ?? 0}: ${text.trim()}`)));
      return;
    }
    const decoder = new LineDecoder();
    response.on("data", (chunk: Buffer) => {
      if (request.destroyed) return;
      this.resetIdleTimer(request);
      try {
        for (const line of decoder.push(chunk)) this.handle(decodeMessage(line));
      } catch (error) {
        request.destroy();
        end(error as Error);
      }
    });
    response.on("error", (error) => end(error));
    response.on("close", () => end(new Error("watch stream closed by controller")));
  }

  private handle(message: WatchMessage): void {
    switch (message.type) {
      case "hello":
        this.onHello(message);
        return;
      case "snapshot":
        this.replace(message.slice);
        return;
      case "events":
        this.applyEvents(message.events);
        return;
      case "heartbeat":
        return;
    }
  }

  private onHello(hello: HelloMessage): void {
    if (hello.node !== this.options.nodeName) {
      throw new Error(`controller serves node ${hello.node} but this agent is ${this.options.nodeName}; check the client certificate's CN`);
    }
    this.failures = 0;
    this.heartbeatMs = hello.heartbeatMs;
    this.log.info("connected to controller", {
      node: this.options.nodeName,
      mode: hello.mode,
      reason: hello.resyncReason,
      generation: hello.generation,
      controllerInstance: hello.controllerInstance,
    });
    // The instance switches only once the snapshot has arrived, so a cache written in
    // between never pairs the old slice with the new instance.
    this.pendingInstance = hello.controllerInstance;
    if (hello.mode === "resume") this.instance = hello.controllerInstance;
    this.emit("connected", hello);
  }

  private replace(slice: NodeSlice): void {
    if (slice.nodeName !== this.options.nodeName) {
      throw new Error(`snapshot is for node ${slice.nodeName}, expected ${this.options.nodeName}`);
    }
    const events = diffSlices(this.current, slice);
    this.current = slice;
    this.instance = this.pendingInstance;
    this.scheduleCacheWrite();
    this.emitChange({ source: "snapshot", events, slice });
  }

  private applyEvents(events: readonly SliceEvent[]): void {
    const fresh = events.filter((event) => event.generation > this.current.generation);
    if (fresh.length === 0) return;
    let next: NodeSlice;
    try {
      next = applySliceEvents(this.current, fresh);
    } catch (error) {
      // Forget the resume point so the reconnect fetches a snapshot.
      this.instance = undefined;
      throw error;
    }
    this.current = next;
    this.scheduleCacheWrite();
    this.emitChange({ source: "events", events: fresh, slice: next });
  }

  private emitChange(change: SliceChange): void {
    this.log.debug("policy slice received", { node: this.options.nodeName, source: change.source, events: change.events.length, generation: change.slice.generation });
    try {
      this.emit("change", change);
    } catch (error) {
      this.log.error("policy change listener failed", { node: this.options.nodeName, error: (error as Error).message });
    }
  }

  private onDisconnect(request: ClientRequest, error: Error | undefined): void {
    if (this.request !== request) return;
    this.request = undefined;
    clearTimeout(this.idleTimer);
    if (!this.running) return;
    this.failures += 1;
    const initial = this.options.backoffInitialMs ?? 500;
    const cap = this.options.backoffMaxMs ?? 30_000;
    const base = Math.min(initial * 2 ** (this.failures - 1), cap);
    // Up to 20% jitter, so agents do not reconnect in lock step after a controller restart.
    const delayMs = Math.round(base * (0.8 + Math.random() * 0.2));
    this.log.warn("controller watch ended, reconnecting", { node: this.options.nodeName, error: error?.message, delayMs });
    this.emit("disconnected", error === undefined ? { delayMs } : { error, delayMs });
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
  }

  private resetIdleTimer(request: ClientRequest): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      request.destroy(new Error(`no data from controller for ${HEARTBEAT_MISSES * this.heartbeatMs} ms`));
    }, HEARTBEAT_MISSES * this.heartbeatMs);
    this.idleTimer.unref();
  }

  private scheduleCacheWrite(): void {
    if (this.cacheTimer !== undefined) return;
    this.cacheTimer = setTimeout(() => {
      this.cacheTimer = undefined;
      this.writeCache();
    }, this.options.cacheWriteDelayMs ?? 100);
  }

  private writeCache(): void {
    const instance = this.instance;
    if (instance === undefined) return;
    const state = { nodeName: this.options.nodeName, controllerInstance: instance, slice: this.current };
    this.cacheWrite = this.cacheWrite
      .then(() => saveCachedState(this.options.cacheFile, state))
      .catch((error: unknown) => {
        this.log.error("failed to write policy cache", { node: this.options.nodeName, file: this.options.cacheFile, error: (error as Error).message });
      });
  }

  private url(path: string): URL {
    return new URL(path, this.options.controllerUrl);
  }

  private tlsOptions(): { ca: Buffer; cert: Buffer; key: Buffer; agent: false } {
    return { ca: this.options.tls.ca, cert: this.options.tls.cert, key: this.options.tls.key, agent: false };
  }
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    response.on("error", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}
