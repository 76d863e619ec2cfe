// Parsing and validation of the CNI_* environment variables.
import { CniError, CniErrorCode } from "./errors.ts";

export const CNI_COMMANDS = ["ADD", "DEL", "CHECK", "VERSION", "STATUS", "GC"] as const;
export type CniCommand = (typeof CNI_COMMANDS)[number];

/** Pod identity that the kubelet passes in CNI_ARGS. */
export type PodArgs = {
  podNamespace?: string;
  podName?: string;
  podUid?: string;
  infraContainerId?: string;
};

export type CniEnvironment = {
  command: CniCommand;
  containerId?: string;
  netns?: string;
  ifName?: string;
  args: PodArgs;
  path: string[];
};

/** Container IDs: an alphanumeric start, then alphanumerics, `_`, `.` or `-` (spec 1.1.0). */
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** Linux IFNAMSIZ is 16 bytes including the terminating NUL. */
const MAX_IFNAME_BYTES = 15;
const MAX_ENV_VALUE_BYTES = 4096;

/** Required variables per command (spec 1.1.0, section 2 and the operation sections). */
const REQUIRED: Record<CniCommand, readonly string[]> = {
  ADD: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"],
  CHECK: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"],
  DEL: ["CNI_CONTAINERID", "CNI_IFNAME"],
  VERSION: [],
  STATUS: [],
  GC: ["CNI_PATH"],
};

const KNOWN_ARGS = new Map<string, keyof PodArgs>([
  ["K8S_POD_NAMESPACE", "podNamespace"],
  ["K8S_POD_NAME", "podName"],
  ["K8S_POD_UID", "podUid"],
  ["K8S_POD_INFRA_CONTAINER_ID", "infraContainerId"],
]);

/**
 * Reads the CNI_* variables for one invocation. Throws CniError code 4 (invalid
 * environment variables) for a missing command, a missing required variable, an invalid
 * container ID or interface name, or a malformed CNI_ARGS.
 */
export function parseEnvironment(env: Readonly<Record<string, string | undefined>>): CniEnvironment {
  const commandText = env.CNI_COMMAND;
  if (commandText === undefined || commandText === "") {
    throw invalidEnvironment("CNI_COMMAND is missing; set it to one of " + CNI_COMMANDS.join(", "));
  }
  if (!(CNI_COMMANDS as readonly string[]).includes(commandText)) {
    throw invalidEnvironment(`CNI_COMMAND ${JSON.stringify(commandText)} is not a CNI command; use one of ${CNI_COMMANDS.join(", ")}`);
  }
  const command = commandText as CniCommand;

  for (const name of REQUIRED[command]) {
    const value = env[name];
    if (value === undefined || value === "") throw invalidEnvironment(`${name} is required for ${command} but missing`);
  }
  for (const name of ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"]) {
    const value = env[name];
    if (value !== undefined && Buffer.byteLength(value) > MAX_ENV_VALUE_BYTES) {
      throw invalidEnvironment(`${name} is ${Buffer.byteLength(value)} bytes long; the limit is ${MAX_ENV_VALUE_BYTES}`);
    }
  }

  const result: CniEnvironment = { command, args: parseCniArgs(env.CNI_ARGS ?? ""), path: parsePath(env.CNI_PATH ?? "") };
  const containerId = nonEmpty(env.CNI_CONTAINERID);
  if (containerId !== undefined) result.containerId = validateContainerId(containerId);
  const netns = nonEmpty(env.CNI_NETNS);
  if (netns !== undefined) result.netns = validateNetns(netns);
  const ifName = nonEmpty(env.CNI_IFNAME);
  if (ifName !== undefined) result.ifName = validateInterfaceName(ifName);
  return result;
}

export function validateContainerId(value: string): string {
  if (!CONTAINER_ID.test(value)) {
    throw invalidEnvironment(
      `CNI_CONTAINERID ${JSON.stringify(value)} is invalid: it must start with a letter or digit, followed by letters, digits, "_", "." or "-"`,
    );
  }
  return value;
}

/** Checks a name the way the Linux kernel's dev_valid_name does. */
export function validateInterfaceName(value: string): string {
  const problem = interfaceNameProblem(value);
  if (problem !== undefined) throw invalidEnvironment(`CNI_IFNAME ${JSON.stringify(value)} is invalid: ${problem}`);
  return value;
}

/** Returns why `value` is not a valid Linux interface name, or undefined when it is. */
export function interfaceNameProblem(value: string): string | undefined {
  if (value === "") return "it is empty";
  if (Buffer.byteLength(value) > MAX_IFNAME_BYTES) return `it is longer than ${MAX_IFNAME_BYTES} bytes`;
  if (value === "." || value === "..") return 'it must not be "." or ".."';
  if (/[/:\s]/u.test(value)) return 'it must not contain "/", ":" or white space';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/u.test(value)) return "it must not contain control characters";
  return undefined;
}

function validateNetns(value: string): string {
  if (!value.startsWith("/")) throw invalidEnvironment(`CNI_NETNS ${JSON.stringify(value)} is invalid: it must be an absolute path`);
  if (value.includes("\0")) throw invalidEnvironment("CNI_NETNS contains a NUL byte");
  return value;
}

/**
 * Parses CNI_ARGS ("K1=V1;K2=V2"). Keys other than the Kubernetes pod keys are an error
 * unless IgnoreUnknown is "true" or "1" (case-insensitive).
 */
export function parseCniArgs(text: string): PodArgs {
  const args: PodArgs = {};
  if (text === "") return args;
  const unknown: string[] = [];
  let ignoreUnknown = false;
  for (const pair of text.split(";")) {
    if (pair === "") continue;
    const equals = pair.indexOf("=");
    if (equals <= 0) throw invalidEnvironment(`CNI_ARGS entry ${JSON.stringify(pair)} is invalid: expected KEY=VALUE pairs separated by ";"`);
    const key = pair.slice(0, equals);
    const value = pair.slice(equals + 1);
    if (key === "IgnoreUnknown") {
      const lowered = value.toLowerCase();
      if (lowered !== "true" && lowered !== "1" && lowered !== "false" && lowered !== "0") {
        throw invalidEnvironment(`CNI_ARGS IgnoreUnknown=${JSON.stringify(value)} is invalid: use true, false, 1 or 0`);
      }
      ignoreUnknown = lowered === "true" || lowered === "1";
      continue;
    }
    const field = KNOWN_ARGS.get(key);
    if (field === undefined) {
      unknown.push(key);
      continue;
    }
    args[field] = value;
  }
  if (unknown.length > 0 && !ignoreUnknown) {
    throw invalidEnvironment(`CNI_ARGS has unknown keys ${unknown.map((key) => JSON.stringify(key)).join(", ")}; add IgnoreUnknown=1 to allow them`);
  }
  return args;
}

function parsePath(text: string): string[] {
  return text.split(":").filter((entry) => entry !== "");
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function invalidEnvironment(message: string): CniError {
  return new CniError(CniErrorCode.INVALID_ENVIRONMENT, message);
}
