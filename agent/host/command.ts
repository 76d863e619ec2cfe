// Runs the node's network tools (ip, nft, iptables-restore) without a shell.
import { execFile } from "node:child_process";

export class HostCommandError extends Error {
  readonly code = "HOST_COMMAND_FAILED";
  readonly argv: readonly string[];
  readonly stderr: string;

  constructor(argv: readonly string[], stderr: string, options?: { cause?: unknown }) {
    super(`${argv.join(" ")} failed: ${stderr.trim() || "no error output"}`, options);
    this.name = "HostCommandError";
    this.argv = argv;
    this.stderr = stderr;
  }
}

/** Runs `argv` with optional stdin and resolves with stdout; rejects with HostCommandError on a non-zero exit. */
export type HostRunner = (argv: readonly string[], options?: { input?: string }) => Promise<string>;

/** The runner that executes commands on this machine, timing out after 30 seconds. */
export const runHostCommand: HostRunner = (argv, options = {}) =>
  new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    if (file === undefined) {
      reject(new HostCommandError(argv, "empty command"));
      return;
    }
    const child = execFile(file, args, { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) reject(new HostCommandError(argv, stderr === "" ? error.message : stderr, { cause: error }));
      else resolve(stdout);
    });
    // A command that exits before reading its input (most calls pass none) closes the pipe
    // first. The write then fails with EPIPE, which must not crash the agent, because the
    // exit status reported through the callback above decides the result.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(options.input ?? "");
  });
