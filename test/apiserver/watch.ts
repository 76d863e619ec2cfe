/**
 * The watch verb: a chunked HTTP response carrying one JSON watch event
 * per line (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR).
 *
 * Start point, as on kube-apiserver 1.32:
 * - no resourceVersion, or "0": synthetic ADDED events for the current
 *   objects, then live changes;
 * - sendInitialEvents=true: the same, then a BOOKMARK annotated
 *   `k8s.io/initial-events-end: "true"`;
 * - resourceVersion N: every change after N from the history, then live
 *   changes, or an ERROR event with a 410 Status when N was compacted.
 *
 * Selectors are applied per event against both the old and the new object,
 * so an object that stops matching reaches this watcher as DELETED and one
 * that starts matching as ADDED.
 *
 * A watcher that stops reading is ended once MAX_BUFFERED_BYTES of events
 * wait in its socket buffer, as kube-apiserver ends unresponsive watchers.
 * The client then resumes from its last resourceVersion.
 */

import type { ServerResponse } from "node:http";
import type { ResourceType } from "./resources.ts";
import type { FieldSelector, LabelSelector } from "./selectors.ts";
import { matchesFields, matchesLabels } from "./selectors.ts";
import { ApiStatusError } from "./status.ts";
import type { ChangeType, KubeObject, ObjectStore, StoreEvent } from "./store.ts";
import type { IncludeObject } from "./table.ts";
import { buildTable } from "./table.ts";

export interface WatchRequest {
  type: ResourceType;
  namespace: string | undefined;
  labelSelector: LabelSelector;
  fieldSelector: FieldSelector;
  resourceVersion: string | undefined;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutSeconds: number;
  table: { apiVersion: string; include: IncludeObject } | undefined;
}

export interface WatchSettings {
  bookmarkIntervalMs: number;
}

type EventType = ChangeType | "BOOKMARK" | "ERROR";

/** Unsent event bytes at which a watch that does not read is ended. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** One open watch connection; `close` ends it cleanly and `destroy` drops its socket. */
export class WatchStream {
  private readonly request: WatchRequest;
  private readonly response: ServerResponse;
  private readonly store: ObjectStore;
  private unsubscribe: (() => void) | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private finished = false;
  private readonly onFinish: () => void;
  private readonly settings: WatchSettings;

  constructor(options: { request: WatchRequest; response: ServerResponse; store: ObjectStore; settings: WatchSettings; onFinish: () => void }) {
    this.request = options.request;
    this.response = options.response;
    this.store = options.store;
    this.settings = options.settings;
    this.onFinish = options.onFinish;
  }

  /** Sends the headers and the start-point events, then follows the store. Call once. */
  open(): void {
    const settings = this.settings;
    this.response.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked", "Cache-Control": "no-cache, private" });
    this.response.flushHeaders();
    this.response.on("close", () => this.cleanup());

    let backlog: StoreEvent[] | undefined;
    const version = this.request.resourceVersion ?? "";
    if (!this.request.sendInitialEvents && version !== "" && version !== "0") {
      try {
        backlog = this.store.eventsSince(Number(version));
      } catch (error) {
        if (error instanceof ApiStatusError) {
          this.write("ERROR", error.toStatus());
          this.close();
          return;
        }
        throw error;
      }
    }
    if (backlog === undefined) {
      this.sendInitialState();
    } else {
      for (const event of backlog) this.forward(event);
    }
    // Registration runs in the same tick as the replay, so no write can fall between them.
    this.unsubscribe = this.store.subscribe((event) => this.forward(event));
    if (this.request.allowBookmarks) {
      const timer = setInterval(() => this.sendBookmark(false), settings.bookmarkIntervalMs);
      timer.unref();
      this.timers.push(timer);
    }
    const timeout = setTimeout(() => this.close(), this.request.timeoutSeconds * 1000);
    timeout.unref();
    this.timers.push(timeout);
  }

  private sendInitialState(): void {
    for (const object of this.store.list(this.request.type, this.request.namespace)) {
      if (this.matches(object)) this.write("ADDED", object);
    }
    if (this.request.sendInitialEvents) {
      this.sendBookmark(true);
    }
  }

  private matches(object: KubeObject | undefined): boolean {
    if (object === undefined) return false;
    if (this.request.namespace !== undefined && object.metadata.namespace !== this.request.namespace) return false;
    return matchesLabels(this.request.labelSelector, object.metadata.labels) && matchesFields(this.request.fieldSelector, object);
  }

  /** Translates a store change into this watcher's view of it, if any. */
  private forward(event: StoreEvent): void {
    if (event.resource !== this.request.type || this.finished) return;
    const now = this.matches(event.object);
    const before = event.type === "ADDED" ? false : this.matches(event.previous);
    if (event.type === "DELETED") {
      if (before) this.write("DELETED", event.object);
    } else if (before && now) {
      this.write("MODIFIED", event.object);
    } else if (now) {
      this.write("ADDED", event.object);
    } else if (before) {
      this.write("DELETED", event.object);
    }
  }

  private sendBookmark(initialEventsEnd: boolean): void {
    const metadata: Record<string, unknown> = { resourceVersion: String(this.store.revision) };
    if (initialEventsEnd) {
      metadata.annotations = { "k8s.io/initial-events-end": "true" };
    }
    this.write("BOOKMARK", { kind: this.request.type.kind, apiVersion: this.request.type.apiVersion, metadata });
  }

  private write(type: EventType, object: unknown): void {
    if (this.finished) return;
    let payload = object;
    if (this.request.table !== undefined && (type === "ADDED" || type === "MODIFIED" || type === "DELETED")) {
      const kubeObject = object as KubeObject;
      payload = buildTable({
        kind: this.request.type.kind,
        objects: [kubeObject],
        tableApiVersion: this.request.table.apiVersion,
        include: this.request.table.include,
        metadata: { resourceVersion: kubeObject.metadata.resourceVersion },
      });
    }
    this.response.write(`${JSON.stringify({ type, object: payload })}\n`);
    if (this.response.writableLength > MAX_BUFFERED_BYTES) {
      this.close();
    }
  }

  /** Ends the response cleanly (the terminating chunk is sent). Idempotent. */
  close(): void {
    if (this.finished) return;
    this.cleanup();
    this.response.end();
  }

  /** Destroys the socket without a terminating chunk, as a crashed server or a dropped connection would. */
  destroy(): void {
    this.cleanup();
    this.response.socket?.destroy();
  }

  private cleanup(): void {
    if (this.finished) return;
    this.finished = true;
    this.unsubscribe?.();
    for (const timer of this.timers) clearTimeout(timer);
    this.onFinish();
  }
}
