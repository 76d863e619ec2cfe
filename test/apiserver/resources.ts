/**
 * The resource types this server serves and the discovery documents
 * (`/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>`) built from them.
 */

/** A custom resource registered at start-up, as a CustomResourceDefinition would declare it. */
export interface CustomResourceSpec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** Whether `/status` is a subresource (as with `subresources.status: {}` in a CRD). Default false. */
  statusSubresource?: boolean;
}

/** One served resource type. */
export interface ResourceType {
  group: string;
  version: string;
  /** `v1` for core, `<group>/<version>` otherwise. */
  apiVersion: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** When true, `/status` exists, writes to the main resource keep the stored status, and create drops the status of the request unless `keepStatusOnCreate`. */
  statusSubresource: boolean;
  keepStatusOnCreate: boolean;
  /** Whether PUT of a missing object creates it (true for Endpoints and Events on a real server). */
  allowCreateOnUpdate: boolean;
  /** True for types registered as custom resources: no strategic merge patch, and list items keep kind and apiVersion. */
  custom: boolean;
}

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] as const;

function builtin(spec: Omit<ResourceType, "apiVersion" | "listKind" | "categories" | "keepStatusOnCreate" | "allowCreateOnUpdate" | "custom"> &
  Partial<Pick<ResourceType, "categories" | "keepStatusOnCreate" | "allowCreateOnUpdate">>): ResourceType {
  return {
    ...spec,
    apiVersion: spec.group === "" ? spec.version : `${spec.group}/${spec.version}`,
    listKind: `${spec.kind}List`,
    categories: spec.categories ?? [],
    keepStatusOnCreate: spec.keepStatusOnCreate ?? false,
    allowCreateOnUpdate: spec.allowCreateOnUpdate ?? false,
    custom: false,
  };
}

/** Returns the built-in types, with the flags of kube-apiserver 1.32's registry strategies. */
export function builtinResourceTypes(): ResourceType[] {
  return [
    builtin({ group: "", version: "v1", kind: "Pod", plural: "pods", singular: "pod", namespaced: true, shortNames: ["po"], categories: ["all"], statusSubresource: true }),
    builtin({ group: "", version: "v1", kind: "Node", plural: "nodes", singular: "node", namespaced: false, shortNames: ["no"], statusSubresource: true, keepStatusOnCreate: true }),
    builtin({ group: "", version: "v1", kind: "Namespace", plural: "namespaces", singular: "namespace", namespaced: false, shortNames: ["ns"], statusSubresource: true }),
    builtin({ group: "", version: "v1", kind: "Service", plural: "services", singular: "service", namespaced: true, shortNames: ["svc"], categories: ["all"], statusSubresource: true }),
    builtin({ group: "", version: "v1", kind: "Endpoints", plural: "endpoints", singular: "endpoints", namespaced: true, shortNames: ["ep"], statusSubresource: false, allowCreateOnUpdate: true }),
    builtin({ group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", singular: "serviceaccount", namespaced: true, shortNames: ["sa"], statusSubresource: false }),
    builtin({ group: "", version: "v1", kind: "Event", plural: "events", singular: "event", namespaced: true, shortNames: ["ev"], statusSubresource: false, allowCreateOnUpdate: true }),
    builtin({ group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", plural: "endpointslices", singular: "endpointslice", namespaced: true, shortNames: [], statusSubresource: false }),
    builtin({ group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies", singular: "networkpolicy", namespaced: true, shortNames: ["netpol"], statusSubresource: false }),
  ];
}

export function customResourceType(spec: CustomResourceSpec): ResourceType {
  const type = builtin({
    group: spec.group,
    version: spec.version,
    kind: spec.kind,
    plural: spec.plural,
    singular: spec.singular,
    namespaced: spec.namespaced,
    shortNames: spec.shortNames ?? [],
    categories: spec.categories ?? [],
    statusSubresource: spec.statusSubresource ?? false,
  });
  return { ...type, custom: true };
}

/** Resource types indexed by group/version/plural; immutable after construction. */
export class ResourceRegistry {
  readonly types: readonly ResourceType[];
  private readonly byPath = new Map<string, ResourceType>();

  constructor(customResources: readonly CustomResourceSpec[]) {
    const types = builtinResourceTypes();
    for (const spec of customResources) {
      types.push(customResourceType(spec));
    }
    for (const type of types) {
      const key = resourceKey(type);
      if (this.byPath.has(key)) {
        throw new Error(`custom resource ${key} is registered twice or clashes with a built-in type; give it a unique group or plural`);
      }
      this.byPath.set(key, type);
    }
    this.types = types;
  }

  /** Types keyed by resourceKey(). */
  byKey(): ReadonlyMap<string, ResourceType> {
    return this.byPath;
  }

  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  groupVersions(group: string): string[] {
    const versions = new Set<string>();
    for (const type of this.types) {
      if (type.group === group) {
        versions.add(type.version);
      }
    }
    return [...versions];
  }

  /** Named groups (everything but core), in registration order. */
  groups(): string[] {
    const groups = new Set<string>();
    for (const type of this.types) {
      if (type.group !== "") {
        groups.add(type.group);
      }
    }
    return [...groups];
  }
}

/** Builds the key of a type: `<group>/<version>/<plural>`, with an empty group for core. */
export function resourceKey(type: ResourceType): string {
  return `${type.group}/${type.version}/${type.plural}`;
}

/** Body of `/api`. */
export function coreVersions(serverAddress: string): object {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

function apiGroup(registry: ResourceRegistry, group: string): object {
  const versions = registry.groupVersions(group).map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

/** Body of `/apis`. */
export function groupList(registry: ResourceRegistry): object {
  return { kind: "APIGroupList", apiVersion: "v1", groups: registry.groups().map((group) => apiGroup(registry, group)) };
}

/** Body of `/apis/<group>`, or undefined for an unknown group. */
export function groupDocument(registry: ResourceRegistry, group: string): object | undefined {
  if (registry.groupVersions(group).length === 0 || group === "") {
    return undefined;
  }
  return { kind: "APIGroup", apiVersion: "v1", ...apiGroup(registry, group) };
}

/** Body of `/api/v1` or `/apis/<group>/<version>`, or undefined for an unknown group version. */
export function resourceList(registry: ResourceRegistry, group: string, version: string): object | undefined {
  const types = registry.types.filter((type) => type.group === group && type.version === version);
  if (types.length === 0) {
    return undefined;
  }
  const resources: object[] = [];
  for (const type of types) {
    const entry: Record<string, unknown> = {
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: [...VERBS],
    };
    if (type.shortNames.length > 0) {
      entry.shortNames = type.shortNames;
    }
    if (type.categories.length > 0) {
      entry.categories = type.categories;
    }
    resources.push(entry);
    if (type.statusSubresource) {
      resources.push({ name: `${type.plural}/status`, singularName: "", namespaced: type.namespaced, kind: type.kind, verbs: ["get", "patch", "update"] });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: types[0]?.apiVersion, resources };
}
