// Finds, checks and stops daemon processes by PID. A PID is signalled only after its
// /proc/PID/cmdline shows the expected program and an argument naming the expected folder,
// so a PID that the kernel reused for another process is never killed.
import { readFileSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

import { LabError, LabErrorCode } from "./errors.ts";

/** What a process must look like to count as ours. */
export interface ProcessIdentity {
  /** Program name, compared with the base name of argv[0] ("ovs-vswitchd"). */
  program: string;
  /** A string that one argument must contain, usually the daemon's own folder. */
  argumentContaining: string;
}

/** Reads a pid file; returns undefined when it is missing or does not hold a number. */
export async function readPidFile(path: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Returns the argv of a running process, or undefined when it has exited or is a zombie. */
export async function readLiveArgv(pid: number): Promise<string[] | undefined> {
  return readLiveArgvSync(pid);
}

// /proc files live in memory, so a synchronous read costs a few microseconds. The promise
// API adds several thread-pool round trips per file, and docs/benchmarks-lab.md shows what
// that did to a /proc scan.
function readLiveArgvSync(pid: number): string[] | undefined {
  try {
    // A zombie (state Z) has exited but waits for its parent to reap it; count it as gone.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "Z" || state === "X") return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.split("\0").filter((arg) => arg !== "");
  } catch (error) {
    // ENOENT: no such PID. ESRCH: the process exited while its /proc files were read.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ESRCH") return undefined;
    throw error;
  }
}

/** Tells whether `argv` belongs to the process described by `identity`. */
export function argvMatches(argv: readonly string[], identity: ProcessIdentity): boolean {
  const program = argv[0]?.split("/").pop();
  return program === identity.program && argv.some((arg) => arg.includes(identity.argumentContaining));
}

/** Tells whether `pid` is alive and matches `identity`. */
export async function isOurProcessAlive(pid: number, identity: ProcessIdentity): Promise<boolean> {
  const argv = await readLiveArgv(pid);
  return argv !== undefined && argvMatches(argv, identity);
}

/** Lists the PIDs of live processes matching `identity`, by scanning /proc. */
export async function findProcesses(identity: ProcessIdentity): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const argv = readLiveArgvSync(pid);
    if (argv !== undefined && argvMatches(argv, identity)) found.push(pid);
  }
  return found;
}

/**
 * Stops `pid` if it is alive and matches `identity`: SIGTERM, then SIGKILL after
 * `graceMs`. Returns true when it signalled the process, false when nothing matched.
 * Idempotent. Raises PROCESS_STUCK when the process outlives SIGKILL by `graceMs`.
 */
export async function stopProcess(
  pid: number,
  identity: ProcessIdentity,
  options: { graceMs?: number } = {},
): Promise<boolean> {
  const graceMs = options.graceMs ?? 3000;
  if (!(await isOurProcessAlive(pid, identity))) return false;

  signal(pid, "SIGTERM");
  if (await waitForExit(pid, graceMs)) return true;
  signal(pid, "SIGKILL");
  if (await waitForExit(pid, graceMs)) return true;
  throw new LabError(
    LabErrorCode.ProcessStuck,
    `${identity.program} (PID ${pid}) is still running after SIGKILL: check it with ps -o stat,wchan -p ${pid}`,
  );
}

/** Waits until `pid` has exited or become a zombie; returns false on timeout. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await readLiveArgv(pid)) === undefined) return true;
    if (Date.now() >= deadline) return false;
    await sleep(20);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    // ESRCH: the process exited between the check and the signal, which is the goal.
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}
