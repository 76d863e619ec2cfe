// Running the plugins of a network configuration list with libcni's semantics. ADD runs in
// list order, passing each plugin's result to the next one as prevResult. DEL runs in
// reverse order with the cached ADD result as prevResult. Each attachment has a result
// cache file.
import { spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { join } from "node:path";

import { ClusterError, ClusterErrorCode, CniPluginError } from "../errors.ts";
import { deleteCachedResult, readCachedResult, writeCachedResult } from "./cache.ts";
import { isRecord } from "./conflist.ts";
import type { NetworkConfigList, PluginConfig } from "./conflist.ts";

export type CniCommand = "ADD" | "DEL" | "CHECK";

/** Runtime arguments of one attachment (a container's interface on one network). */
export interface RuntimeArgs {
  /** CNI_CONTAINERID: the pod sandbox's id. */
  containerId: string;
  /** CNI_NETNS: path of the pod's network namespace, e.g. /run/netns/NAME. */
  netnsPath: string;
  /** CNI_IFNAME: the interface to create inside the namespace. */
  ifName: string;
  /** CNI_ARGS as ordered key/value pairs, joined as K=V;K=V. */
  args: readonly (readonly [string, string])[];
  /** Values offered to plugins that declare the capability (e.g. portMappings). */
  capabilityArgs: Readonly<Record<string, unknown>>;
}

/** A JSON object printed by a plugin: a CNI result (ips, interfaces, routes, dns). */
export type CniResult = Record<string, unknown>;

/** One plugin run as the executor receives it. */
export interface PluginExecution {
  /** Absolute path of the plugin binary. */
  binary: string;
  /** The CNI_* variables. The executor adds them to its own environment. */
  env: Record<string, string>;
  stdin: string;
}

export interface PluginOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs one plugin binary. The runner's executor enters the node's namespace first. */
export type PluginExecutor = (execution: PluginExecution) => Promise<PluginOutput>;

export interface NetworkListCall {
  list: NetworkConfigList;
  runtime: RuntimeArgs;
  /** Folders searched for plugin binaries, in order (CNI_PATH). */
  cniPath: readonly string[];
  /** Folder of the result cache (libcni's default is /var/lib/cni). */
  cacheDir: string;
  executor: PluginExecutor;
}

/** Returns the CNI_* environment of one plugin run. */
export function buildPluginEnv(options: { command: CniCommand; runtime: RuntimeArgs; cniPath: readonly string[] }): Record<string, string> {
  const { runtime } = options;
  return {
    CNI_COMMAND: options.command,
    CNI_CONTAINERID: runtime.containerId,
    CNI_NETNS: runtime.netnsPath,
    CNI_IFNAME: runtime.ifName,
    CNI_ARGS: runtime.args.map(([key, value]) => `${key}=${value}`).join(";"),
    CNI_PATH: options.cniPath.join(":"),
  };
}

/**
 * Returns the stdin of one plugin run: the plugin's entry with the list's name and
 * cniVersion injected, prevResult when given, and runtimeConfig holding each capability
 * that the plugin declares true and the runtime offers.
 */
export function buildPluginStdin(options: {
  list: Pick<NetworkConfigList, "name" | "cniVersion">;
  plugin: PluginConfig;
  prevResult: CniResult | undefined;
  capabilityArgs: Readonly<Record<string, unknown>>;
}): string {
  const config: Record<string, unknown> = { ...options.plugin, name: options.list.name, cniVersion: options.list.cniVersion };
  if (options.prevResult !== undefined) config.prevResult = options.prevResult;

  const runtimeConfig: Record<string, unknown> = {};
  for (const [capability, enabled] of Object.entries(options.plugin.capabilities ?? {})) {
    if (enabled === true && options.capabilityArgs[capability] !== undefined) runtimeConfig[capability] = options.capabilityArgs[capability];
  }
  if (Object.keys(runtimeConfig).length > 0) config.runtimeConfig = runtimeConfig;
  return JSON.stringify(config);
}

/**
 * Runs ADD for every plugin in list order and caches the last result. Not all-or-nothing,
 * like libcni: on failure the caller runs delNetworkList to undo the plugins that succeeded.
 */
export async function addNetworkList(call: NetworkListCall): Promise<CniResult> {
  let prevResult: CniResult | undefined;
  for (const plugin of call.list.plugins) {
    const output = await runPlugin({ call, plugin, command: "ADD", prevResult });
    prevResult = parseResult(output, plugin);
  }
  if (prevResult === undefined) throw new ClusterError(ClusterErrorCode.CniConfigInvalid, `CNI configuration ${call.list.path} has no plugins`);
  await writeCachedResult({ cacheDir: call.cacheDir, list: call.list, runtime: call.runtime, result: prevResult });
  return prevResult;
}

/**
 * Runs DEL for every plugin in reverse list order, each with the cached ADD result as
 * prevResult (none when nothing is cached), then removes the cache entry. Stops at the first
 * failing plugin and keeps the cache so a retry passes the same prevResult. Plugins treat
 * DEL of something already gone as success, so a repeated call is safe.
 */
export async function delNetworkList(call: NetworkListCall): Promise<void> {
  const cached = await readCachedResult({ cacheDir: call.cacheDir, networkName: call.list.name, containerId: call.runtime.containerId, ifName: call.runtime.ifName });
  const prevResult = cached?.result;
  for (const plugin of [...call.list.plugins].reverse()) {
    await runPlugin({ call, plugin, command: "DEL", prevResult });
  }
  await deleteCachedResult({ cacheDir: call.cacheDir, networkName: call.list.name, containerId: call.runtime.containerId, ifName: call.runtime.ifName });
}

/** Returns the first `type` binary found in the CNI_PATH folders. Raises CNI_PLUGIN_NOT_FOUND. */
export async function findPlugin(type: string, cniPath: readonly string[]): Promise<string> {
  if (type.includes("/")) throw new ClusterError(ClusterErrorCode.CniConfigInvalid, `invalid plugin type ${JSON.stringify(type)}: a type is a file name, not a path`);
  for (const dir of cniPath) {
    const candidate = join(dir, type);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder. Try the next one.
    }
  }
  throw new ClusterError(ClusterErrorCode.CniPluginNotFound, `CNI plugin ${type} not found in CNI_PATH ${cniPath.join(":")}: install it or add its folder to the CNI path`);
}

async function runPlugin(options: { call: NetworkListCall; plugin: PluginConfig; command: CniCommand; prevResult: CniResult | undefined }): Promise<PluginOutput> {
  const { call, plugin, command } = options;
  const binary = await findPlugin(plugin.type, call.cniPath);
  const env = buildPluginEnv({ command, runtime: call.runtime, cniPath: call.cniPath });
  const stdin = buildPluginStdin({ list: call.list, plugin, prevResult: options.prevResult, capabilityArgs: call.runtime.capabilityArgs });
  const output = await call.executor({ binary, env, stdin });
  if (output.exitCode !== 0) throw pluginError({ plugin: plugin.type, command, output });
  return output;
}

function parseResult(output: PluginOutput, plugin: PluginConfig): CniResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output.stdout);
  } catch (error) {
    throw new CniPluginError({ plugin: plugin.type, command: "ADD", msg: `printed a result that is not JSON: ${JSON.stringify(output.stdout.slice(0, 200))}`, stderr: output.stderr, cause: error });
  }
  if (!isRecord(parsed)) throw new CniPluginError({ plugin: plugin.type, command: "ADD", msg: "printed a result that is not a JSON object", stderr: output.stderr });
  return parsed;
}

/** Builds the error of a failed plugin from the CNI error object on its stdout, else from its stderr. */
export function pluginError(options: { plugin: string; command: CniCommand; output: PluginOutput }): CniPluginError {
  const { output } = options;
  try {
    const parsed: unknown = JSON.parse(output.stdout);
    if (isRecord(parsed) && typeof parsed.msg === "string") {
      return new CniPluginError({
        plugin: options.plugin,
        command: options.command,
        cniCode: typeof parsed.code === "number" ? parsed.code : undefined,
        msg: parsed.msg,
        details: typeof parsed.details === "string" ? parsed.details : undefined,
        stderr: output.stderr,
      });
    }
  } catch {
    // Not an error object: fall back to stderr below.
  }
  const text = output.stderr.trim() || output.stdout.trim() || "no output";
  return new CniPluginError({ plugin: options.plugin, command: options.command, msg: `exit code ${output.exitCode}: ${text}`, stderr: output.stderr });
}

/**
 * Returns an executor that runs plugins as child processes with this process's environment
 * plus the CNI_* variables, inside `netns` (through `ip netns exec`) when given.
 */
export function processExecutor(options: { netns?: string; timeoutMs?: number } = {}): PluginExecutor {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return (execution) =>
    new Promise((resolve, reject) => {
      const argv = options.netns === undefined ? [execution.binary] : ["ip", "netns", "exec", options.netns, execution.binary];
      const [file, ...args] = argv;
      const child = spawn(file ?? execution.binary, args, { env: { ...process.env, ...execution.env }, stdio: ["pipe", "pipe", "pipe"] });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
      child.stdin.on("error", () => {});
      child.on("error", (error) => {
        clearTimeout(timer);
        reject(new ClusterError(ClusterErrorCode.CniPluginFailed, `cannot start CNI plugin ${execution.binary}: ${error.message}`, { cause: error }));
      });
      child.on("close", (exitCode, signal) => {
        clearTimeout(timer);
        const err = Buffer.concat(stderr).toString("utf8");
        resolve({
          exitCode: exitCode ?? 128,
          stdout: Buffer.concat(stdout).toString("utf8"),
          stderr: signal === null ? err : `${err}killed by ${signal} (time limit ${timeoutMs} ms)`,
        });
      });
      child.stdin.end(execution.stdin);
    });
}
