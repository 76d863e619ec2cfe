// The binary's log: one line per invocation appended to a file, never to stdout.
import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

export type LogRecord = Record<string, string | number | undefined>;

/**
 * Appends `record` as one JSON line to `path`, creating the folder when missing.
 * Failures are ignored, because a full disk must not fail a pod's networking.
 */
export function appendLog(path: string, record: LogRecord): void {
  const line = JSON.stringify({ time: new Date().toISOString(), ...record }) + "\n";
  try {
    appendFileSync(path, line, { mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") return;
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      appendFileSync(path, line, { mode: 0o600 });
    } catch {
      // Nowhere to log; the result on stdout still reaches the runtime.
    }
  }
}
