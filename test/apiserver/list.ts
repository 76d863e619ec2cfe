/**
 * The list verb: selectors, `limit`/`continue` pagination over a consistent
 * snapshot, and the resourceVersion / resourceVersionMatch rules of
 * kube-apiserver.
 */

import type { ResourceType } from "./resources.ts";
import type { FieldSelector, LabelSelector } from "./selectors.ts";
import { matchesFields, matchesLabels } from "./selectors.ts";
import { ApiStatusError, badRequest, expired } from "./status.ts";
import type { KubeObject, ObjectStore } from "./store.ts";

export interface ListRequest {
  type: ResourceType;
  /** Undefined lists across all namespaces (or a cluster-scoped type). */
  namespace: string | undefined;
  labelSelector: LabelSelector;
  fieldSelector: FieldSelector;
  limit: number | undefined;
  continueToken: string | undefined;
  resourceVersion: string | undefined;
  resourceVersionMatch: string | undefined;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continueToken: string | undefined;
  remainingItemCount: number | undefined;
}

/** Decoded continue token: the snapshot revision and the key of the last item returned. */
interface ContinueState {
  revision: number;
  after: string;
}

function itemKey(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
}

// Tokens are opaque to clients: base64url of a small JSON document.
function encodeContinue(state: ContinueState): string {
  return Buffer.from(JSON.stringify({ rv: state.revision, after: state.after })).toString("base64url");
}

function decodeContinue(token: string): ContinueState {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { rv?: unknown; after?: unknown };
    if (typeof parsed.rv === "number" && typeof parsed.after === "string") {
      return { revision: parsed.rv, after: parsed.after };
    }
  } catch (error) {
    throw badRequest(`continue key is not valid: ${String(token)} is not a token from a previous list; list again without continue`, error);
  }
  throw badRequest(`continue key is not valid: ${String(token)} is not a token from a previous list; list again without continue`);
}

function parseRevision(text: string): number {
  if (!/^\d+$/.test(text)) {
    throw badRequest(`invalid resourceVersion "${text}": use a value from metadata.resourceVersion of an earlier response`);
  }
  return Number(text);
}

/** Picks the snapshot a list reads from and its revision. */
function readSnapshot(store: ObjectStore, request: ListRequest): { objects: KubeObject[]; revision: number; after: string | undefined } {
  const { type, namespace } = request;
  if (request.continueToken !== undefined) {
    if (request.resourceVersion !== undefined && request.resourceVersion !== "") {
      throw badRequest("specifying resource version is not allowed when using continue");
    }
    const state = decodeContinue(request.continueToken);
    if (state.revision < store.compactedRevision) {
      throw expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.");
    }
    return { objects: store.listAt(type, state.revision, namespace), revision: state.revision, after: state.after };
  }
  const version = request.resourceVersion ?? "";
  if (request.resourceVersionMatch !== undefined && request.resourceVersionMatch !== "" && version === "") {
    throw badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided");
  }
  if (request.resourceVersionMatch === "Exact") {
    const revision = parseRevision(version);
    return { objects: store.listAt(type, revision, namespace), revision, after: undefined };
  }
  if (request.resourceVersionMatch !== undefined && request.resourceVersionMatch !== "" && request.resourceVersionMatch !== "NotOlderThan") {
    throw badRequest(`invalid resourceVersionMatch "${request.resourceVersionMatch}": use Exact or NotOlderThan`);
  }
  if (version !== "" && version !== "0" && parseRevision(version) > store.revision) {
    // A real server waits up to a few seconds for its cache to catch up, then fails the same way.
    throw new ApiStatusError({
      code: 504,
      reason: "Timeout",
      message: `Too large resource version: ${version}, current: ${store.revision}`,
      details: { causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }], retryAfterSeconds: 1 },
    });
  }
  return { objects: store.list(type, namespace), revision: store.revision, after: undefined };
}

/** Runs a list request; throws ApiStatusError 400 for bad parameters and 410 for compacted versions. */
export function listObjects(store: ObjectStore, request: ListRequest): ListResult {
  if (request.limit !== undefined && (!Number.isInteger(request.limit) || request.limit < 0)) {
    throw badRequest(`invalid limit ${request.limit}: use a non-negative integer`);
  }
  const snapshot = readSnapshot(store, request);
  const filtered = snapshot.objects.filter(
    (object) =>
      (snapshot.after === undefined || itemKey(object) > snapshot.after) &&
      matchesLabels(request.labelSelector, object.metadata.labels) &&
      matchesFields(request.fieldSelector, object),
  );
  const limit = request.limit === undefined || request.limit === 0 ? filtered.length : request.limit;
  const items = filtered.slice(0, limit);
  const rest = filtered.length - items.length;
  const last = items[items.length - 1];
  const continueToken = rest > 0 && last !== undefined ? encodeContinue({ revision: snapshot.revision, after: itemKey(last) }) : undefined;
  const selectorsEmpty = request.labelSelector.length === 0 && request.fieldSelector.length === 0;
  return {
    items,
    resourceVersion: String(snapshot.revision),
    continueToken,
    remainingItemCount: continueToken !== undefined && selectorsEmpty ? rest : undefined,
  };
}
