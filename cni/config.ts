// Parsing and validation of the network configuration the runtime writes to stdin.
import { CniError, CniErrorCode } from "./errors.ts";
import type { CniDns } from "./result.ts";
import { isSupportedVersion, SUPPORTED_VERSIONS } from "./version.ts";
import type { CniVersion } from "./version.ts";

export const DEFAULT_SOCKET_PATH = "/var/run/switchyard/cni.sock";
export const DEFAULT_LOG_FILE = "/var/log/switchyard/cni.log";
/** Larger inputs are rejected before parsing; real configurations are a few kilobytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Network names follow the container ID rule (spec 1.1.0, section 1). */
const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** One attachment the runtime still uses, from `cni.dev/valid-attachments` (GC). */
export type ValidAttachment = { containerId: string; ifName: string };

/** The parts of the plugin configuration this plugin reads. */
export type NetworkConfig = {
  cniVersion: CniVersion;
  name: string;
  type: string;
  mtu?: number;
  dns?: CniDns;
  runtimeConfig?: Record<string, unknown>;
  capabilities?: Record<string, boolean>;
  prevResult?: Record<string, unknown>;
  /** Switchyard: the agent's CNI socket. */
  socketPath: string;
  /** Switchyard: where the binary appends its log lines. */
  logFile: string;
  /** GC only; undefined when neither attachment key is present. */
  validAttachments?: ValidAttachment[];
};

/** Parses the bytes from stdin as JSON. Throws CniError code 6 (decode failure). */
export function decodeConfig(stdin: Buffer): Record<string, unknown> {
  if (stdin.length > MAX_CONFIG_BYTES) {
    throw new CniError(CniErrorCode.DECODE_FAILURE, `network configuration is ${stdin.length} bytes; the limit is ${MAX_CONFIG_BYTES}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdin.toString("utf8"));
  } catch (error) {
    throw new CniError(CniErrorCode.DECODE_FAILURE, `network configuration on stdin is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!isObject(parsed)) {
    throw new CniError(CniErrorCode.DECODE_FAILURE, `network configuration must be a JSON object, got ${describe(parsed)}`);
  }
  return parsed;
}

/**
 * Reads cniVersion from a decoded configuration. Throws code 7 when it is missing or not
 * a string, and code 1 (incompatible version) when this plugin does not implement it.
 */
export function readVersion(raw: Record<string, unknown>): CniVersion {
  const version = raw.cniVersion;
  if (version === undefined) throw invalidConfig("cniVersion is missing");
  if (typeof version !== "string") throw invalidConfig(`cniVersion must be a string, got ${describe(version)}`);
  if (!isSupportedVersion(version)) {
    throw new CniError(CniErrorCode.INCOMPATIBLE_VERSION, `cniVersion ${JSON.stringify(version)} is not supported; use one of ${SUPPORTED_VERSIONS.join(", ")}`);
  }
  return version;
}

/** Validates a decoded configuration. Throws CniError code 1 or 7 naming the bad field. */
export function parseConfig(raw: Record<string, unknown>): NetworkConfig {
  const config: NetworkConfig = {
    cniVersion: readVersion(raw),
    name: readName(raw.name),
    type: readRequiredString(raw, "type"),
    socketPath: readAbsolutePath(raw, "socketPath") ?? DEFAULT_SOCKET_PATH,
    logFile: readAbsolutePath(raw, "logFile") ?? DEFAULT_LOG_FILE,
  };
  if (raw.mtu !== undefined) config.mtu = readMtu(raw.mtu);
  if (raw.ipam !== undefined && !isObject(raw.ipam)) throw invalidConfig(`ipam must be an object, got ${describe(raw.ipam)}`);
  if (raw.dns !== undefined) config.dns = readDns(raw.dns);
  if (raw.runtimeConfig !== undefined) config.runtimeConfig = readObject(raw, "runtimeConfig");
  if (raw.capabilities !== undefined) config.capabilities = readCapabilities(raw.capabilities);
  if (raw.prevResult !== undefined) config.prevResult = readObject(raw, "prevResult");
  const attachments = readValidAttachments(raw);
  if (attachments !== undefined) config.validAttachments = attachments;
  return config;
}

function readName(value: unknown): string {
  if (value === undefined) throw invalidConfig("name is missing");
  if (typeof value !== "string") throw invalidConfig(`name must be a string, got ${describe(value)}`);
  if (!NETWORK_NAME.test(value)) {
    throw invalidConfig(`name ${JSON.stringify(value)} is invalid: it must start with a letter or digit, followed by letters, digits, "_", "." or "-"`);
  }
  return value;
}

function readRequiredString(raw: Record<string, unknown>, field: string): string {
  const value = raw[field];
  if (value === undefined) throw invalidConfig(`${field} is missing`);
  if (typeof value !== "string" || value === "") throw invalidConfig(`${field} must be a non-empty string, got ${describe(value)}`);
  return value;
}

function readAbsolutePath(raw: Record<string, unknown>, field: string): string | undefined {
  const value = raw[field];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !value.startsWith("/") || value.includes("\0")) {
    throw invalidConfig(`${field} must be an absolute path, got ${describe(value)}`);
  }
  return value;
}

function readMtu(value: unknown): number {
  // 68 is the IPv4 minimum (RFC 791); 65535 is the largest MTU iproute2 accepts for a veth.
  if (typeof value !== "number" || !Number.isInteger(value) || value < 68 || value > 65535) {
    throw invalidConfig(`mtu ${describe(value)} is invalid: use an integer from 68 to 65535`);
  }
  return value;
}

function readDns(value: unknown): CniDns {
  if (!isObject(value)) throw invalidConfig(`dns must be an object, got ${describe(value)}`);
  const dns: CniDns = {};
  for (const field of ["nameservers", "search", "options"] as const) {
    const list = value[field];
    if (list === undefined) continue;
    if (!Array.isArray(list) || !list.every((entry) => typeof entry === "string")) {
      throw invalidConfig(`dns.${field} must be a list of strings, got ${describe(list)}`);
    }
    dns[field] = list as string[];
  }
  if (value.domain !== undefined) {
    if (typeof value.domain !== "string") throw invalidConfig(`dns.domain must be a string, got ${describe(value.domain)}`);
    dns.domain = value.domain;
  }
  return dns;
}

function readCapabilities(value: unknown): Record<string, boolean> {
  if (!isObject(value) || !Object.values(value).every((entry) => typeof entry === "boolean")) {
    throw invalidConfig(`capabilities must be an object of booleans, got ${describe(value)}`);
  }
  return value as Record<string, boolean>;
}

function readObject(raw: Record<string, unknown>, field: string): Record<string, unknown> {
  const value = raw[field];
  if (!isObject(value)) throw invalidConfig(`${field} must be an object, got ${describe(value)}`);
  return value;
}

/**
 * Reads the GC list from `cni.dev/valid-attachments`, or from the older
 * `cni.dev/attachments` when only that key is present.
 */
function readValidAttachments(raw: Record<string, unknown>): ValidAttachment[] | undefined {
  const key = raw["cni.dev/valid-attachments"] !== undefined ? "cni.dev/valid-attachments" : "cni.dev/attachments";
  const list = raw[key];
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) throw invalidConfig(`${key} must be a list, got ${describe(list)}`);
  return list.map((entry, index) => {
    if (!isObject(entry) || typeof entry.containerID !== "string" || typeof entry.ifname !== "string") {
      throw invalidConfig(`${key}[${index}] must be an object with string fields containerID and ifname, got ${describe(entry)}`);
    }
    return { containerId: entry.containerID, ifName: entry.ifname };
  });
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Describes a JSON value in a few words for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return JSON.stringify(value.length > 64 ? value.slice(0, 64) + "..." : value);
  return `${typeof value} ${String(value)}`;
}

function invalidConfig(message: string): CniError {
  return new CniError(CniErrorCode.INVALID_CONFIG, message);
}
