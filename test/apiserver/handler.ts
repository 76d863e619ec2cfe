/**
 * The HTTP front of the server: discovery documents, then dispatch of each
 * resource request to list, watch, get or a write verb, with Status
 * bodies for every failure.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import type { ListResult } from "./list.ts";
import { listObjects } from "./list.ts";
import type { ResponseForm } from "./negotiation.ts";
import { negotiate } from "./negotiation.ts";
import { openApiDocument, openApiIndex } from "./openapi.ts";
import { PROTOBUF_MEDIA_TYPE, decodeProtobufObject } from "./protobuf.ts";
import type { JsonValue } from "./patch.ts";
import type { ResourceRegistry, ResourceType } from "./resources.ts";
import { coreVersions, groupDocument, groupList, resourceList } from "./resources.ts";
import type { ResourceRoute } from "./routes.ts";
import { parseResourceRoute, resourceNotFound, splitApiPath } from "./routes.ts";
import type { FieldSelector } from "./selectors.ts";
import { parseFieldSelector, parseLabelSelector, supportedFieldsFor } from "./selectors.ts";
import { ApiStatusError, badRequest, methodNotAllowed, notFound } from "./status.ts";
import type { KubeObject, ObjectStore } from "./store.ts";
import type { IncludeObject } from "./table.ts";
import { buildTable } from "./table.ts";
import type { DeleteOptions, Verbs } from "./verbs.ts";
import { WatchStream } from "./watch.ts";

/** The logging sink; a winston Logger fits it. */
export interface ApiServerLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface HandlerSettings {
  bookmarkIntervalMs: number;
  /** Watch length when the request has no timeoutSeconds (kube-apiserver's --min-request-timeout is 1800). */
  watchTimeoutSeconds: number;
  /** Kubernetes version reported by /version, e.g. "1.32". */
  kubernetesVersion: { major: string; minor: string };
}

// kube-apiserver rejects request bodies above 3 MiB.
const MAX_BODY_BYTES = 3 * 1024 * 1024;

function sendJson(response: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new ApiStatusError({ code: 413, reason: "BadRequest", message: `the request body is larger than ${MAX_BODY_BYTES} bytes` });
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

async function readJson(request: IncomingMessage, options: { optional: boolean }): Promise<JsonValue | undefined> {
  const body = await readBody(request);
  if (body.length === 0) {
    if (options.optional) return undefined;
    throw badRequest("the request body is empty; send a JSON object");
  }
  try {
    return JSON.parse(body.toString("utf8")) as JsonValue;
  } catch (error) {
    throw badRequest(`the request body is not valid JSON: ${(error as Error).message}`, error);
  }
}

function mediaType(request: IncomingMessage): string {
  return (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** Reads the object of a POST or PUT, as JSON or as the Kubernetes protobuf envelope. */
async function readObjectBody(request: IncomingMessage): Promise<JsonValue | undefined> {
  const type = mediaType(request);
  if (type === PROTOBUF_MEDIA_TYPE) {
    return decodeProtobufObject(await readBody(request)) as JsonValue;
  }
  if (type !== "" && type !== "application/json") {
    throw new ApiStatusError({
      code: 415,
      reason: "UnsupportedMediaType",
      message: `the body of the request was in an unknown format (${type}) - accepted media types include: application/json, ${PROTOBUF_MEDIA_TYPE}`,
    });
  }
  return readJson(request, { optional: false });
}

function isTrue(value: string | null): boolean {
  return value === "true" || value === "1";
}

function includeObject(query: URLSearchParams): IncludeObject {
  const value = query.get("includeObject");
  if (value === null || value === "" || value === "Metadata") return "Metadata";
  if (value === "Object" || value === "None") return value;
  throw badRequest(`invalid includeObject "${value}": use None, Metadata or Object`);
}

function parseIntegerParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === "") return undefined;
  if (!/^\d+$/.test(value)) throw badRequest(`invalid ${name} "${value}": use a non-negative integer`);
  return Number(value);
}

export class RequestHandler {
  private readonly registry: ResourceRegistry;
  private readonly store: ObjectStore;
  private readonly verbs: Verbs;
  private readonly settings: HandlerSettings;
  private readonly log: ApiServerLogger;
  private readonly serverAddress: () => string;
  /** Open watch streams; removed when they finish. */
  readonly watches = new Set<WatchStream>();

  constructor(options: { registry: ResourceRegistry; store: ObjectStore; verbs: Verbs; settings: HandlerSettings; log: ApiServerLogger; serverAddress: () => string }) {
    this.registry = options.registry;
    this.store = options.store;
    this.verbs = options.verbs;
    this.settings = options.settings;
    this.log = options.log;
    this.serverAddress = options.serverAddress;
  }

  /** Serves one request; never rejects, because every failure becomes a Status response. */
  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = new URL(request.url ?? "/", "http://apiserver.invalid");
    try {
      await this.route(request, response, url);
    } catch (error) {
      this.sendError(response, error, { method: request.method, path: url.pathname });
    }
    this.log.debug("request served", { method: request.method, path: url.pathname, query: url.search, code: response.statusCode, durationMs: Date.now() - started });
  }

  private sendError(response: ServerResponse, error: unknown, request: { method: string | undefined; path: string }): void {
    const apiError =
      error instanceof ApiStatusError
        ? error
        : new ApiStatusError({ code: 500, reason: "InternalError", message: `Internal error occurred: ${(error as Error).message ?? String(error)}`, cause: error });
    if (apiError.code >= 500) {
      this.log.error("request failed", { method: request.method, path: request.path, error: apiError.message, cause: String((error as Error).stack ?? error) });
    }
    if (response.headersSent) {
      response.destroy();
      return;
    }
    sendJson(response, apiError.code, apiError.toStatus());
  }

  private async route(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (this.serveDiscovery(request, response, path)) {
      return;
    }
    const apiPath = splitApiPath(path);
    if (apiPath === undefined || apiPath.rest.length === 0) {
      throw resourceNotFound();
    }
    const route = parseResourceRoute(this.registry, apiPath);
    await this.dispatch({ request, response, route, query: url.searchParams, path });
  }

  /** Serves the discovery and health endpoints; returns false for any other path. */
  private serveDiscovery(request: IncomingMessage, response: ServerResponse, path: string): boolean {
    if (request.method !== "GET" && request.method !== "HEAD") return false;
    const segments = path.split("/").filter((segment) => segment !== "");
    let body: object | undefined;
    if (path === "/healthz" || path === "/livez" || path === "/readyz") {
      response.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
      response.end("ok");
      return true;
    } else if (path === "/version") {
      const { major, minor } = this.settings.kubernetesVersion;
      body = { major, minor, gitVersion: `v${major}.${minor}.0-switchyard`, gitCommit: "", gitTreeState: "clean", buildDate: "1970-01-01T00:00:00Z", goVersion: "", compiler: "", platform: `${process.platform}/${process.arch}` };
    } else if (path === "/api") {
      body = coreVersions(this.serverAddress());
    } else if (path === "/apis") {
      body = groupList(this.registry);
    } else if (path === "/openapi/v3") {
      body = openApiIndex(this.registry);
    } else if (segments[0] === "openapi" && segments[1] === "v3") {
      body = openApiDocument(this.registry, segments.slice(2).join("/"));
      if (body === undefined) throw resourceNotFound();
    } else if (segments.length === 2 && segments[0] === "api") {
      body = resourceList(this.registry, "", segments[1] ?? "");
      if (body === undefined) throw resourceNotFound();
    } else if (segments.length === 2 && segments[0] === "apis") {
      body = groupDocument(this.registry, segments[1] ?? "");
      if (body === undefined) throw resourceNotFound();
    } else if (segments.length === 3 && segments[0] === "apis") {
      body = resourceList(this.registry, segments[1] ?? "", segments[2] ?? "");
      if (body === undefined) throw resourceNotFound();
    } else {
      return false;
    }
    sendJson(response, 200, body);
    return true;
  }

  private async dispatch(context: { request: IncomingMessage; response: ServerResponse; route: ResourceRoute; query: URLSearchParams; path: string }): Promise<void> {
    const { request, response, route, query } = context;
    const method = request.method ?? "GET";
    const watch = route.watchPrefix || isTrue(query.get("watch"));
    const dryRun = query.get("dryRun") === "All";
    const target = { type: route.type, namespace: route.namespace, name: route.name ?? "" };

    if (method === "GET" && (route.name === undefined || watch)) {
      if (watch && route.subresource === undefined) {
        this.startWatch({ route, query, request, response });
      } else if (route.name === undefined) {
        this.sendList({ route, query, request, response });
      } else {
        throw methodNotAllowed(method, context.path);
      }
      return;
    }
    if (route.name === undefined) {
      if (method === "POST" && (route.namespace !== undefined || !route.type.namespaced)) {
        const body = await readObjectBody(request);
        sendJson(response, 201, this.verbs.create({ type: route.type, namespace: route.namespace, body, dryRun }));
        return;
      }
      if (method === "DELETE") {
        const options = await this.readDeleteOptions(request);
        sendJson(response, 200, this.deleteCollection({ route, query, options: { ...options, dryRun } }));
        return;
      }
      throw methodNotAllowed(method, context.path);
    }
    switch (method) {
      case "GET":
        this.sendObject({ object: this.getObject(target), request, query, type: route.type, response });
        return;
      case "PUT": {
        const body = await readObjectBody(request);
        sendJson(response, 200, this.verbs.update({ target, body, dryRun, subresource: route.subresource }));
        return;
      }
      case "PATCH": {
        const body = await readJson(request, { optional: false });
        sendJson(response, 200, this.verbs.patch({ target, body: body ?? null, patchType: mediaType(request), dryRun, subresource: route.subresource }));
        return;
      }
      case "DELETE": {
        if (route.subresource !== undefined) throw methodNotAllowed(method, context.path);
        const options = await this.readDeleteOptions(request);
        sendJson(response, 200, this.verbs.delete({ target, ...options, dryRun: dryRun || options.dryRun === true }));
        return;
      }
      default:
        throw methodNotAllowed(method, context.path);
    }
  }

  private getObject(target: { type: ResourceType; namespace: string | undefined; name: string }): KubeObject {
    const object = this.store.get(target.type, target.namespace, target.name);
    if (object === undefined) {
      throw notFound({ group: target.type.group, plural: target.type.plural, kind: target.type.kind, name: target.name });
    }
    return object;
  }

  /** Sends one object, as a one-row Table when the Accept header requests one (`kubectl get pod NAME`). */
  private sendObject(context: { object: KubeObject; request: IncomingMessage; query: URLSearchParams; type: ResourceType; response: ServerResponse }): void {
    const form = negotiate(context.request.headers.accept);
    if (form.kind === "table") {
      const metadata = { resourceVersion: context.object.metadata.resourceVersion };
      sendJson(context.response, 200, buildTable({ kind: context.type.kind, objects: [context.object], tableApiVersion: form.apiVersion, include: includeObject(context.query), metadata }));
      return;
    }
    sendJson(context.response, 200, context.object);
  }

  private async readDeleteOptions(request: IncomingMessage): Promise<DeleteOptions> {
    if (mediaType(request) === PROTOBUF_MEDIA_TYPE) {
      // NOTE: protobuf DeleteOptions are not decoded, so their preconditions and dryRun are ignored.
      await readBody(request);
      return {};
    }
    const body = await readJson(request, { optional: true });
    if (body === undefined || body === null || typeof body !== "object" || Array.isArray(body)) {
      return {};
    }
    const options: DeleteOptions = {};
    const preconditions = body.preconditions;
    if (preconditions !== undefined && preconditions !== null && typeof preconditions === "object" && !Array.isArray(preconditions)) {
      options.preconditions = {};
      if (typeof preconditions.uid === "string") options.preconditions.uid = preconditions.uid;
      if (typeof preconditions.resourceVersion === "string") options.preconditions.resourceVersion = preconditions.resourceVersion;
    }
    if (Array.isArray(body.dryRun) && body.dryRun.includes("All")) options.dryRun = true;
    return options;
  }

  private selectors(route: ResourceRoute, query: URLSearchParams): { labelSelector: ReturnType<typeof parseLabelSelector>; fieldSelector: FieldSelector } {
    const fieldSelector = parseFieldSelector(query.get("fieldSelector"), supportedFieldsFor(route.type.kind));
    if (route.name !== undefined) {
      fieldSelector.push({ field: "metadata.name", operator: "=", value: route.name });
    }
    return { labelSelector: parseLabelSelector(query.get("labelSelector")), fieldSelector };
  }

  private runList(route: ResourceRoute, query: URLSearchParams): ListResult {
    return listObjects(this.store, {
      type: route.type,
      namespace: route.namespace,
      ...this.selectors(route, query),
      limit: parseIntegerParam(query, "limit"),
      continueToken: query.get("continue") || undefined,
      resourceVersion: query.get("resourceVersion") ?? undefined,
      resourceVersionMatch: query.get("resourceVersionMatch") ?? undefined,
    });
  }

  private sendList(context: { route: ResourceRoute; query: URLSearchParams; request: IncomingMessage; response: ServerResponse }): void {
    const form: ResponseForm = negotiate(context.request.headers.accept);
    const result = this.runList(context.route, context.query);
    const metadata: Record<string, unknown> = { resourceVersion: result.resourceVersion };
    if (result.continueToken !== undefined) metadata.continue = result.continueToken;
    if (result.remainingItemCount !== undefined) metadata.remainingItemCount = result.remainingItemCount;
    const type = context.route.type;
    if (form.kind === "table") {
      sendJson(context.response, 200, buildTable({ kind: type.kind, objects: result.items, tableApiVersion: form.apiVersion, include: includeObject(context.query), metadata }));
      return;
    }
    // Built-in list items carry no kind or apiVersion on the wire; custom resource items do.
    const items = type.custom ? result.items : result.items.map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest);
    sendJson(context.response, 200, { kind: type.listKind, apiVersion: type.apiVersion, metadata, items });
  }

  private startWatch(context: { route: ResourceRoute; query: URLSearchParams; request: IncomingMessage; response: ServerResponse }): void {
    const { query } = context;
    const form = negotiate(context.request.headers.accept);
    const sendInitialEvents = isTrue(query.get("sendInitialEvents"));
    const allowBookmarks = isTrue(query.get("allowWatchBookmarks"));
    if (sendInitialEvents && !allowBookmarks) {
      throw new ApiStatusError({ code: 422, reason: "Invalid", message: "sendInitialEvents requires setting allowWatchBookmarks to true" });
    }
    const timeoutSeconds = parseIntegerParam(query, "timeoutSeconds") ?? this.settings.watchTimeoutSeconds;
    const resourceVersion = query.get("resourceVersion") ?? undefined;
    if (resourceVersion !== undefined && resourceVersion !== "" && !/^\d+$/.test(resourceVersion)) {
      throw badRequest(`invalid resourceVersion "${resourceVersion}": use a value from metadata.resourceVersion of an earlier response`);
    }
    const stream = new WatchStream({
      request: {
        type: context.route.type,
        namespace: context.route.namespace,
        ...this.selectors(context.route, query),
        resourceVersion,
        allowBookmarks,
        sendInitialEvents,
        timeoutSeconds,
        table: form.kind === "table" ? { apiVersion: form.apiVersion, include: includeObject(query) } : undefined,
      },
      response: context.response,
      store: this.store,
      settings: { bookmarkIntervalMs: this.settings.bookmarkIntervalMs },
      onFinish: () => this.watches.delete(stream),
    });
    this.watches.add(stream);
    stream.open();
  }

  private deleteCollection(context: { route: ResourceRoute; query: URLSearchParams; options: DeleteOptions }): object {
    const { route } = context;
    const result = this.runList(route, context.query);
    const deleted = result.items.map((object) =>
      this.verbs.delete({ target: { type: route.type, namespace: object.metadata.namespace, name: object.metadata.name ?? "" }, ...context.options }),
    );
    return { kind: route.type.listKind, apiVersion: route.type.apiVersion, metadata: { resourceVersion: String(this.store.revision) }, items: deleted };
  }
}
