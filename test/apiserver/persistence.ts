/**
 * The optional state file: every object and the resourceVersion counter,
 * written atomically (a temporary file renamed over the old one) and
 * debounced, so a burst of writes costs one file write.
 */

import { readFile, rename, writeFile } from "node:fs/promises";
import type { StoreSnapshot } from "./store.ts";

const STATE_FORMAT_VERSION = 1;

interface StateFileContents extends StoreSnapshot {
  formatVersion: number;
}

export class StateFileError extends Error {
  readonly code = "APISERVER_STATE_FILE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StateFileError";
  }
}

/** Reads a state file; returns undefined when it does not exist. */
export async function readStateFile(path: string): Promise<StoreSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new StateFileError(`failed to read state file ${path}`, { cause: error });
  }
  let parsed: StateFileContents;
  try {
    parsed = JSON.parse(text) as StateFileContents;
  } catch (error) {
    throw new StateFileError(`state file ${path} is not valid JSON: fix or remove it`, { cause: error });
  }
  if (parsed.formatVersion !== STATE_FORMAT_VERSION || typeof parsed.revision !== "number" || !Array.isArray(parsed.objects)) {
    throw new StateFileError(`state file ${path} has an unknown format (formatVersion ${String(parsed.formatVersion)}, expected ${STATE_FORMAT_VERSION}): remove it to start empty`);
  }
  return { revision: parsed.revision, objects: parsed.objects };
}

/**
 * Writes snapshots to `path` at most once per `debounceMs`. `schedule` is
 * cheap and may be called on every change; `flush` writes now if a write
 * is pending and resolves when it is on disk.
 */
export class StateFileWriter {
  private readonly path: string;
  private readonly debounceMs: number;
  private readonly takeSnapshot: () => StoreSnapshot;
  private readonly onError: (error: Error) => void;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private sequence = 0;

  constructor(options: { path: string; debounceMs: number; takeSnapshot: () => StoreSnapshot; onError: (error: Error) => void }) {
    this.path = options.path;
    this.debounceMs = options.debounceMs;
    this.takeSnapshot = options.takeSnapshot;
    this.onError = options.onError;
  }

  schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeNow();
    }, this.debounceMs);
  }

  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      await this.writeNow();
    }
    await this.writing;
  }

  private writeNow(): Promise<void> {
    const contents: StateFileContents = { formatVersion: STATE_FORMAT_VERSION, ...this.takeSnapshot() };
    this.sequence += 1;
    const temporary = `${this.path}.tmp-${process.pid}-${this.sequence}`;
    // Writes are chained so an older snapshot never renames over a newer one.
    this.writing = this.writing.then(async () => {
      try {
        await writeFile(temporary, JSON.stringify(contents));
        await rename(temporary, this.path);
      } catch (error) {
        this.onError(new StateFileError(`failed to write state file ${this.path}`, { cause: error }));
      }
    });
    return this.writing;
  }
}
