// Runs one command and returns its stdout, or raises a CommandError that names the argv,
// the exit code and the stderr. Every other lab module spawns processes through here.
import { spawn } from "node:child_process";
import type { ChildProcess, SpawnOptions } from "node:child_process";

import { CommandError, LabErrorCode } from "./errors.ts";

export interface RunOptions {
  /** Bytes written to the command's stdin, which is closed afterwards. */
  input?: string;
  /** Network namespace to run in, through `ip netns exec NETNS`. */
  netns?: string;
  /** Variables added to this process's environment. */
  env?: Record<string, string>;
  /** Time limit in milliseconds; the command gets SIGKILL when it runs longer. Default 30000. */
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

const defaultTimeoutMs = 30_000;

/** Returns the argv that runs `argv` inside `netns`, or `argv` itself without a namespace. */
export function netnsArgv(argv: readonly string[], netns: string | undefined): string[] {
  return netns === undefined ? [...argv] : ["ip", "netns", "exec", netns, ...argv];
}

/**
 * Runs `argv` (no shell) and resolves with its stdout when it exits with code 0.
 * Raises CommandError with code COMMAND_NOT_FOUND, COMMAND_TIMED_OUT or COMMAND_FAILED.
 */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await runWithOutput(argv, options);
  return result.stdout;
}

/** Same as run(), but resolves with both stdout and stderr. */
export function runWithOutput(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const fullArgv = netnsArgv(argv, options.netns);
  const [file, ...args] = fullArgv;
  if (file === undefined) {
    return Promise.reject(new CommandError(LabErrorCode.CommandFailed, "cannot run an empty argv", { argv: fullArgv }));
  }
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;

  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env === undefined ? process.env : { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    let spawnError: Error | undefined;

    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);

    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => {
      spawnError = error;
    });
    // A command that exits before reading its stdin closes the pipe: that is not an error.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");

    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      const out = Buffer.concat(stdout).toString("utf8");
      const err = Buffer.concat(stderr).toString("utf8");
      const displayed = formatArgv(fullArgv);
      const details = {
        argv: fullArgv,
        exitCode: exitCode ?? undefined,
        signal: signal ?? undefined,
        stdout: out,
        stderr: err,
      };

      if (spawnError !== undefined) {
        const missing = (spawnError as NodeJS.ErrnoException).code === "ENOENT";
        const code = missing ? LabErrorCode.CommandNotFound : LabErrorCode.CommandFailed;
        const text = missing ? `${file} not found on PATH` : spawnError.message;
        reject(new CommandError(code, `${displayed}: ${text}`, { ...details, cause: spawnError }));
      } else if (timedOut) {
        reject(new CommandError(LabErrorCode.CommandTimedOut, `${displayed}: timed out after ${timeoutMs} ms${stderrSuffix(err)}`, details));
      } else if (exitCode !== 0) {
        const ending = exitCode === null ? `killed by ${signal ?? "a signal"}` : `exit code ${exitCode}`;
        reject(new CommandError(LabErrorCode.CommandFailed, `${displayed} failed (${ending})${stderrSuffix(err)}`, details));
      } else {
        resolve({ stdout: out, stderr: err });
      }
    });
  });
}

/**
 * Starts `argv` inside `netns` without waiting for it, for servers and other long-running
 * commands. The caller owns the child: it must kill it (by this ChildProcess) when done.
 * `ip netns exec` replaces itself with the command, so the child's PID is the command's.
 */
export function spawnInNetns(argv: readonly string[], options: { netns: string; spawnOptions?: SpawnOptions }): ChildProcess {
  const [file, ...args] = netnsArgv(argv, options.netns);
  return spawn(file ?? "ip", args, options.spawnOptions ?? {});
}

/** Quotes argv for display so a reader can paste it into a shell. */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(" ");
}

function stderrSuffix(stderr: string): string {
  const trimmed = stderr.trim();
  return trimmed === "" ? "" : `: ${trimmed}`;
}
