// The file that names the owner of every policy id in use: the conjunction id and cookie owner
// of a rule's flows, or of a pod's isolation drop flow. `switchyard-agent --decode-cookie` reads
// it, so an operator can go from a flow in dump-flows to its NetworkPolicy rule or pod.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { IdOwner } from "./enforcer.ts";

/** Contents of the id map file. */
export interface PolicyIdMap {
  /** Slice generation the ids were installed for. */
  readonly generation: number;
  /** Owner of each id in use, keyed by the decimal id. */
  readonly ids: Readonly<Record<string, IdOwner>>;
}

/** Returns the id map's path: `policy-ids.json` in the folder of the policy cache file. */
export function policyIdMapPath(cacheFile: string): string {
  return join(dirname(cacheFile), "policy-ids.json");
}

/** Writes the map atomically (temporary file, then rename), so a reader never sees half a file. */
export function writePolicyIdMap(path: string, map: { generation: number; owners: Iterable<[number, IdOwner]> }): void {
  const ids: Record<string, IdOwner> = {};
  for (const [id, owner] of map.owners) ids[String(id)] = owner;
  const content: PolicyIdMap = { generation: map.generation, ids };
  writeFileSync(`${path}.tmp`, `${JSON.stringify(content, null, 1)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** Reads the map; undefined when the file does not exist. Raises when it is not a valid map. */
export function readPolicyIdMap(path: string): PolicyIdMap | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<PolicyIdMap>;
  if (typeof parsed.generation !== "number" || typeof parsed.ids !== "object" || parsed.ids === null) {
    throw new Error(`policy id map ${path} is invalid: expected { generation, ids }; the agent rewrites it after its next policy install`);
  }
  return parsed as PolicyIdMap;
}

/** Describes an owner in one line, e.g. "ingress rule ns/web-policy/UID/ingress/0" or "ingress isolation of pod ns/web (10.244.1.5/32)". */
export function describeOwner(owner: IdOwner): string {
  const direction = owner.direction.toLowerCase();
  return owner.kind === "rule" ? `${direction} rule ${owner.ruleId}` : `${direction} isolation of pod ${owner.pod} (${owner.address})`;
}
