// Attachment records on disk: one JSON file per attachment, so each change writes one small file.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { familyOf } from "../../common/net/cidr.ts";
import { attachmentKey } from "./attachment.ts";
import type { Attachment } from "./attachment.ts";

/**
 * Keeps attachment records in memory and in `directory`. Writes are synchronous and
 * atomic (temporary file, then rename), so a record survives an agent crash once put()
 * returns. Unreadable files are skipped on load and reported through `onCorrupt`.
 */
export class AttachmentStore {
  readonly #directory: string;
  readonly #records = new Map<string, Attachment>();

  private constructor(directory: string) {
    this.#directory = directory;
  }

  static open(options: { directory: string; onCorrupt?: (file: string, error: Error) => void }): AttachmentStore {
    const store = new AttachmentStore(options.directory);
    mkdirSync(options.directory, { recursive: true, mode: 0o700 });
    for (const file of readdirSync(options.directory)) {
      if (!file.endsWith(".json")) continue;
      try {
        const record = withAddressFamilies(JSON.parse(readFileSync(join(options.directory, file), "utf8")) as Attachment);
        store.#records.set(attachmentKey(record), record);
      } catch (error) {
        options.onCorrupt?.(file, error as Error);
      }
    }
    return store;
  }

  get(key: string): Attachment | undefined {
    return this.#records.get(key);
  }

  list(): Attachment[] {
    return [...this.#records.values()];
  }

  put(record: Attachment): void {
    const key = attachmentKey(record);
    const path = this.#pathOf(key);
    writeFileSync(`${path}.tmp`, JSON.stringify(record), { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
    this.#records.set(key, record);
  }

  /** Idempotent: deleting a missing record succeeds. */
  delete(key: string): void {
    try {
      unlinkSync(this.#pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    this.#records.delete(key);
  }

  #pathOf(key: string): string {
    return join(this.#directory, createHash("sha256").update(key).digest("hex").slice(0, 32) + ".json");
  }
}

/**
 * Sets each address's family from its text, because records written by agents that
 * numbered the families store 4 or 6 there, and the default route of an ADD result
 * depends on the family.
 */
function withAddressFamilies(record: Attachment): Attachment {
  for (const address of record.addresses) address.family = familyOf(address.address) ?? address.family;
  return record;
}
