// Checks for the lab integration tests that read the system directly (ip, /proc) instead
// of going through the lab library, so they can catch what the library misses.
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Returns a fresh state root under /tmp whose name carries this suite's prefix. */
export async function tempStateRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), "syl-"));
}

/** Returns a lab name unique to this test process: "syl" + PID digits + `suffix`. */
export function uniqueLabName(suffix: string): string {
  return `syl${process.pid % 100000}-${suffix}`;
}

/** Named namespaces starting with `${lab}-`, from `ip netns list`. */
export function namespacesOf(lab: string): string[] {
  const output = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
  return output
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(`${lab}-`));
}

/** Root-namespace links whose name contains `text`, from `ip -o link`. */
export function rootLinksContaining(text: string): string[] {
  const output = execFileSync("ip", ["-o", "link", "show"], { encoding: "utf8" });
  return output.split("\n").filter((line) => line.includes(text));
}

/**
 * Live (not zombie) processes with an argument containing `text`, found by reading
 * /proc/PID/stat and /proc/PID/cmdline.
 */
export async function liveProcessesMentioning(text: string): Promise<Array<{ pid: number; argv: string[] }>> {
  const found: Array<{ pid: number; argv: string[] }> = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      const argv = (await readFile(`/proc/${entry}/cmdline`, "utf8")).split("\0").filter((arg) => arg !== "");
      const program = argv[0]?.split("/").pop() ?? "";
      if ((program === "ovsdb-server" || program === "ovs-vswitchd") && argv.some((arg) => arg.includes(text))) {
        found.push({ pid: Number(entry), argv });
      }
    } catch {
      // The process exited while we read it.
    }
  }
  return found;
}

/** Tells whether PID is a live (not zombie) process, from /proc/PID/stat. */
export async function isPidLive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** Runs ping in `netns` and returns the TTL of the first reply, or raises when none came. */
export function pingTtl(netns: string, ip: string): number {
  const output = execFileSync("ip", ["netns", "exec", netns, "ping", "-c", "1", "-W", "2", ip], { encoding: "utf8" });
  const match = /ttl=(\d+)/.exec(output);
  if (match?.[1] === undefined) throw new Error(`no reply from ${ip} in ${netns}:\n${output}`);
  return Number(match[1]);
}
