// Runs iproute2 and nsenter as child processes.
import { spawn } from "node:child_process";

export type CommandResult = { code: number; stdout: string; stderr: string };

/** Runs `file` with `args`, writing `input` to its stdin. Resolves with the exit code; never rejects for a non-zero exit. */
export function runCommand(file: string, args: readonly string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      resolve({
        code: code ?? (signal === null ? 1 : 128),
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
    });
    child.stdin.on("error", () => {
      // The child exited before reading all input; its exit code reports why.
    });
    child.stdin.end(input ?? "");
  });
}
