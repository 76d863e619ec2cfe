// Starting and stopping a pod's workload process inside the pod's namespace. Workloads run
// detached, in their own process group and with output to a log file, so they outlive a
// runner restart the way containers outlive a kubelet restart.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Time a workload gets between SIGTERM and SIGKILL. */
export const terminationGraceMs = 2000;

/**
 * Spawns `argv` through `ip netns exec NETNS`, appending stdout and stderr to `logPath`.
 * `ip netns exec` replaces itself with the command, so the child's PID is the workload's.
 * Resolves once that replacement is done, because until then /proc/PID/cmdline is still
 * `ip`'s (or briefly empty), and isWorkloadOf would call the process gone. Raises when the
 * process cannot be started or exits first.
 */
export async function startWorkload(options: { netns: string; argv: readonly string[]; logPath: string }): Promise<ChildProcess> {
  await mkdir(dirname(options.logPath), { recursive: true });
  const log = await open(options.logPath, "a");
  try {
    const child = spawn("ip", ["netns", "exec", options.netns, ...options.argv], { detached: true, stdio: ["ignore", log.fd, log.fd] });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    child.unref();
    await waitForExec({ child, program: options.argv[0] ?? "", logPath: options.logPath });
    return child;
  } finally {
    await log.close();
  }
}

/** Time `ip netns exec` gets to enter the namespace and start the workload program. */
const execTimeoutMs = 10_000;

async function waitForExec(options: { child: ChildProcess; program: string; logPath: string }): Promise<void> {
  const { child } = options;
  const deadline = Date.now() + execTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`workload ${options.program} exited before it started (exit code ${String(child.exitCode)}, signal ${String(child.signalCode)}): read ${options.logPath}`);
    }
    if (child.pid !== undefined && readArgv(child.pid)?.[0] === options.program) return;
    await sleep(10);
  }
  throw new Error(`workload process ${String(child.pid)} did not start ${options.program} within ${execTimeoutMs} ms: read ${options.logPath}`);
}

function readArgv(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return undefined;
  }
}

/** Returns whether `pid` runs a workload started for the pod with this uid: false for an exited or reused PID. */
export function isWorkloadOf(pid: number, uid: string): boolean {
  const argv = readArgv(pid);
  if (argv === undefined) return false;
  // A zombie's cmdline is empty. The uid argument distinguishes our workload from a reused PID.
  const uidIndex = argv.indexOf("--pod-uid");
  return uidIndex !== -1 && argv[uidIndex + 1] === uid;
}

/**
 * Stops the workload: SIGTERM, then SIGKILL after terminationGraceMs. Does nothing unless
 * the PID still runs this pod's workload, so it is idempotent and never signals a reused PID.
 */
export async function stopWorkload(options: { pid: number; uid: string }): Promise<void> {
  if (!isWorkloadOf(options.pid, options.uid)) return;
  signal(options.pid, "SIGTERM");
  const deadline = Date.now() + terminationGraceMs;
  while (Date.now() < deadline) {
    if (!isWorkloadOf(options.pid, options.uid)) return;
    await sleep(50);
  }
  if (isWorkloadOf(options.pid, options.uid)) signal(options.pid, "SIGKILL");
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    // ESRCH: it exited between the check and the signal, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}
