// Reading the network configuration list the way a container runtime does: the first
// .conflist, .conf or .json file in lexical order in the CNI configuration folder.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";

import { ClusterError, ClusterErrorCode } from "../errors.ts";

/** One plugin entry of a conflist, kept as parsed JSON so unknown keys reach the plugin. */
export type PluginConfig = { type: string; capabilities?: Record<string, boolean> } & Record<string, unknown>;

/** A parsed network configuration list. */
export interface NetworkConfigList {
  cniVersion: string;
  name: string;
  plugins: PluginConfig[];
  /** The file's bytes, stored in the result cache as libcni does. */
  bytes: Buffer;
  /** File the list came from. */
  path: string;
}

const configExtensions = [".conflist", ".conf", ".json"] as const;

/**
 * Loads the first configuration file of `confDir` in lexical order. A single-plugin .conf
 * file becomes a list of one plugin. Raises CNI_CONFIG_INVALID when the folder has no
 * configuration file or the first one is invalid.
 */
export async function loadNetworkConfigList(confDir: string): Promise<NetworkConfigList> {
  let entries: string[];
  try {
    entries = await readdir(confDir);
  } catch (error) {
    throw new ClusterError(ClusterErrorCode.CniConfigInvalid, `cannot read CNI configuration folder ${confDir}: create it and put a .conflist in it`, { cause: error });
  }
  const first = entries.filter((entry) => configExtensions.some((extension) => entry.endsWith(extension))).sort()[0];
  if (first === undefined) {
    throw new ClusterError(ClusterErrorCode.CniConfigInvalid, `no .conflist, .conf or .json file in CNI configuration folder ${confDir}`);
  }
  const path = join(confDir, first);
  const bytes = await readFile(path);
  return parseNetworkConfigList(bytes, path);
}

/** Parses and validates a conflist (or a single-plugin .conf) from its bytes. */
export function parseNetworkConfigList(bytes: Buffer, path: string): NetworkConfigList {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new ClusterError(ClusterErrorCode.CniConfigInvalid, `CNI configuration ${path} is not valid JSON`, { cause: error });
  }
  if (!isRecord(parsed)) throw invalid(path, "the top level must be a JSON object");

  const cniVersion = parsed.cniVersion;
  const name = parsed.name;
  if (typeof cniVersion !== "string" || cniVersion === "") throw invalid(path, `"cniVersion" must be a non-empty string`);
  if (typeof name !== "string" || name === "") throw invalid(path, `"name" must be a non-empty string`);

  // A .conf file is one plugin: its own top level is the plugin's configuration.
  const rawPlugins = parsed.plugins === undefined && typeof parsed.type === "string" ? [parsed] : parsed.plugins;
  if (!Array.isArray(rawPlugins) || rawPlugins.length === 0) throw invalid(path, `"plugins" must be a non-empty array`);
  const plugins = rawPlugins.map((plugin, index) => {
    if (!isRecord(plugin) || typeof plugin.type !== "string" || plugin.type === "") {
      throw invalid(path, `plugins[${index}] must be an object with a non-empty "type"`);
    }
    return plugin as PluginConfig;
  });
  return { cniVersion, name, plugins, bytes, path };
}

function invalid(path: string, problem: string): ClusterError {
  return new ClusterError(ClusterErrorCode.CniConfigInvalid, `invalid CNI configuration ${path}: ${problem}`);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
