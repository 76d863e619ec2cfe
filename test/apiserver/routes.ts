/**
 * URL parsing for the resource paths of the Kubernetes API:
 * `/api/v1/[watch/][namespaces/<ns>/]<plural>[/<name>[/<subresource>]]`
 * and the same under `/apis/<group>/<version>/`.
 */

import type { ResourceRegistry, ResourceType } from "./resources.ts";
import { ApiStatusError } from "./status.ts";

export interface ResourceRoute {
  type: ResourceType;
  /** Set for namespaced paths; undefined for cluster-scoped types and all-namespace collections. */
  namespace: string | undefined;
  name: string | undefined;
  subresource: "status" | undefined;
  /** The legacy `/watch/` path prefix was used. */
  watchPrefix: boolean;
}

export function resourceNotFound(): ApiStatusError {
  return new ApiStatusError({ code: 404, reason: "NotFound", message: "the server could not find the requested resource", details: {} });
}

/** Splits `/api/v1/...` or `/apis/<g>/<v>/...` into group, version and the remaining segments. */
export function splitApiPath(pathname: string): { group: string; version: string; rest: string[] } | undefined {
  const segments = pathname.split("/").filter((segment) => segment !== "").map((segment) => decodeURIComponent(segment));
  if (segments[0] === "api" && segments[1] !== undefined) {
    return { group: "", version: segments[1], rest: segments.slice(2) };
  }
  if (segments[0] === "apis" && segments[1] !== undefined && segments[2] !== undefined) {
    return { group: segments[1], version: segments[2], rest: segments.slice(3) };
  }
  return undefined;
}

/** Resolves the resource segments of a path; throws 404 for an unknown type, subresource or path shape. */
export function parseResourceRoute(registry: ResourceRegistry, options: { group: string; version: string; rest: string[] }): ResourceRoute {
  const segments = [...options.rest];
  const watchPrefix = segments[0] === "watch";
  if (watchPrefix) segments.shift();

  let namespace: string | undefined;
  // `/namespaces/<ns>/<plural>...` is a namespaced path, unless it is a subresource of the Namespace itself.
  const namespaceSubresource = options.group === "" && segments.length === 3 && segments[2] === "status";
  if (segments[0] === "namespaces" && segments.length >= 3 && !namespaceSubresource) {
    namespace = segments[1];
    segments.splice(0, 2);
  }
  const [plural, name, subresource, ...extra] = segments;
  if (plural === undefined || extra.length > 0) {
    throw resourceNotFound();
  }
  const type = registry.lookup(options.group, options.version, plural);
  if (type === undefined || (namespace !== undefined && !type.namespaced)) {
    throw resourceNotFound();
  }
  if (subresource !== undefined && (subresource !== "status" || !type.statusSubresource)) {
    throw resourceNotFound();
  }
  if (type.namespaced && namespace === undefined && name !== undefined) {
    throw resourceNotFound();
  }
  return { type, namespace, name, subresource: subresource === "status" ? "status" : undefined, watchPrefix };
}
