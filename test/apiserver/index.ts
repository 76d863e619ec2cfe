/**
 * A local stand-in for kube-apiserver, faithful enough for
 * @kubernetes/client-node informers and kubectl 1.32: discovery, list and
 * watch with resourceVersion semantics, bookmarks and 410 Gone, the three
 * patch types, status subresources and optional persistence.
 * docs/apiserver.md lists what is faithful and what is simplified.
 *
 * Plain HTTP without authentication: listen on loopback only.
 */

import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ApiServerLogger } from "./handler.ts";
import { RequestHandler } from "./handler.ts";
import { writeKubeconfigFile } from "./kubeconfig.ts";
import { StateFileWriter, readStateFile } from "./persistence.ts";
import type { CustomResourceSpec } from "./resources.ts";
import { ResourceRegistry } from "./resources.ts";
import { ObjectStore } from "./store.ts";
import { Verbs } from "./verbs.ts";

export type { ApiServerLogger } from "./handler.ts";
export type { CustomResourceSpec, ResourceType } from "./resources.ts";
export type { KubeObject, ObjectMeta, StoreEvent } from "./store.ts";
export { ApiStatusError } from "./status.ts";
export type { StatusBody, StatusReason } from "./status.ts";
export { PATCH_TYPES } from "./verbs.ts";

export interface ApiServerOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** JSON file that keeps objects and the resourceVersion counter across restarts. */
  stateFile?: string;
  /** Delay before a change is written to the state file, in milliseconds; default 100. */
  stateWriteDelayMs?: number;
  customResources?: CustomResourceSpec[];
  /** Interval between BOOKMARK events on watches that allow them, in milliseconds; default 5000. */
  bookmarkIntervalMs?: number;
  /** Number of changes kept for watch replay and exact reads; older versions get 410. Default 1000. */
  historySize?: number;
  /** Length of a watch without timeoutSeconds, in seconds; default 1800 (kube-apiserver's --min-request-timeout). */
  watchTimeoutSeconds?: number;
  log?: ApiServerLogger;
}

/** Namespaces a fresh cluster has. */
const INITIAL_NAMESPACES = ["default", "kube-node-lease", "kube-public", "kube-system"];

const SILENT_LOGGER: ApiServerLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** A running server. Created by startApiServer(). */
export class ApiServer {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** The object store, for tests that read or seed state directly (writes through it skip validation and defaults). */
  readonly store: ObjectStore;
  readonly registry: ResourceRegistry;
  /** The write verbs with full API semantics, for seeding objects without HTTP. */
  readonly verbs: Verbs;
  private readonly server: Server;
  private readonly handler: RequestHandler;
  private readonly stateWriter: StateFileWriter | undefined;
  private readonly unsubscribeState: (() => void) | undefined;
  private closed = false;

  constructor(options: { server: Server; handler: RequestHandler; store: ObjectStore; registry: ResourceRegistry; verbs: Verbs; stateWriter: StateFileWriter | undefined }) {
    const address = options.server.address() as AddressInfo;
    this.server = options.server;
    this.handler = options.handler;
    this.store = options.store;
    this.registry = options.registry;
    this.verbs = options.verbs;
    this.stateWriter = options.stateWriter;
    this.port = address.port;
    this.host = address.address;
    const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
    this.url = `http://${hostPart}:${address.port}`;
    const writer = this.stateWriter;
    this.unsubscribeState = writer === undefined ? undefined : this.store.subscribe(() => writer.schedule());
  }

  /** Drops the event history: every older resourceVersion now gets 410 Gone. Open watches continue. */
  compact(): void {
    this.store.compact();
  }

  /** Destroys the socket of every open watch without a clean end; returns how many there were. */
  dropWatches(): number {
    const streams = [...this.handler.watches];
    for (const stream of streams) stream.destroy();
    return streams.length;
  }

  /** Ends every open watch cleanly, as a server-side timeout does; returns how many there were. */
  endWatches(): number {
    const streams = [...this.handler.watches];
    for (const stream of streams) stream.close();
    return streams.length;
  }

  /** Number of open watch connections. */
  get watchCount(): number {
    return this.handler.watches.size;
  }

  /** Writes a kubeconfig pointing at this server; `namespace` is the context's default (default "default"). */
  async writeKubeconfig(path: string, options: { namespace?: string } = {}): Promise<void> {
    await writeKubeconfigFile(path, { serverUrl: this.url, ...options });
  }

  /** Writes pending state to the state file now; a no-op without one. */
  async flushState(): Promise<void> {
    await this.stateWriter?.flush();
  }

  /** Stops listening, drops every connection and flushes the state file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dropWatches();
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closing;
    this.unsubscribeState?.();
    await this.stateWriter?.flush();
  }
}

function seedNamespaces(verbs: Verbs): void {
  for (const name of INITIAL_NAMESPACES) {
    verbs.create({ type: verbs.namespaceType, namespace: undefined, body: { metadata: { name } } });
  }
}

/**
 * Starts a server and resolves once it listens. With `stateFile`, objects
 * and the resourceVersion counter are loaded from it when it exists.
 * Otherwise the server starts with the namespaces default,
 * kube-node-lease, kube-public and kube-system.
 */
export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const log = options.log ?? SILENT_LOGGER;
  const registry = new ResourceRegistry(options.customResources ?? []);
  const store = new ObjectStore({ historySize: options.historySize ?? 1000 });
  const verbs = new Verbs({ store, registry });

  const snapshot = options.stateFile === undefined ? undefined : await readStateFile(options.stateFile);
  if (snapshot === undefined) {
    seedNamespaces(verbs);
  } else {
    store.restore(snapshot, registry.byKey());
    log.info("state loaded", { stateFile: options.stateFile, objects: snapshot.objects.length, resourceVersion: snapshot.revision });
  }
  const stateFile = options.stateFile;
  const stateWriter =
    stateFile === undefined
      ? undefined
      : new StateFileWriter({
          path: stateFile,
          debounceMs: options.stateWriteDelayMs ?? 100,
          takeSnapshot: () => store.snapshot(),
          onError: (error) => log.error("state file write failed", { stateFile, error: error.message, cause: String(error.cause) }),
        });

  let address = "127.0.0.1:0";
  const handler = new RequestHandler({
    registry,
    store,
    verbs,
    log,
    serverAddress: () => address,
    settings: {
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 5000,
      watchTimeoutSeconds: options.watchTimeoutSeconds ?? 1800,
      kubernetesVersion: { major: "1", minor: "32" },
    },
  });
  const server = createServer((request, response) => {
    void handler.handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const apiServer = new ApiServer({ server, handler, store, registry, verbs, stateWriter });
  address = `${apiServer.host}:${apiServer.port}`;
  if (snapshot === undefined) {
    stateWriter?.schedule();
  }
  log.info("API server listening", { url: apiServer.url, stateFile: options.stateFile });
  return apiServer;
}
