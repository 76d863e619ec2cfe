// A private Open vSwitch for tests: ovsdb-server and ovs-vswitchd (userspace datapath) in a
// network namespace of their own, state in a temporary folder, one netdev bridge. Every
// name starts with "syo". stop() kills only the daemons started here (by the PIDs in their
// pid files) and removes the namespace and folder.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface OvsSandbox {
  dir: string;
  namespace: string;
  bridge: string;
  /** unix:DIR/BRIDGE.mgmt */
  mgmt: string;
  /** Runs ovs-ofctl with the given arguments and returns stdout. */
  ofctl(args: readonly string[], options?: { input?: string }): string;
  vsctl(args: readonly string[]): string;
  /** Kills ovs-vswitchd and starts it again on the same database (for reconnect tests). */
  restartSwitch(): Promise<void>;
  stop(): void;
}

function run(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): string {
  return execFileSync(command, args, {
    encoding: "utf8",
    env: options.env ?? process.env,
    input: options.input,
    stdio: ["pipe", "pipe", "pipe"],
    maxBuffer: 512 * 1024 * 1024,
  });
}

/** Returns whether this process can run the sandbox (root, OVS installed). */
export function sandboxAvailable(): boolean {
  return process.getuid?.() === 0 && existsSync("/usr/sbin/ovs-vswitchd") && existsSync("/usr/bin/ovs-ofctl");
}

function killPidFile(path: string): void {
  if (!existsSync(path)) return;
  const pid = Number(readFileSync(path, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    // Already gone.
  }
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Starts ovsdb-server and ovs-vswitchd in a new namespace and creates one netdev bridge. */
export async function startOvsSandbox(options: { tag: string }): Promise<OvsSandbox> {
  const suffix = `${options.tag}${process.pid % 10000}`;
  const namespace = `syo${suffix}`.slice(0, 15);
  const bridge = `syobr${suffix}`.slice(0, 15);
  const dir = mkdtempSync(join(tmpdir(), "syo-ovs-"));
  const db = join(dir, "db.sock");
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir };

  const stop = (): void => {
    killPidFile(join(dir, "vswitchd.pid"));
    killPidFile(join(dir, "ovsdb.pid"));
    try {
      run("ip", ["netns", "del", namespace]);
    } catch {
      // The namespace was not created.
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const startSwitch = async (): Promise<void> => {
    run(
      "ip",
      [
        "netns", "exec", namespace, "ovs-vswitchd", `unix:${db}`, `--pidfile=${join(dir, "vswitchd.pid")}`,
        `--unixctl=${join(dir, "vswitchd.ctl")}`, `--log-file=${join(dir, "vswitchd.log")}`, "--detach",
      ],
      { env },
    );
    await waitFor(() => existsSync(join(dir, `${bridge}.mgmt`)), `${bridge}.mgmt`);
  };

  try {
    run("ip", ["netns", "add", namespace]);
    run("ovsdb-tool", ["create", join(dir, "conf.db"), "/usr/share/openvswitch/vswitch.ovsschema"]);
    run(
      "ip",
      [
        "netns", "exec", namespace, "ovsdb-server", join(dir, "conf.db"), `--remote=punix:${db}`,
        `--pidfile=${join(dir, "ovsdb.pid")}`, `--unixctl=${join(dir, "ovsdb.ctl")}`,
        `--log-file=${join(dir, "ovsdb.log")}`, "--detach",
      ],
      { env },
    );
    run("ovs-vsctl", [`--db=unix:${db}`, "--no-wait", "init"]);
    run("ovs-vsctl", [
      `--db=unix:${db}`, "--no-wait", "add-br", bridge, "--", "set", "bridge", bridge, "datapath_type=netdev",
      "protocols=OpenFlow13,OpenFlow15", "fail_mode=secure",
    ]);
    await startSwitch();
  } catch (error) {
    stop();
    throw error;
  }

  const mgmt = `unix:${join(dir, `${bridge}.mgmt`)}`;
  return {
    dir,
    namespace,
    bridge,
    mgmt,
    ofctl: (args, runOptions = {}) => run("ovs-ofctl", args, runOptions),
    vsctl: (args) => run("ovs-vsctl", [`--db=unix:${db}`, ...args]),
    restartSwitch: async () => {
      const pidPath = join(dir, "vswitchd.pid");
      const pid = Number(readFileSync(pidPath, "utf8").trim());
      process.kill(pid, "SIGTERM");
      await waitFor(() => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, `ovs-vswitchd ${pid} to exit`);
      rmSync(join(dir, `${bridge}.mgmt`), { force: true });
      await startSwitch();
    },
    stop,
  };
}
