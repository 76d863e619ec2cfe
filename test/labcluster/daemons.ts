// Starting the cluster's long-running processes detached, each with its own log file, and
// stopping them by PID.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

import { ClusterUpError, ClusterUpErrorCode } from "./errors.ts";

/** A process the cluster started, as recorded in the cluster state file. */
export interface DaemonRecord {
  /** Role and node, such as "agent node1" or "apiserver". */
  name: string;
  pid: number;
  /** Network namespace it runs in; undefined for the root namespace. */
  netns: string | undefined;
  logFile: string;
  /** The command line, so a reused PID of another program is never signalled. */
  argv: string[];
}

/**
 * Starts `argv` detached (inside `netns` when given, through `ip netns exec`, which execs the
 * command so the PID is the program's own), with stdout and stderr appended to `logFile`.
 */
export function startDaemon(options: { name: string; argv: readonly string[]; netns?: string; logFile: string; env?: NodeJS.ProcessEnv }): DaemonRecord {
  const argv = options.netns === undefined ? [...options.argv] : ["ip", "netns", "exec", options.netns, ...options.argv];
  const [command, ...args] = argv;
  if (command === undefined) throw new ClusterUpError(ClusterUpErrorCode.InvalidOption, `daemon ${options.name} has an empty command line`);
  const log = openSync(options.logFile, "a");
  try {
    const child = spawn(command, args, { detached: true, stdio: ["ignore", log, log], env: options.env ?? process.env });
    // A spawn failure (command not found) also arrives as an 'error' event, which would
    // otherwise crash this process; the missing PID below reports it.
    child.on("error", () => {});
    if (child.pid === undefined) throw new ClusterUpError(ClusterUpErrorCode.DaemonFailed, `${options.name} did not start: ${command} could not be executed`);
    child.unref();
    return { name: options.name, pid: child.pid, netns: options.netns, logFile: options.logFile, argv: [...options.argv] };
  } finally {
    closeSync(log);
  }
}

/** Returns whether the recorded process still runs (its PID exists and runs the recorded program). */
export function isDaemonAlive(record: DaemonRecord): boolean {
  let cmdline: string;
  let stat: string;
  try {
    cmdline = readFileSync(`/proc/${record.pid}/cmdline`, "utf8");
    stat = readFileSync(`/proc/${record.pid}/stat`, "utf8");
  } catch {
    return false;
  }
  // A zombie still has a cmdline file until its parent reaps it.
  if (/^\d+ \(.*\) Z/.test(stat)) return false;
  // The command line reads empty for a moment while `ip netns exec` execs the program.
  if (cmdline === "") return true;
  const program = record.argv.find((arg) => arg.endsWith(".ts")) ?? record.argv[0] ?? "";
  return cmdline.split("\0").some((arg) => arg === program);
}

/** Sends a signal, ignoring a process that exited meanwhile (ESRCH). */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/**
 * Sends SIGTERM, then SIGKILL after `graceMs`, and resolves once the process is gone.
 * Idempotent: a process already gone (or a PID now running another program) is left alone.
 * Returns whether it signalled anything.
 */
export async function stopDaemon(record: DaemonRecord, options: { graceMs?: number } = {}): Promise<boolean> {
  if (!isDaemonAlive(record)) return false;
  signal(record.pid, "SIGTERM");
  const deadline = Date.now() + (options.graceMs ?? 5000);
  while (Date.now() < deadline) {
    await sleep(50);
    if (!isDaemonAlive(record)) return true;
  }
  if (isDaemonAlive(record)) signal(record.pid, "SIGKILL");
  for (let attempt = 0; attempt < 40 && isDaemonAlive(record); attempt += 1) await sleep(50);
  return true;
}

/** Returns the last `lines` lines of a log file, or a note that it is missing. */
export function tailLog(path: string, lines = 20): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return `(no log at ${path})`;
  }
}

/** Options of waitFor. */
export interface WaitOptions {
  /** What is awaited, for the timeout message ("API server answering"). */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** A daemon whose death ends the wait early with its log tail. */
  daemon?: DaemonRecord;
}

/**
 * Polls `check` until it returns a value other than undefined. Raises DAEMON_FAILED when
 * `daemon` exits meanwhile and TIMEOUT after `timeoutMs`, with the daemon's log tail.
 */
export async function waitFor<T>(check: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = "";
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    const daemon = options.daemon;
    if (daemon !== undefined && !isDaemonAlive(daemon)) {
      // The daemon may have finished its work just before it exited, so look once more.
      const last = await check().catch(() => undefined);
      if (last !== undefined) return last;
      throw new ClusterUpError(ClusterUpErrorCode.DaemonFailed, `${daemon.name} (PID ${daemon.pid}) exited before ${options.what}; last lines of ${daemon.logFile}:\n${tailLog(daemon.logFile)}`);
    }
    if (Date.now() > deadline) {
      const tail = daemon === undefined ? "" : `; last lines of ${daemon.logFile}:\n${tailLog(daemon.logFile)}`;
      const last = lastError === "" ? "" : ` (last error: ${lastError})`;
      throw new ClusterUpError(ClusterUpErrorCode.Timeout, `timed out after ${options.timeoutMs} ms waiting for ${options.what}${last}${tail}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}
