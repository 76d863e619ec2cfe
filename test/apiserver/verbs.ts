/**
 * The write verbs of the API (create, update, patch, delete) with the
 * semantics of kube-apiserver: metadata the server owns, optimistic
 * concurrency on resourceVersion, status subresources, namespaces that
 * must exist, and namespace deletion.
 *
 * Every method is all-or-nothing: it validates, then commits with one
 * store write (a namespace delete commits one write per contained object).
 */

import { randomUUID } from "node:crypto";
import { applyCreateDefaults, validateMetadata, validateName } from "./defaults.ts";
import type { JsonValue } from "./patch.ts";
import { PATCH_ERROR_CODES, PatchError, applyJsonPatch, applyMergePatch, isJsonObject, jsonEqual } from "./patch.ts";
import type { ResourceRegistry, ResourceType } from "./resources.ts";
import { ApiStatusError, alreadyExists, badRequest, conflict, invalid, notFound } from "./status.ts";
import type { KubeObject, ObjectStore } from "./store.ts";
import { applyStrategicMergePatch } from "./strategic-merge.ts";

export const PATCH_TYPES = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
} as const;
export type PatchType = (typeof PATCH_TYPES)[keyof typeof PATCH_TYPES];

/** Where a request points: a type, its namespace (for namespaced types) and a name. */
export interface Target {
  type: ResourceType;
  namespace: string | undefined;
  name: string;
}

export interface WriteOptions {
  /** `dryRun=All`: validate and return the result without storing it. */
  dryRun?: boolean;
  /** `status` for the status subresource. */
  subresource?: "status";
}

export interface DeleteOptions {
  dryRun?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
}

// Random suffix alphabet and length of names made from metadata.generateName (k8s.io/apiserver names.SimpleNameGenerator).
const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
const NAME_SUFFIX_LENGTH = 5;
const MAX_GENERATE_NAME_PREFIX = 58;

function timestampNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

function objectRef(target: Target): { group: string; plural: string; kind: string; name: string } {
  return { group: target.type.group, plural: target.type.plural, kind: target.type.kind, name: target.name };
}

/** Everything except metadata and status: a change here bumps metadata.generation. */
function specPart(object: KubeObject): Record<string, unknown> {
  const { metadata: _metadata, status: _status, ...rest } = object;
  return rest;
}

export class Verbs {
  private readonly store: ObjectStore;
  private readonly registry: ResourceRegistry;
  /** The core/v1 Namespace type. */
  readonly namespaceType: ResourceType;

  constructor(options: { store: ObjectStore; registry: ResourceRegistry }) {
    this.store = options.store;
    this.registry = options.registry;
    const namespaceType = options.registry.lookup("", "v1", "namespaces");
    if (namespaceType === undefined) {
      throw new Error("the registry has no core/v1 namespaces type");
    }
    this.namespaceType = namespaceType;
  }

  /** Checks kind and apiVersion of a request body against the URL, filling them in when absent as the real decoder does. */
  private checkBody(type: ResourceType, body: unknown): KubeObject {
    if (!isJsonObject(body)) {
      throw badRequest(`the request body must be a JSON object of kind ${type.kind}`);
    }
    const object = structuredClone(body) as unknown as KubeObject;
    object.kind ??= type.kind;
    object.apiVersion ??= type.apiVersion;
    if (object.kind !== type.kind || object.apiVersion !== type.apiVersion) {
      throw badRequest(`the body is a ${String(object.apiVersion)} ${String(object.kind)}, but the URL addresses ${type.apiVersion} ${type.kind}`);
    }
    if (!isJsonObject(object.metadata as unknown as JsonValue)) {
      object.metadata = {};
    }
    return object;
  }

  private checkNamespace(type: ResourceType, object: KubeObject, namespace: string | undefined): void {
    if (!type.namespaced) {
      delete object.metadata.namespace;
      return;
    }
    const requested = namespace ?? "";
    if (object.metadata.namespace !== undefined && object.metadata.namespace !== "" && object.metadata.namespace !== requested) {
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    object.metadata.namespace = requested;
  }

  private requireNamespace(namespace: string | undefined): void {
    if (namespace === undefined || this.store.get(this.namespaceType, undefined, namespace) === undefined) {
      throw notFound({ group: "", plural: "namespaces", kind: "Namespace", name: namespace ?? "" });
    }
  }

  private generateName(type: ResourceType, object: KubeObject): string {
    const prefix = (object.metadata.generateName ?? "").slice(0, MAX_GENERATE_NAME_PREFIX);
    for (let attempt = 0; attempt < 8; attempt += 1) {
      let suffix = "";
      for (let i = 0; i < NAME_SUFFIX_LENGTH; i += 1) {
        suffix += NAME_ALPHABET[Math.floor(Math.random() * NAME_ALPHABET.length)];
      }
      const name = prefix + suffix;
      if (this.store.get(type, object.metadata.namespace, name) === undefined) {
        return name;
      }
    }
    throw alreadyExists({ group: type.group, plural: type.plural, kind: type.kind, name: `${prefix}*` });
  }

  private allocateClusterIp(): string {
    const serviceType = this.registry.lookup("", "v1", "services");
    const used = new Set<string>();
    for (const service of serviceType === undefined ? [] : this.store.list(serviceType)) {
      const spec = service.spec as { clusterIP?: string } | undefined;
      if (spec?.clusterIP !== undefined) used.add(spec.clusterIP);
    }
    // 10.96.0.0/12 is kube-apiserver's default --service-cluster-ip-range; .1 belongs to the `kubernetes` Service.
    for (let offset = 10; offset < 1 << 20; offset += 1) {
      const ip = `10.${96 + (offset >> 16)}.${(offset >> 8) & 0xff}.${offset & 0xff}`;
      if (!used.has(ip)) return ip;
    }
    throw new ApiStatusError({ code: 500, reason: "InternalError", message: "the service cluster IP range 10.96.0.0/12 is exhausted" });
  }

  /** Creates an object (POST to a collection). */
  create(options: { type: ResourceType; namespace: string | undefined; body: unknown } & WriteOptions): KubeObject {
    const { type } = options;
    const object = this.checkBody(type, options.body);
    this.checkNamespace(type, object, options.namespace);
    if (type.namespaced) {
      this.requireNamespace(object.metadata.namespace);
    }

    if ((object.metadata.name ?? "") === "") {
      if ((object.metadata.generateName ?? "") === "") {
        throw invalid({ group: type.group, kind: type.kind, name: "", field: "metadata.name", problem: "Required value: name or generateName is required" });
      }
      object.metadata.name = this.generateName(type, object);
    }
    const target: Target = { type, namespace: object.metadata.namespace, name: object.metadata.name ?? "" };
    validateName(type, target.name);
    validateMetadata(type, object);
    if ((object.metadata.resourceVersion ?? "") !== "") {
      throw new ApiStatusError({ code: 500, reason: "InternalError", message: "resourceVersion should not be set on objects to be created" });
    }
    if (this.store.get(type, target.namespace, target.name) !== undefined) {
      throw alreadyExists(objectRef(target));
    }

    object.metadata.uid = randomUUID();
    object.metadata.creationTimestamp = timestampNow();
    object.metadata.generation = 1;
    delete object.metadata.deletionTimestamp;
    applyCreateDefaults(type, object, () => this.allocateClusterIp());
    if (options.dryRun === true) {
      return object;
    }
    return this.store.put(type, object);
  }

  /** Replaces an object (PUT), or only its status when `subresource` is `status`. */
  update(options: { target: Target; body: unknown } & WriteOptions): KubeObject {
    const { target } = options;
    const object = this.checkBody(target.type, options.body);
    this.checkNamespace(target.type, object, target.namespace);
    if ((object.metadata.name ?? "") !== target.name) {
      throw badRequest(`the name of the object (${object.metadata.name ?? ""}) does not match the name on the URL (${target.name})`);
    }
    const existing = this.store.get(target.type, target.namespace, target.name);
    if (existing === undefined) {
      if (target.type.allowCreateOnUpdate && options.subresource === undefined) {
        return this.create({ type: target.type, namespace: target.namespace, body: object, dryRun: options.dryRun ?? false });
      }
      throw notFound(objectRef(target));
    }
    return this.replace({ target, existing, desired: object, write: options });
  }

  /** Commits `desired` over `existing`: the shared end of update and patch. */
  private replace(options: { target: Target; existing: KubeObject; desired: KubeObject; write: WriteOptions }): KubeObject {
    const { target, existing, desired } = options;
    const requestedVersion = desired.metadata.resourceVersion ?? "";
    if (requestedVersion !== "" && requestedVersion !== existing.metadata.resourceVersion) {
      throw conflict(objectRef(target), "the object has been modified; please apply your changes to the latest version and try again");
    }
    if (desired.metadata.uid !== undefined && desired.metadata.uid !== "" && desired.metadata.uid !== existing.metadata.uid) {
      throw conflict(objectRef(target), `Precondition failed: UID in precondition: ${desired.metadata.uid}, UID in object meta: ${existing.metadata.uid ?? ""}`);
    }

    let next: KubeObject;
    if (options.write.subresource === "status") {
      // NOTE: simplified. A status write keeps everything but the status of the
      // stored object, while a real server also accepts some metadata changes.
      next = { ...existing, metadata: { ...existing.metadata }, status: desired.status };
      if (desired.status === undefined) delete next.status;
    } else {
      next = { ...desired, metadata: { ...desired.metadata } };
      if (target.type.statusSubresource) {
        next.status = existing.status;
        if (existing.status === undefined) delete next.status;
      }
      validateMetadata(target.type, next);
    }

    next.metadata.uid = existing.metadata.uid;
    next.metadata.creationTimestamp = existing.metadata.creationTimestamp;
    next.metadata.namespace = existing.metadata.namespace;
    if (!target.type.namespaced) delete next.metadata.namespace;
    next.metadata.resourceVersion = existing.metadata.resourceVersion;
    next.metadata.generation = existing.metadata.generation ?? 1;
    if (existing.metadata.deletionTimestamp !== undefined) next.metadata.deletionTimestamp = existing.metadata.deletionTimestamp;
    if (!jsonEqual(specPart(next) as JsonValue, specPart(existing) as JsonValue)) {
      next.metadata.generation += 1;
    }

    if (jsonEqual(next as unknown as JsonValue, existing as unknown as JsonValue)) {
      // A write that changes nothing keeps the resourceVersion and sends no watch event, as on a real server.
      return existing;
    }
    if (options.write.dryRun === true) {
      return next;
    }
    if (next.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).length === 0) {
      // The last finalizer is gone from an object marked for deletion, so the deletion completes.
      return this.store.remove(target.type, target.namespace, target.name) ?? next;
    }
    return this.store.put(target.type, next);
  }

  /** Applies a PATCH of one of the PATCH_TYPES to an object or its status. */
  patch(options: { target: Target; patchType: string; body: JsonValue } & WriteOptions): KubeObject {
    const { target } = options;
    const existing = this.store.get(target.type, target.namespace, target.name);
    if (existing === undefined) {
      throw notFound(objectRef(target));
    }
    const patched = this.applyPatch({ type: target.type, existing, patchType: options.patchType, body: options.body });
    const desired = this.checkBody(target.type, patched);
    if (desired.metadata.name !== target.name) {
      throw badRequest(`a patch cannot change metadata.name (from ${target.name} to ${String(desired.metadata.name)})`);
    }
    return this.replace({ target, existing, desired, write: options });
  }

  private applyPatch(options: { type: ResourceType; existing: KubeObject; patchType: string; body: JsonValue }): JsonValue {
    const original = options.existing as unknown as JsonValue;
    const isCustom = options.type.custom;
    try {
      switch (options.patchType) {
        case PATCH_TYPES.merge:
          return applyMergePatch(original, options.body);
        case PATCH_TYPES.json:
          return applyJsonPatch(original, options.body);
        case PATCH_TYPES.strategic:
          if (!isCustom) {
            return applyStrategicMergePatch(original, options.body, options.type.kind);
          }
          break;
        default:
          break;
      }
    } catch (error) {
      if (error instanceof PatchError) {
        throw error.code === PATCH_ERROR_CODES.malformed
          ? badRequest(error.message, error)
          : new ApiStatusError({ code: 422, reason: "Invalid", message: error.message, cause: error });
      }
      throw error;
    }
    const accepted = isCustom ? [PATCH_TYPES.json, PATCH_TYPES.merge] : [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic];
    // NOTE: server-side apply (application/apply-patch+yaml) is not implemented.
    throw new ApiStatusError({
      code: 415,
      reason: "UnsupportedMediaType",
      message: `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`,
    });
  }

  /** Deletes an object and returns it; deleting a Namespace first deletes every object in it. */
  delete(options: { target: Target } & DeleteOptions): KubeObject {
    const { target } = options;
    const existing = this.store.get(target.type, target.namespace, target.name);
    if (existing === undefined) {
      throw notFound(objectRef(target));
    }
    const preconditions = options.preconditions ?? {};
    if (preconditions.uid !== undefined && preconditions.uid !== existing.metadata.uid) {
      throw conflict(objectRef(target), `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${existing.metadata.uid ?? ""}`);
    }
    if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(objectRef(target), `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion ?? ""}`);
    }
    if (options.dryRun === true) {
      return existing;
    }
    if (target.type === this.namespaceType) {
      this.deleteNamespaceContents(target.name);
    } else if ((existing.metadata.finalizers ?? []).length > 0) {
      return this.markForDeletion(target, existing);
    }
    return this.store.remove(target.type, target.namespace, target.name) ?? existing;
  }

  /**
   * Sets deletionTimestamp on an object that still has finalizers, as a real
   * server does. The object goes once an update removes its last finalizer.
   * Idempotent: a second delete returns the object unchanged.
   */
  private markForDeletion(target: Target, existing: KubeObject): KubeObject {
    if (existing.metadata.deletionTimestamp !== undefined) {
      return existing;
    }
    const marked = { ...existing, metadata: { ...existing.metadata, deletionTimestamp: timestampNow(), deletionGracePeriodSeconds: 0 } };
    return this.store.put(target.type, marked);
  }

  /**
   * NOTE: simplified. A real server marks the namespace Terminating, and a
   * controller deletes its contents later. Here they go at once, each with
   * its own DELETED event and whatever their finalizers, and the namespace
   * itself goes last.
   */
  private deleteNamespaceContents(namespace: string): void {
    for (const type of this.registry.types) {
      if (!type.namespaced) continue;
      for (const object of this.store.list(type, namespace)) {
        this.store.remove(type, namespace, object.metadata.name ?? "");
      }
    }
  }
}
