// The HTTPS API agents watch for their node's policy slice (wire format in protocol.ts).
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import type { NodeSlice, SliceEvent } from "../networkpolicy/types.ts";
import { errorMessage, type Logger } from "../../common/log/logger.ts";
import type { ControllerMetrics } from "../metrics.ts";
import { NodeEventLog, planResume, type ResumePlan } from "./event-log.ts";
import { peerIdentity } from "./identity.ts";
import {
  HEALTH_PATH,
  NDJSON_CONTENT_TYPE,
  PROTOCOL_VERSION,
  ProtocolError,
  STATUS_PATH,
  WATCH_PATH,
  encodeMessage,
  type NodeStatus,
  type WatchMessage,
} from "./protocol.ts";
import { RealizationStatusStore, parseStatusReport } from "./status.ts";

/** Source of a node's whole slice: the policy computer in the daemon. */
export interface SliceSource {
  snapshot(nodeName: string): NodeSlice;
}

export interface DistributionServerOptions {
  readonly source: SliceSource;
  /** PEM server certificate and key, and the CA that signs client certificates. */
  readonly tls: { readonly cert: Buffer; readonly key: Buffer; readonly ca: Buffer };
  readonly bindAddress: string;
  /** 0 picks a free port; listen() returns the one bound. */
  readonly port: number;
  readonly eventLogSize: number;
  readonly heartbeatMs: number;
  readonly maxBufferedBytes: number;
  /** Random id of this controller process, sent to agents so they detect a restart. */
  readonly instanceId: string;
  readonly logger: Logger;
  readonly metrics: ControllerMetrics;
}

/** One open watch stream. */
interface Watcher {
  readonly node: string;
  readonly response: ServerResponse;
  heartbeat: NodeJS.Timeout | undefined;
  /** Generation of the last event written to this stream. */
  generation: number;
}

const MAX_STATUS_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Serves slices to agents. publish() must receive every event the computer emits, in
 * order, from before the first input call, because the per-node event logs start empty at
 * generation 0. All methods run on the event loop and are safe to call between I/O events.
 */
export class DistributionServer {
  private readonly options: DistributionServerOptions;
  private readonly server: Server;
  private readonly logs = new Map<string, NodeEventLog>();
  private readonly watchers = new Map<string, Set<Watcher>>();
  readonly status = new RealizationStatusStore();

  constructor(options: DistributionServerOptions) {
    this.options = options;
    this.server = createServer(
      { cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca, requestCert: true, rejectUnauthorized: false, minVersion: "TLSv1.2" },
      (request, response) => this.route(request, response),
    );
    // Watch streams are long-lived by design; only the request head has a deadline.
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 30_000;
    options.metrics.onScrape(() => this.updateGauges());
  }

  /** Starts listening and returns the bound port. */
  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.bindAddress, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    const port = (this.server.address() as AddressInfo).port;
    this.options.logger.info("distribution API listening", { address: this.options.bindAddress, port });
    return port;
  }

  /** Closes every watch stream and stops listening. Idempotent. */
  async close(): Promise<void> {
    for (const set of this.watchers.values()) {
      for (const watcher of set) watcher.response.destroy();
    }
    this.server.closeAllConnections();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Appends a node's events to its log and writes them to the node's open streams. */
  publish(node: string, events: readonly SliceEvent[]): void {
    if (events.length === 0) return;
    let log = this.logs.get(node);
    if (log === undefined) {
      log = new NodeEventLog({ capacity: this.options.eventLogSize });
      this.logs.set(node, log);
    }
    log.append(events);
    for (const watcher of this.watchers.get(node) ?? []) {
      const fresh = events.filter((event) => event.generation > watcher.generation);
      if (fresh.length === 0) continue;
      this.send(watcher, { type: "events", events: fresh });
      this.options.logger.debug("slice events sent", { node, events: fresh.length, generation: fresh[fresh.length - 1]?.generation });
    }
  }

  /** Drops a deleted node's event log and status; its agent gets a snapshot if it reconnects. */
  forgetNode(node: string): void {
    this.logs.delete(node);
    this.status.forget(node);
  }

  /** Realization status of every node with a log, a report or an open stream. */
  nodeStatuses(): NodeStatus[] {
    const nodes = new Set([...this.logs.keys(), ...this.status.nodes(), ...this.watchers.keys()]);
    return [...nodes].sort().map((node) => this.nodeStatus(node));
  }

  connectedAgents(): number {
    let count = 0;
    for (const set of this.watchers.values()) count += set.size;
    return count;
  }

  private nodeStatus(node: string): NodeStatus {
    const report = this.status.get(node);
    const entry: NodeStatus = {
      node,
      controllerGeneration: this.logs.get(node)?.latest ?? 0,
      connectedAgents: this.watchers.get(node)?.size ?? 0,
    };
    if (report !== undefined) entry.report = report;
    return entry;
  }

  private route(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? "/", "https://controller");
    if (url.pathname === HEALTH_PATH && request.method === "GET") {
      respond(response, 200, "ok\n", "text/plain");
      return;
    }
    const identity = peerIdentity(request.socket as TLSSocket);
    if (identity.kind === "rejected") {
      this.options.logger.warn("distribution API request rejected", { path: url.pathname, reason: identity.reason, remote: request.socket.remoteAddress });
      respond(response, identity.status, `${identity.reason}\n`, "text/plain");
      return;
    }
    if (url.pathname === WATCH_PATH && request.method === "GET") {
      if (identity.kind !== "node") {
        respond(response, 403, "only node certificates can watch a slice\n", "text/plain");
        return;
      }
      this.startWatch({ node: identity.node, url, response });
      return;
    }
    if (url.pathname === STATUS_PATH && request.method === "POST") {
      if (identity.kind !== "node") {
        respond(response, 403, "only node certificates can report status\n", "text/plain");
        return;
      }
      this.receiveStatus(identity.node, request, response);
      return;
    }
    if (url.pathname === STATUS_PATH && request.method === "GET") {
      const statuses = identity.kind === "operator" ? this.nodeStatuses() : [this.nodeStatus(identity.node)];
      respond(response, 200, `${JSON.stringify(statuses)}\n`, "application/json");
      return;
    }
    respond(response, 404, `no endpoint ${request.method ?? ""} ${url.pathname}\n`, "text/plain");
  }

  private startWatch(options: { node: string; url: URL; response: ServerResponse }): void {
    const { node, url, response } = options;
    const request = readResumeRequest(url);
    if (typeof request === "string") {
      respond(response, 400, `${request}\n`, "text/plain");
      return;
    }
    const plan = this.plan(node, request);
    const watcher: Watcher = { node, response, heartbeat: undefined, generation: 0 };
    response.writeHead(200, { "Content-Type": NDJSON_CONTENT_TYPE, "Cache-Control": "no-store" });
    this.sendInitial(watcher, plan.plan, plan.snapshot);
    this.register(watcher);
    const reason = plan.plan.mode === "snapshot" ? plan.plan.reason : "none";
    this.options.metrics.watchStarts.inc({ mode: plan.plan.mode, reason });
    this.options.logger.info("agent watch started", { node, mode: plan.plan.mode, reason, generation: watcher.generation });
  }

  private plan(node: string, request: { instance?: string; generation?: number }): { plan: ResumePlan; snapshot: () => NodeSlice } {
    let cached: NodeSlice | undefined;
    const snapshot = (): NodeSlice => (cached ??= this.options.source.snapshot(node));
    const log = this.logs.get(node);
    // Without a log the computer's generation is only known from a snapshot.
    const currentGeneration = log?.latest ?? snapshot().generation;
    const plan = planResume({ request, instance: this.options.instanceId, currentGeneration, log });
    return { plan, snapshot };
  }

  private sendInitial(watcher: Watcher, plan: ResumePlan, snapshot: () => NodeSlice): void {
    const base = { type: "hello", protocol: PROTOCOL_VERSION, node: watcher.node, controllerInstance: this.options.instanceId, heartbeatMs: this.options.heartbeatMs } as const;
    if (plan.mode === "snapshot") {
      const slice = snapshot();
      this.send(watcher, { ...base, mode: "snapshot", resyncReason: plan.reason, generation: slice.generation });
      this.send(watcher, { type: "snapshot", generation: slice.generation, slice });
      watcher.generation = slice.generation;
      return;
    }
    const last = plan.events.at(-1)?.generation;
    const generation = last ?? this.logs.get(watcher.node)?.latest ?? snapshot().generation;
    this.send(watcher, { ...base, mode: "resume", generation });
    this.send(watcher, { type: "events", events: plan.events });
    watcher.generation = generation;
  }

  private register(watcher: Watcher): void {
    let set = this.watchers.get(watcher.node);
    if (set === undefined) {
      set = new Set();
      this.watchers.set(watcher.node, set);
    }
    set.add(watcher);
    watcher.heartbeat = setInterval(() => this.send(watcher, { type: "heartbeat", generation: watcher.generation }), this.options.heartbeatMs);
    watcher.heartbeat.unref();
    watcher.response.on("close", () => this.unregister(watcher));
    this.options.metrics.connectedAgents.set(this.connectedAgents());
  }

  private unregister(watcher: Watcher): void {
    clearInterval(watcher.heartbeat);
    const set = this.watchers.get(watcher.node);
    if (set === undefined || !set.delete(watcher)) return;
    if (set.size === 0) this.watchers.delete(watcher.node);
    this.options.logger.info("agent watch closed", { node: watcher.node, generation: watcher.generation });
    this.options.metrics.connectedAgents.set(this.connectedAgents());
  }

  /**
   * Writes one line. The buffer limit is checked before writing, so one message larger
   * than the limit (a big snapshot) still goes out, but an agent that leaves earlier data
   * unread is disconnected. It then reconnects and resumes or resyncs.
   */
  private send(watcher: Watcher, message: WatchMessage): void {
    if (watcher.response.destroyed) return;
    if (watcher.response.writableLength > this.options.maxBufferedBytes) {
      this.options.logger.warn("closing slow agent watch", { node: watcher.node, bufferedBytes: watcher.response.writableLength });
      watcher.response.destroy();
      return;
    }
    watcher.response.write(encodeMessage(message));
    if (message.type === "events") {
      const last = message.events.at(-1);
      if (last !== undefined) watcher.generation = last.generation;
      this.options.metrics.eventsSent.inc(message.events.length);
    }
  }

  private receiveStatus(node: string, request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_STATUS_BODY_BYTES) {
        respond(response, 413, `status report exceeds ${MAX_STATUS_BODY_BYTES} bytes\n`, "text/plain");
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (response.headersSent) return;
      try {
        const report = parseStatusReport(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        this.recordStatus(node, report);
        respond(response, 204, "", "text/plain");
      } catch (error) {
        const message = error instanceof ProtocolError ? error.message : `status report is not JSON: ${errorMessage(error)}`;
        respond(response, 400, `${message}\n`, "text/plain");
      }
    });
  }

  private recordStatus(node: string, report: ReturnType<typeof parseStatusReport>): void {
    const previous = this.status.record(node, report);
    const level = report.failed.length > 0 ? "warn" : "info";
    if (previous === undefined || previous.failed.length !== report.failed.length || previous.realized.length !== report.realized.length) {
      this.options.logger.log(level, "agent realization status", {
        node,
        generation: report.generation,
        realized: report.realized.length,
        failed: report.failed.map((f) => ({ policy: f.policyId, error: f.message })),
      });
    }
  }

  private updateGauges(): void {
    const metrics = this.options.metrics;
    metrics.connectedAgents.set(this.connectedAgents());
    let pending = 0;
    for (const node of this.watchers.keys()) {
      const latest = this.logs.get(node)?.latest ?? 0;
      const reported = this.status.get(node)?.generation ?? 0;
      pending += Math.max(0, latest - reported);
    }
    metrics.pendingUpdates.set(pending);
    const totals = this.status.totals();
    metrics.realization.set({ state: "realized" }, totals.realized);
    metrics.realization.set({ state: "failed" }, totals.failed);
  }
}

/** Reads instance and generation from the query; returns an error message when invalid. */
function readResumeRequest(url: URL): { instance?: string; generation?: number } | string {
  const instance = url.searchParams.get("instance") ?? undefined;
  const generationText = url.searchParams.get("generation") ?? undefined;
  if (generationText === undefined) return instance === undefined ? {} : { instance };
  if (!/^\d{1,15}$/.test(generationText)) {
    return `invalid generation ${JSON.stringify(generationText)}: expected a non-negative integer`;
  }
  return instance === undefined ? { generation: Number(generationText) } : { instance, generation: Number(generationText) };
}

function respond(response: ServerResponse, status: number, body: string, contentType: string): void {
  if (response.headersSent) return;
  response.writeHead(status, { "Content-Type": contentType });
  response.end(body);
}
