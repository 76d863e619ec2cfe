// Test fixture: a real ovsdb-server in its own temporary folder. Each test starts its own
// and stops it in t.after(), killing only the PID this fixture started.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const VSWITCH_SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema";

export type OvsdbServerOptions = {
  /** Schema file; default the Open_vSwitch schema. */
  schemaPath?: string;
  /** Schema JSON text, written to the folder; overrides schemaPath. */
  schemaText?: string;
  /** Extra --remote arguments, for example "ptcp:0:127.0.0.1". */
  remotes?: string[];
  /** Create a single-server clustered database, whose server keeps transaction history for monitor_cond_since. */
  clustered?: boolean;
  /** Run `ovs-vsctl init` after starting (Open_vSwitch schema only). Default true for that schema. */
  init?: boolean;
};

export type OvsdbServer = {
  dir: string;
  socketPath: string;
  endpoint: string;
  dbPath: string;
  pid(): number;
  /** Kills the server with SIGKILL, leaving the database file. */
  kill(): Promise<void>;
  /** Starts the server again on the same database file and socket. */
  start(): Promise<void>;
  /** Runs ovs-vsctl against this server with --no-wait. Returns stdout. */
  vsctl(...args: string[]): Promise<string>;
  /** Runs ovsdb-client against this server; `args` follow the method name, the server endpoint is inserted. */
  ovsdbClient(method: string, ...args: string[]): Promise<string>;
  /** Returns the endpoint of the TCP listener opened by a "ptcp:0:127.0.0.1" remote, for example "tcp:127.0.0.1:40123". */
  boundTcpEndpoint(): Promise<string>;
  stop(): Promise<void>;
};

/** Creates a database in a fresh temporary folder and starts ovsdb-server on it. */
export async function startOvsdbServer(options: OvsdbServerOptions = {}): Promise<OvsdbServer> {
  const dir = await mkdtemp(join(tmpdir(), "syd-ovsdb-"));
  let schemaPath = options.schemaPath ?? VSWITCH_SCHEMA;
  if (options.schemaText !== undefined) {
    schemaPath = join(dir, "schema.ovsschema");
    await writeFile(schemaPath, options.schemaText);
  }
  const dbPath = join(dir, "conf.db");
  const socketPath = join(dir, "db.sock");
  const pidPath = join(dir, "ovsdb.pid");
  const ctlPath = join(dir, "ovsdb.ctl");
  if (options.clustered === true) {
    await run("ovsdb-tool", ["create-cluster", dbPath, schemaPath, `unix:${join(dir, "raft.sock")}`]);
  } else {
    await run("ovsdb-tool", ["create", dbPath, schemaPath]);
  }
  let pid = 0;

  const start = async () => {
    const remotes = [`--remote=punix:${socketPath}`, ...(options.remotes ?? []).map((r) => `--remote=${r}`)];
    await run("ovsdb-server", [
      dbPath,
      ...remotes,
      `--pidfile=${pidPath}`,
      `--unixctl=${ctlPath}`,
      `--log-file=${join(dir, "ovsdb.log")}`,
      "--detach",
      "--no-chdir",
    ]);
    pid = Number((await readFile(pidPath, "utf8")).trim());
  };
  const kill = async () => {
    if (pid === 0) return;
    const stopped = pid;
    pid = 0;
    try {
      process.kill(stopped, "SIGKILL");
    } catch {
      return;
    }
    while (isAlive(stopped)) await new Promise((resolve) => setTimeout(resolve, 10));
    await rm(pidPath, { force: true });
  };

  await start();
  const server: OvsdbServer = {
    dir,
    socketPath,
    endpoint: `unix:${socketPath}`,
    dbPath,
    pid: () => pid,
    kill,
    start,
    vsctl: async (...args) => (await run("ovs-vsctl", [`--db=unix:${socketPath}`, "--no-wait", "--timeout=10", ...args])).stdout,
    ovsdbClient: async (method, ...args) => (await run("ovsdb-client", [method, `unix:${socketPath}`, ...args])).stdout,
    boundTcpEndpoint: async () => {
      // ovsdb-server/list-remotes prints "ptcp:0:127.0.0.1" as configured, without the
      // port the kernel chose; the log line "listening on port N" has it.
      for (let attempt = 0; attempt < 100; attempt++) {
        const log = await readFile(join(dir, "ovsdb.log"), "utf8");
        const ports = [...log.matchAll(/127\.0\.0\.1: listening on port (\d+)/g)];
        const last = ports.at(-1);
        if (last !== undefined) return `tcp:127.0.0.1:${last[1]}`;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`ovsdb-server in ${dir} logged no TCP listening port`);
    },
    stop: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (options.init ?? (options.schemaText === undefined && schemaPath === VSWITCH_SCHEMA)) {
    await server.vsctl("init");
  }
  return server;
}

/** Reports whether `pid` still runs. A killed daemon stays a zombie until init reaps it, which counts as gone. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Runs a command and returns stdout; for tools the tests read as independent references. */
export async function runTool(file: string, args: string[]): Promise<string> {
  return (await run(file, args)).stdout;
}

export type Vswitchd = {
  namespace: string;
  /** Runs ovs-ofctl against bridge `bridge`'s management socket; `args` go before the target. */
  ofctl(command: string, bridge: string, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
};

/**
 * Starts ovs-vswitchd for `server` inside a new network namespace "sydNNNN" (netdev
 * bridges create tap devices there). stop() kills that PID and deletes the namespace.
 */
export async function startVswitchd(server: OvsdbServer): Promise<Vswitchd> {
  const namespace = `syd${process.pid % 10000}${Math.floor(Math.random() * 1000)}`;
  const pidPath = join(server.dir, "vswitchd.pid");
  await run("ip", ["netns", "add", namespace]);
  let pid = 0;
  try {
    await run(
      "ip",
      [
        "netns",
        "exec",
        namespace,
        "ovs-vswitchd",
        server.endpoint,
        `--pidfile=${pidPath}`,
        `--unixctl=${join(server.dir, "vswitchd.ctl")}`,
        `--log-file=${join(server.dir, "vswitchd.log")}`,
        "--detach",
        "--no-chdir",
      ],
      { env: { ...process.env, OVS_RUNDIR: server.dir } },
    );
    pid = Number((await readFile(pidPath, "utf8")).trim());
  } catch (error) {
    await run("ip", ["netns", "del", namespace]);
    throw error;
  }
  return {
    namespace,
    ofctl: async (command, bridge, ...args) =>
      (await run("ovs-ofctl", ["-O", "OpenFlow15", command, `unix:${join(server.dir, `${bridge}.mgmt`)}`, ...args])).stdout,
    stop: async () => {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // Already gone.
      }
      for (let i = 0; i < 200 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
      await run("ip", ["netns", "del", namespace]);
    },
  };
}
