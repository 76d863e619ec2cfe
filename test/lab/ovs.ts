// Starts and stops one Open vSwitch instance (ovsdb-server plus ovs-vswitchd) that keeps
// its database, sockets, pid files and logs in one folder and runs inside one network
// namespace. The lab runs one instance per node; other suites start their own through here.
import { mkdir, readFile, access } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

import { LabError, LabErrorCode } from "./errors.ts";
import { findProcesses, readPidFile, stopProcess } from "./process.ts";
import type { ProcessIdentity } from "./process.ts";
import { run } from "./run.ts";
import type { RunOptions } from "./run.ts";

/** Schema the Debian openvswitch-switch package installs. */
export const defaultSchemaPath = "/usr/share/openvswitch/vswitch.ovsschema";

/**
 * Maximum length of a unix socket path that Node.js can connect to: sun_path has 108 bytes
 * on Linux, one of them the terminating NUL.
 */
export const maxSocketPathLength = 107;

/** Maximum Linux interface name length (IFNAMSIZ 16 minus the NUL), so also of a bridge name. */
export const maxInterfaceNameLength = 15;

/** The files of one OVS instance, all inside `dir`. */
export interface OvsPaths {
  dir: string;
  database: string;
  /** ovsdb-server's OVSDB socket (`unix:` + this is the --db argument of ovs-vsctl). */
  dbSocket: string;
  ovsdbCtl: string;
  vswitchdCtl: string;
  ovsdbPidFile: string;
  vswitchdPidFile: string;
  ovsdbLog: string;
  vswitchdLog: string;
}

export type OvsDaemon = "ovsdb-server" | "ovs-vswitchd";

/** A started OVS instance. Its PIDs are those written by the daemons into their pid files. */
export interface OvsInstance extends OvsPaths {
  netns: string;
  ovsdbPid: number;
  /** Undefined when the instance was started with `vswitchd: false`. */
  vswitchdPid: number | undefined;
  /** Returns the OpenFlow management socket of `bridge` (DIR/BRIDGE.mgmt). */
  mgmtSocket(bridge: string): string;
  /** Runs ovs-vsctl against this instance's database and returns its stdout. */
  vsctl(args: readonly string[], options?: RunOptions): Promise<string>;
}

export interface StartOvsOptions {
  /** Folder for the database, sockets, pid files and logs; created when missing. */
  dir: string;
  /** Network namespace the daemons run in; the caller creates and deletes it. */
  netns: string;
  /** Start ovs-vswitchd too. Default true; false gives a bare OVSDB server. */
  vswitchd?: boolean;
  /** Path of vswitch.ovsschema. Default: the Debian package's copy. */
  schemaPath?: string;
  /** How long to wait for each daemon to respond to ovs-appctl, in milliseconds. Default 10000. */
  readyTimeoutMs?: number;
  /** Called with each daemon's PID as soon as its pid file exists, before the next step. */
  onPid?: (daemon: OvsDaemon, pid: number) => void | Promise<void>;
  /** Progress lines. */
  log?: (line: string) => void;
}

/**
 * Returns the absolute paths of the OVS instance kept in `dir`. Absolute because the
 * daemons change their working folder to / when they detach.
 */
export function ovsPaths(dir: string): OvsPaths {
  const absolute = resolve(dir);
  return {
    dir: absolute,
    database: join(absolute, "conf.db"),
    dbSocket: join(absolute, "db.sock"),
    ovsdbCtl: join(absolute, "ovsdb.ctl"),
    vswitchdCtl: join(absolute, "vswitchd.ctl"),
    ovsdbPidFile: join(absolute, "ovsdb.pid"),
    vswitchdPidFile: join(absolute, "vswitchd.pid"),
    ovsdbLog: join(absolute, "ovsdb.log"),
    vswitchdLog: join(absolute, "vswitchd.log"),
  };
}

/** Returns the OpenFlow management socket path of `bridge` in an instance folder. */
export function mgmtSocketPath(dir: string, bridge: string): string {
  return join(dir, `${bridge}.mgmt`);
}

/**
 * Raises INVALID_OPTION when the longest socket of an instance in `dir` (a bridge
 * management socket with a 15-character bridge name) would exceed the unix socket limit.
 */
export function checkOvsDirLength(dir: string): void {
  const longest = mgmtSocketPath(dir, "x".repeat(maxInterfaceNameLength));
  if (longest.length > maxSocketPathLength) {
    const allowed = dir.length - (longest.length - maxSocketPathLength);
    throw new LabError(
      LabErrorCode.InvalidOption,
      `OVS folder ${dir} is too long for unix sockets (${longest.length} > ${maxSocketPathLength} bytes ` +
        `for ${longest}): use a folder of at most ${allowed} characters`,
    );
  }
}

/**
 * Starts ovsdb-server and (unless `vswitchd: false`) ovs-vswitchd for the folder `dir`
 * inside `netns`, and resolves once each responds to `ovs-appctl version`. Creates the database
 * when it is missing and keeps an existing one. Not all-or-nothing: on failure the daemons
 * that did start keep running, so call stopOvs({ dir }) to clean up.
 */
export async function startOvs(options: StartOvsOptions): Promise<OvsInstance> {
  const paths = ovsPaths(options.dir);
  checkOvsDirLength(paths.dir);
  const log = options.log ?? (() => {});
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  await mkdir(paths.dir, { recursive: true });

  if (!(await exists(paths.database))) {
    await run(["ovsdb-tool", "create", paths.database, options.schemaPath ?? defaultSchemaPath]);
  }

  log(`starting ovsdb-server in ${options.netns} (${paths.dir})`);
  const ovsdbPid = await startDaemon({
    daemon: "ovsdb-server",
    argv: [
      "ovsdb-server",
      paths.database,
      `--remote=punix:${paths.dbSocket}`,
      `--pidfile=${paths.ovsdbPidFile}`,
      `--unixctl=${paths.ovsdbCtl}`,
      `--log-file=${paths.ovsdbLog}`,
      "--detach",
    ],
    netns: options.netns,
    paths,
    ctl: paths.ovsdbCtl,
    pidFile: paths.ovsdbPidFile,
    logFile: paths.ovsdbLog,
    readyTimeoutMs,
    onPid: options.onPid,
  });
  await run(["ovs-vsctl", `--db=unix:${paths.dbSocket}`, "--no-wait", "init"]);

  let vswitchdPid: number | undefined;
  if (options.vswitchd ?? true) {
    log(`starting ovs-vswitchd in ${options.netns} (${paths.dir})`);
    vswitchdPid = await startDaemon({
      daemon: "ovs-vswitchd",
      argv: [
        "ovs-vswitchd",
        `unix:${paths.dbSocket}`,
        `--pidfile=${paths.vswitchdPidFile}`,
        `--unixctl=${paths.vswitchdCtl}`,
        `--log-file=${paths.vswitchdLog}`,
        "--detach",
      ],
      netns: options.netns,
      // ovs-vswitchd puts the bridges' management sockets into OVS_RUNDIR.
      env: { OVS_RUNDIR: paths.dir },
      paths,
      ctl: paths.vswitchdCtl,
      pidFile: paths.vswitchdPidFile,
      logFile: paths.vswitchdLog,
      readyTimeoutMs,
      onPid: options.onPid,
    });
  }

  return {
    ...paths,
    netns: options.netns,
    ovsdbPid,
    vswitchdPid,
    mgmtSocket: (bridge) => mgmtSocketPath(paths.dir, bridge),
    vsctl: (args, runOptions) => run(["ovs-vsctl", `--db=unix:${paths.dbSocket}`, ...args], runOptions),
  };
}

/** Returns how to recognise a daemon of the instance in `dir` in /proc. */
export function ovsDaemonIdentity(dir: string, daemon: OvsDaemon): ProcessIdentity {
  const paths = ovsPaths(dir);
  const pidFile = daemon === "ovsdb-server" ? paths.ovsdbPidFile : paths.vswitchdPidFile;
  return { program: daemon, argumentContaining: `--pidfile=${pidFile}` };
}

/**
 * Stops the daemons of the instance in `dir`: ovs-vswitchd first, then ovsdb-server.
 * It finds them by the PIDs in `pids`, by the pid files, and by a /proc scan for daemons
 * whose --pidfile argument points into `dir` (so a daemon whose pid file is gone is still
 * found). Only processes whose command line matches are signalled. Idempotent.
 * Returns the PIDs it stopped.
 */
export async function stopOvs(options: { dir: string; pids?: readonly number[] }): Promise<number[]> {
  const paths = ovsPaths(options.dir);
  const stopped: number[] = [];
  const daemons = [
    { daemon: "ovs-vswitchd", pidFile: paths.vswitchdPidFile },
    { daemon: "ovsdb-server", pidFile: paths.ovsdbPidFile },
  ] as const;

  for (const { daemon, pidFile } of daemons) {
    const identity = ovsDaemonIdentity(options.dir, daemon);
    const candidates = new Set<number>(options.pids ?? []);
    const fromFile = await readPidFile(pidFile);
    if (fromFile !== undefined) candidates.add(fromFile);
    for (const pid of await findProcesses(identity)) candidates.add(pid);

    for (const pid of candidates) {
      if (await stopProcess(pid, identity)) stopped.push(pid);
    }
  }
  return stopped;
}

/** Returns the last `lines` lines of a log file, or a note that it cannot be read. */
export async function logTail(path: string, lines = 15): Promise<string> {
  try {
    const text = await readFile(path, "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch (error) {
    return `(cannot read ${path}: ${(error as Error).message})`;
  }
}

interface DaemonStart {
  daemon: OvsDaemon;
  argv: string[];
  netns: string;
  env?: Record<string, string>;
  paths: OvsPaths;
  ctl: string;
  pidFile: string;
  logFile: string;
  readyTimeoutMs: number;
  onPid: StartOvsOptions["onPid"];
}

/** Launches one daemon with --detach, reports its PID and waits until its control socket responds. */
async function startDaemon(start: DaemonStart): Promise<number> {
  try {
    await run(start.argv, { netns: start.netns, env: start.env, timeoutMs: start.readyTimeoutMs });
  } catch (error) {
    throw await startFailure(start, "failed to start", error);
  }

  const pid = await readPidFile(start.pidFile);
  if (pid === undefined) {
    throw await startFailure(start, `started but wrote no pid file ${start.pidFile}`, undefined);
  }
  await start.onPid?.(start.daemon, pid);

  try {
    await waitForAppctl(start.ctl, start.readyTimeoutMs);
  } catch (error) {
    throw await startFailure(start, `does not answer on ${start.ctl}`, error);
  }
  return pid;
}

/** Polls `ovs-appctl -t CTL version` until it succeeds, because `--detach` returning does not prove that the socket responds. */
async function waitForAppctl(ctl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await run(["ovs-appctl", "-t", ctl, "version"], { timeoutMs: Math.max(1000, deadline - Date.now()) });
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await sleep(50);
    }
  }
}

async function startFailure(start: DaemonStart, problem: string, cause: unknown): Promise<LabError> {
  const tail = await logTail(start.logFile);
  const reason = cause instanceof Error ? `${cause.message}\n` : "";
  return new LabError(
    LabErrorCode.OvsStartFailed,
    `${start.daemon} in ${start.netns} ${problem}: see ${start.logFile}\n${reason}last lines of the log:\n${tail}`,
    { cause },
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
