// The agent's last known slice on disk, so an agent restarted while the controller is
// unreachable keeps enforcing what it enforced before.
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import type { NodeSlice } from "../../controller/networkpolicy/types.ts";

/** Format version of the cache file; a file of another version is ignored. */
export const CACHE_FORMAT_VERSION = 1;

export interface CachedState {
  readonly nodeName: string;
  /** Instance id of the controller the slice came from; sent back to resume. */
  readonly controllerInstance: string;
  readonly slice: NodeSlice;
}

interface CacheFile extends CachedState {
  readonly version: number;
  readonly savedAt: string;
}

export const CacheErrorCode = {
  unreadable: "POLICY_CACHE_UNREADABLE",
  invalid: "POLICY_CACHE_INVALID",
} as const;
export type CacheErrorCode = (typeof CacheErrorCode)[keyof typeof CacheErrorCode];

export class CacheError extends Error {
  readonly code: CacheErrorCode;
  readonly path: string;

  constructor(code: CacheErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CacheError";
    this.code = code;
    this.path = path;
  }
}

/**
 * Writes the state atomically: a temporary file in the same folder, fsync, then rename over
 * the old file and fsync of the folder. A crash leaves either the old or the new file.
 */
export async function saveCachedState(path: string, state: CachedState): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  const body: CacheFile = { version: CACHE_FORMAT_VERSION, savedAt: new Date().toISOString(), ...state };
  try {
    const file = await open(temporary, "w", 0o600);
    try {
      await file.writeFile(JSON.stringify(body));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  const directory = await open(folder, "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * Reads the state saved for `nodeName`. Returns undefined when there is no file. Throws
 * CacheError when the file cannot be read, is not a cache of this format, or belongs to
 * another node. The caller should then log the error and start empty.
 */
export async function loadCachedState(path: string, nodeName: string): Promise<CachedState | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CacheError(CacheErrorCode.unreadable, path, `cannot read policy cache ${path}: ${(error as Error).message}`, { cause: error });
  }
  let body: Partial<CacheFile>;
  try {
    body = JSON.parse(text) as Partial<CacheFile>;
  } catch (error) {
    throw new CacheError(CacheErrorCode.invalid, path, `policy cache ${path} is not JSON; it will be replaced at the next update`, { cause: error });
  }
  const problem = cacheProblem(body, nodeName);
  if (problem !== undefined) throw new CacheError(CacheErrorCode.invalid, path, `policy cache ${path} ignored: ${problem}`);
  return { nodeName, controllerInstance: body.controllerInstance as string, slice: body.slice as NodeSlice };
}

function cacheProblem(body: Partial<CacheFile>, nodeName: string): string | undefined {
  if (body.version !== CACHE_FORMAT_VERSION) return `format version ${JSON.stringify(body.version)}, expected ${CACHE_FORMAT_VERSION}`;
  if (body.nodeName !== nodeName) return `it belongs to node ${JSON.stringify(body.nodeName)}, not ${nodeName}`;
  if (typeof body.controllerInstance !== "string") return "controllerInstance is missing";
  const slice = body.slice;
  if (
    slice === undefined ||
    typeof slice.generation !== "number" ||
    !Array.isArray(slice.policies) ||
    !Array.isArray(slice.addressGroups) ||
    !Array.isArray(slice.appliedToGroups)
  ) {
    return "slice is missing or incomplete";
  }
  if (slice.nodeName !== nodeName) return `slice belongs to node ${JSON.stringify(slice.nodeName)}`;
  return undefined;
}
