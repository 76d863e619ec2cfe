// Shared set-up for the CNI integration tests: one Open vSwitch instance in a network
// namespace of its own, the CNI server running inside that namespace as a child
// process, pod namespaces, and a runner that executes the CNI binary as a runtime does.
import { spawn, execFileSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = new URL("../../../", import.meta.url).pathname;
export const NODE = join(ROOT, "node_modules/.bin/node");
export const CNI_BINARY = join(ROOT, "bin/switchyard-cni");

export function sh(file: string, args: string[], input?: string): string {
  return execFileSync(file, args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
}

export function shQuiet(file: string, args: string[]): void {
  try {
    execFileSync(file, args, { stdio: "ignore" });
  } catch {
    // Clean-up of something already gone.
  }
}

export type OvsInstance = { dir: string; ns: string; db: string; bridge: string; mgmt: string; stop(): void };

/** Starts ovsdb-server and ovs-vswitchd in a new namespace `ns`, following the project's OVS recipe. */
export function startOvs(options: { ns: string; bridge: string }): OvsInstance {
  const dir = mkdtempSync(join(tmpdir(), `${options.ns}-`));
  shQuiet("ip", ["netns", "del", options.ns]);
  sh("ip", ["netns", "add", options.ns]);
  sh("ip", ["-n", options.ns, "link", "set", "lo", "up"]);
  sh("ovsdb-tool", ["create", `${dir}/conf.db`, "/usr/share/openvswitch/vswitch.ovsschema"]);
  sh("ip", ["netns", "exec", options.ns, "ovsdb-server", `${dir}/conf.db`, `--remote=punix:${dir}/db.sock`, `--pidfile=${dir}/ovsdb.pid`, `--unixctl=${dir}/ovsdb.ctl`, `--log-file=${dir}/ovsdb.log`, "--detach"]);
  sh("ovs-vsctl", [`--db=unix:${dir}/db.sock`, "--no-wait", "init"]);
  execFileSync("ip", ["netns", "exec", options.ns, "ovs-vswitchd", `unix:${dir}/db.sock`, `--pidfile=${dir}/vswitchd.pid`, `--unixctl=${dir}/vswitchd.ctl`, `--log-file=${dir}/vswitchd.log`, "--detach"], {
    env: { ...process.env, OVS_RUNDIR: dir },
    stdio: "ignore",
  });
  return {
    dir,
    ns: options.ns,
    db: `unix:${dir}/db.sock`,
    bridge: options.bridge,
    mgmt: `${dir}/${options.bridge}.mgmt`,
    stop() {
      const pids: number[] = [];
      for (const pidFile of ["vswitchd.pid", "ovsdb.pid"]) {
        const path = join(dir, pidFile);
        if (!existsSync(path)) continue;
        const pid = Number(readFileSync(path, "utf8").trim());
        try {
          process.kill(pid, "SIGTERM");
          pids.push(pid);
        } catch {
          // Already gone.
        }
      }
      // The daemons remove their pid and control files as they exit, so wait before
      // removing the folder; otherwise an exiting daemon can leave files behind.
      const deadline = Date.now() + 3000;
      while (pids.some((pid) => existsSync(`/proc/${pid}`)) && Date.now() < deadline) execFileSync("sleep", ["0.05"]);
      shQuiet("ip", ["netns", "del", options.ns]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Stops ovs-vswitchd of `ovs` (a process this test started) and starts it again. */
export function restartVswitchd(ovs: OvsInstance): void {
  const pidPath = join(ovs.dir, "vswitchd.pid");
  const pid = Number(readFileSync(pidPath, "utf8").trim());
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 5000;
  while (existsSync(`/proc/${pid}`) && Date.now() < deadline) execFileSync("sleep", ["0.05"]);
  execFileSync("ip", ["netns", "exec", ovs.ns, "ovs-vswitchd", ovs.db, `--pidfile=${ovs.dir}/vswitchd.pid`, `--unixctl=${ovs.dir}/vswitchd.ctl`, `--log-file=${ovs.dir}/vswitchd.log`, "--detach"], {
    env: { ...process.env, OVS_RUNDIR: ovs.dir },
    stdio: "ignore",
  });
}

export function vsctl(ovs: OvsInstance, args: string[]): string {
  return sh("ovs-vsctl", [`--db=${ovs.db}`, ...args]).trim();
}

export function dumpFlows(ovs: OvsInstance): string[] {
  return sh("ovs-ofctl", ["-O", "OpenFlow15", "--no-stats", "dump-flows", `unix:${ovs.mgmt}`])
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("OFPST_FLOW") && !line.startsWith("NXST_FLOW"));
}

export type AgentProcess = { socketPath: string; stateDir: string; configPath: string; pid(): number; start(): Promise<void>; stop(): Promise<void> };

/** Runs the CNI server as a child process inside the OVS namespace, so veths land where ovs-vswitchd runs. */
export function agentProcess(options: { ovs: OvsInstance; podCidrs: string[]; mtu?: number; dir: string; logLevel?: string }): AgentProcess {
  const socketPath = join(options.dir, "cni.sock");
  const stateDir = join(options.dir, "state");
  const configPath = join(options.dir, "agent.json");
  writeFileSync(
    configPath,
    JSON.stringify({
      socketPath,
      ovsdb: options.ovs.db,
      bridge: options.ovs.bridge,
      datapathType: "netdev",
      openflow: `unix:${options.ovs.mgmt}`,
      podCidrs: options.podCidrs,
      mtu: options.mtu ?? 1450,
      stateDir,
      logLevel: options.logLevel ?? "info",
      logFile: join(options.dir, "agent.log"),
    }),
  );
  let child: ChildProcess | undefined;
  return {
    socketPath,
    stateDir,
    configPath,
    pid: () => child?.pid ?? -1,
    async start() {
      const started = spawn("ip", ["netns", "exec", options.ovs.ns, NODE, join(ROOT, "agent/cniserver/main.ts"), "--config", configPath], { stdio: ["ignore", "ignore", "pipe"] });
      child = started;
      let stderr = "";
      started.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const deadline = Date.now() + 20_000;
      while (!(await canConnect(socketPath))) {
        if (started.exitCode !== null) throw new Error(`CNI server exited with ${started.exitCode}: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`CNI server did not open ${socketPath} within 20 s: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop() {
      const running = child;
      child = undefined;
      if (running === undefined || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once("exit", resolve));
      running.kill("SIGTERM");
      await exited;
    },
  };
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (!existsSync(path)) return resolve(false);
    const socket = connect({ path });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export type PluginRun = { code: number; stdout: string; stderr: string; json: Record<string, unknown> | undefined };

/** Executes a CNI plugin binary the way libcni does: CNI_* in the environment, configuration on stdin. */
export function runPlugin(options: { binary?: string; args?: string[]; env: Record<string, string>; config: unknown }): Promise<PluginRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.binary ?? CNI_BINARY, options.args ?? [], { env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() === "" ? undefined : (JSON.parse(stdout) as Record<string, unknown>);
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
    child.stdin.end(typeof options.config === "string" ? options.config : JSON.stringify(options.config));
  });
}

export function cniEnv(command: string, options: { containerId?: string; netns?: string; ifName?: string; args?: string }): Record<string, string> {
  const env: Record<string, string> = { CNI_COMMAND: command, CNI_PATH: "/usr/lib/cni" };
  if (options.containerId !== undefined) env.CNI_CONTAINERID = options.containerId;
  if (options.netns !== undefined) env.CNI_NETNS = options.netns;
  if (options.ifName !== undefined) env.CNI_IFNAME = options.ifName;
  if (options.args !== undefined) env.CNI_ARGS = options.args;
  return env;
}

export function addPodNamespace(name: string): string {
  shQuiet("ip", ["netns", "del", name]);
  sh("ip", ["netns", "add", name]);
  sh("ip", ["-n", name, "link", "set", "lo", "up"]);
  return `/run/netns/${name}`;
}

export function ping(options: { fromNs: string; to: string }): boolean {
  try {
    execFileSync("ip", ["netns", "exec", options.fromNs, "ping", "-c", "1", "-W", "2", options.to], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
