/**
 * A minimal OpenAPI v3 discovery (`/openapi/v3` and one document per group
 * version) that lists for kubectl the PATCH operations that accept the
 * `fieldValidation` query parameter.
 *
 * Why it exists: kubectl 1.32 validates manifests on `create` and `apply`
 * by default. It reads /openapi/v3 to learn whether the server validates
 * fields itself. When it cannot fetch that document, it fails with "failed
 * to download openapi" unless run with --validate=false.
 *
 * NOTE: the documents have no schemas. kubectl then sends
 * `fieldValidation=Strict` and trusts the server, but this server does not
 * check fields against a schema, so unknown fields are stored as sent.
 */

import { createHash } from "node:crypto";
import type { ResourceRegistry, ResourceType } from "./resources.ts";

function groupVersionPath(type: ResourceType): string {
  return type.group === "" ? `api/${type.version}` : `apis/${type.group}/${type.version}`;
}

function itemPath(type: ResourceType): string {
  const namespace = type.namespaced ? "/namespaces/{namespace}" : "";
  return `/${groupVersionPath(type)}${namespace}/${type.plural}/{name}`;
}

/** Body of the OpenAPI v3 document for one group version, or undefined when no type is served there. */
export function openApiDocument(registry: ResourceRegistry, groupVersion: string): object | undefined {
  const types = registry.types.filter((type) => groupVersionPath(type) === groupVersion);
  if (types.length === 0) return undefined;
  const paths: Record<string, object> = {};
  for (const type of types) {
    paths[itemPath(type)] = {
      patch: {
        operationId: `patch${type.kind}`,
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": { group: type.group, version: type.version, kind: type.kind },
        parameters: [
          { name: "fieldValidation", in: "query", description: "Ignore, Warn or Strict; this server accepts it but does not check fields against a schema.", schema: { type: "string", uniqueItems: true } },
          { name: "dryRun", in: "query", schema: { type: "string", uniqueItems: true } },
          { name: "fieldManager", in: "query", schema: { type: "string", uniqueItems: true } },
        ],
        responses: { "200": { description: "OK" } },
      },
    };
  }
  return { openapi: "3.0.0", info: { title: "Kubernetes", version: "v1.32.0" }, paths, components: { schemas: {} } };
}

/** Body of `/openapi/v3`: one entry per group version with a content hash, as kube-apiserver sends. */
export function openApiIndex(registry: ResourceRegistry): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const type of registry.types) {
    const groupVersion = groupVersionPath(type);
    if (Object.hasOwn(paths, groupVersion)) continue;
    const hash = createHash("sha512").update(JSON.stringify(openApiDocument(registry, groupVersion))).digest("hex").toUpperCase().slice(0, 128);
    paths[groupVersion] = { serverRelativeURL: `/openapi/v3/${groupVersion}?hash=${hash}` };
  }
  return { paths };
}
