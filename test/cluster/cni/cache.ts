// The result cache of libcni: one JSON file per attachment under CACHEDIR/results, named
// NETWORK-CONTAINERID-IFNAME, holding the conflist bytes, the runtime arguments and the ADD
// result, so that DEL can pass the same prevResult even after the runtime restarts.
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { ClusterError, ClusterErrorCode } from "../errors.ts";
import { isRecord } from "./conflist.ts";
import type { NetworkConfigList } from "./conflist.ts";
import type { CniResult, RuntimeArgs } from "./invoke.ts";

/** The value of "kind" in libcni's cache files. */
export const cacheKind = "cniCacheV1";

/** One cache file's content, with libcni's JSON keys. */
export interface CachedAttachment {
  kind: typeof cacheKind;
  containerId: string;
  /** The conflist's bytes, base64 encoded (Go's encoding of a []byte). */
  config: string;
  ifName: string;
  networkName: string;
  netns: string;
  cniArgs: [string, string][];
  capabilityArgs: Record<string, unknown>;
  result: CniResult;
}

interface AttachmentKey {
  cacheDir: string;
  networkName: string;
  containerId: string;
  ifName: string;
}

/** Returns the cache file path of one attachment. */
export function cachedResultPath(key: AttachmentKey): string {
  return join(key.cacheDir, "results", `${key.networkName}-${key.containerId}-${key.ifName}`);
}

/** Writes (atomically, by rename) the cache entry of a successful ADD. */
export async function writeCachedResult(options: { cacheDir: string; list: NetworkConfigList; runtime: RuntimeArgs; result: CniResult }): Promise<void> {
  const { list, runtime } = options;
  const entry: CachedAttachment = {
    kind: cacheKind,
    containerId: runtime.containerId,
    config: list.bytes.toString("base64"),
    ifName: runtime.ifName,
    networkName: list.name,
    netns: runtime.netnsPath,
    cniArgs: runtime.args.map(([key, value]) => [key, value]),
    capabilityArgs: { ...runtime.capabilityArgs },
    result: options.result,
  };
  const path = cachedResultPath({ cacheDir: options.cacheDir, networkName: list.name, containerId: runtime.containerId, ifName: runtime.ifName });
  await mkdir(join(options.cacheDir, "results"), { recursive: true, mode: 0o700 });
  await writeFile(`${path}.tmp`, JSON.stringify(entry), { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** Reads one attachment's cache entry, or returns undefined when there is none. Raises STATE_INVALID on a corrupt file. */
export async function readCachedResult(key: AttachmentKey): Promise<CachedAttachment | undefined> {
  const path = cachedResultPath(key);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ClusterError(ClusterErrorCode.StateInvalid, `CNI result cache ${path} is not valid JSON: remove it to run DEL without a prevResult`, { cause: error });
  }
  if (!isRecord(parsed) || parsed.kind !== cacheKind || !isRecord(parsed.result)) {
    throw new ClusterError(ClusterErrorCode.StateInvalid, `CNI result cache ${path} is not a ${cacheKind} entry: remove it to run DEL without a prevResult`);
  }
  return parsed as unknown as CachedAttachment;
}

/** Removes one attachment's cache entry. A missing entry is not an error. */
export async function deleteCachedResult(key: AttachmentKey): Promise<void> {
  await rm(cachedResultPath(key), { force: true });
}
