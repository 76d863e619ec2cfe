/**
 * In-memory object storage with a single global resourceVersion counter,
 * a bounded event history for watches and exact-version reads, and
 * synchronous change listeners.
 *
 * Concurrency: every method runs to completion on the Node.js event loop,
 * so each write is atomic with respect to reads, watch registration and
 * other writes. Callers get deep copies and never share storage.
 */

import type { ResourceType } from "./resources.ts";
import { resourceKey } from "./resources.ts";
import { expired } from "./status.ts";

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  [field: string]: unknown;
}

/** A Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export type ChangeType = "ADDED" | "MODIFIED" | "DELETED";

/** One committed change; `previous` is the object before a MODIFIED or DELETED. */
export interface StoreEvent {
  revision: number;
  type: ChangeType;
  resource: ResourceType;
  object: KubeObject;
  previous: KubeObject | undefined;
}

export type StoreListener = (event: StoreEvent) => void;

/** The persisted form of a store: every object and the revision counter. */
export interface StoreSnapshot {
  revision: number;
  objects: { resource: string; object: KubeObject }[];
}

function objectKey(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`;
}

function compareObjects(a: KubeObject, b: KubeObject): number {
  const ns = (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "");
  return ns !== 0 ? ns : (a.metadata.name ?? "").localeCompare(b.metadata.name ?? "");
}

/** Copies the objects of an event; the resource type stays shared so callers can compare it by identity. */
function copyEvent(event: StoreEvent): StoreEvent {
  return { ...event, object: structuredClone(event.object), previous: event.previous === undefined ? undefined : structuredClone(event.previous) };
}

export class ObjectStore {
  private revisionCounter = 0;
  /** Events with a revision at or below this one may be gone from the history. */
  private compacted = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: StoreEvent[] = [];
  private readonly listeners = new Set<StoreListener>();
  private readonly historySize: number;

  constructor(options: { historySize: number }) {
    if (!Number.isInteger(options.historySize) || options.historySize < 1) {
      throw new Error(`invalid historySize ${options.historySize}: use a positive integer`);
    }
    this.historySize = options.historySize;
  }

  /** The resourceVersion of the latest write, as a number. */
  get revision(): number {
    return this.revisionCounter;
  }

  /** Watches and exact reads from a revision below this one fail with 410. */
  get compactedRevision(): number {
    return this.compacted;
  }

  private bucket(type: ResourceType): Map<string, KubeObject> {
    const key = resourceKey(type);
    let bucket = this.objects.get(key);
    if (bucket === undefined) {
      bucket = new Map();
      this.objects.set(key, bucket);
    }
    return bucket;
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const object = this.bucket(type).get(`${namespace ?? ""}/${name}`);
    return object === undefined ? undefined : structuredClone(object);
  }

  /** Current objects of a type, sorted by namespace then name (the key order of etcd). */
  list(type: ResourceType, namespace?: string): KubeObject[] {
    const result: KubeObject[] = [];
    for (const object of this.bucket(type).values()) {
      if (namespace === undefined || object.metadata.namespace === namespace) {
        result.push(structuredClone(object));
      }
    }
    return result.sort(compareObjects);
  }

  /**
   * Objects of a type as they were at `revision`, rebuilt by undoing later
   * history. Throws a 410 ApiStatusError when that history was compacted.
   */
  listAt(type: ResourceType, revision: number, namespace?: string): KubeObject[] {
    if (revision < this.compacted) {
      throw expired(`too old resource version: ${revision} (${this.compacted})`);
    }
    const state = new Map<string, KubeObject>();
    for (const object of this.bucket(type).values()) {
      state.set(objectKey(object), object);
    }
    const key = resourceKey(type);
    for (let i = this.history.length - 1; i >= 0; i -= 1) {
      const event = this.history[i];
      if (event === undefined || event.revision <= revision) break;
      if (resourceKey(event.resource) !== key) continue;
      if (event.type === "ADDED") {
        state.delete(objectKey(event.object));
      } else if (event.previous !== undefined) {
        state.set(objectKey(event.previous), event.previous);
      }
    }
    return [...state.values()]
      .filter((object) => namespace === undefined || object.metadata.namespace === namespace)
      .map((object) => structuredClone(object))
      .sort(compareObjects);
  }

  /**
   * Events after `revision`, oldest first. Throws a 410 ApiStatusError when
   * some of them were compacted away.
   */
  eventsSince(revision: number): StoreEvent[] {
    if (revision < this.compacted) {
      throw expired(`too old resource version: ${revision} (${this.compacted})`);
    }
    return this.history.filter((event) => event.revision > revision).map((event) => copyEvent(event));
  }

  /** Stores `object` (new or replacing the one with its name) under the next revision and notifies listeners. */
  put(type: ResourceType, object: KubeObject): KubeObject {
    const bucket = this.bucket(type);
    const key = objectKey(object);
    const previous = bucket.get(key);
    const stored = structuredClone(object);
    this.revisionCounter += 1;
    stored.metadata.resourceVersion = String(this.revisionCounter);
    bucket.set(key, stored);
    this.record({ revision: this.revisionCounter, type: previous === undefined ? "ADDED" : "MODIFIED", resource: type, object: stored, previous });
    return structuredClone(stored);
  }

  /** Removes an object under the next revision; returns it with that revision, or undefined when absent. */
  remove(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const bucket = this.bucket(type);
    const key = `${namespace ?? ""}/${name}`;
    const previous = bucket.get(key);
    if (previous === undefined) {
      return undefined;
    }
    bucket.delete(key);
    this.revisionCounter += 1;
    const deleted = structuredClone(previous);
    deleted.metadata.resourceVersion = String(this.revisionCounter);
    this.record({ revision: this.revisionCounter, type: "DELETED", resource: type, object: deleted, previous });
    return structuredClone(deleted);
  }

  private record(event: StoreEvent): void {
    this.history.push(event);
    while (this.history.length > this.historySize) {
      const dropped = this.history.shift();
      if (dropped !== undefined) {
        this.compacted = dropped.revision;
      }
    }
    for (const listener of [...this.listeners]) {
      listener(copyEvent(event));
    }
  }

  /** Drops the whole event history: any older revision now gets 410. Idempotent. */
  compact(): void {
    this.history = [];
    this.compacted = this.revisionCounter;
  }

  /** Registers a listener called synchronously after each write; returns the function that removes it. */
  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): StoreSnapshot {
    const objects: StoreSnapshot["objects"] = [];
    for (const [resource, bucket] of this.objects) {
      for (const object of bucket.values()) {
        objects.push({ resource, object: structuredClone(object) });
      }
    }
    return { revision: this.revisionCounter, objects };
  }

  /**
   * Replaces the contents with a snapshot. History starts empty, so every
   * revision before the snapshot's gets 410, as after an etcd compaction.
   */
  restore(snapshot: StoreSnapshot, typesByKey: ReadonlyMap<string, ResourceType>): void {
    this.objects.clear();
    for (const entry of snapshot.objects) {
      const type = typesByKey.get(entry.resource);
      if (type === undefined) {
        throw new Error(`state holds objects of unknown resource "${entry.resource}": register it as a custom resource or remove the state file`);
      }
      this.bucket(type).set(objectKey(entry.object), structuredClone(entry.object));
    }
    this.revisionCounter = snapshot.revision;
    this.history = [];
    this.compacted = snapshot.revision;
  }
}
