/**
 * Command-line entry of bin/switchyard-apiserver: runs the local API
 * server until SIGTERM or SIGINT.
 */

import { stat, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import winston from "winston";
import type { CustomResourceSpec } from "./index.ts";
import { startApiServer } from "./index.ts";

const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;

/** Builds a commander parser for a non-negative integer option no larger than `max`. */
function integer(name: string, options: { max?: number } = {}) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) {
      throw new InvalidArgumentError(`${name} must be a non-negative integer, got "${value}"`);
    }
    const parsed = Number(value);
    if (options.max !== undefined && parsed > options.max) {
      throw new InvalidArgumentError(`${name} must be from 0 to ${options.max}, got ${value}`);
    }
    return parsed;
  };
}

interface CliOptions {
  host: string;
  port: number;
  stateFile?: string;
  kubeconfig?: string;
  namespace?: string;
  customResources?: string;
  bookmarkInterval: number;
  historySize: number;
  logLevel: (typeof LOG_LEVELS)[number];
}

const SPEC_FORMAT = "{group, version, kind, plural, singular, namespaced, shortNames, categories, statusSubresource}";
const REQUIRED_STRINGS = ["group", "version", "kind", "plural", "singular"] as const;
const OPTIONAL_STRING_LISTS = ["shortNames", "categories"] as const;

/** Reads and checks the --custom-resources file; an error names the file, the entry's index and the field. */
async function readCustomResources(path: string | undefined): Promise<CustomResourceSpec[]> {
  if (path === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8")) as unknown;
  } catch (error) {
    throw new Error(`--custom-resources ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!Array.isArray(parsed)) {
    throw new Error(`--custom-resources ${path} must contain a JSON array of ${SPEC_FORMAT}`);
  }
  return parsed.map((entry: unknown, index) => {
    const problem = customResourceProblem(entry);
    if (problem !== undefined) throw new Error(`--custom-resources ${path}: entry ${index}: ${problem}`);
    return entry as CustomResourceSpec;
  });
}

/** Returns what is wrong with one custom resource entry, or undefined when it is valid. */
function customResourceProblem(entry: unknown): string | undefined {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return `expected an object ${SPEC_FORMAT}`;
  const fields = entry as Record<string, unknown>;
  for (const field of REQUIRED_STRINGS) {
    const value = fields[field];
    if (value === undefined) return `missing field "${field}"`;
    // The core group is "", but a custom resource needs a named group.
    if (typeof value !== "string" || value === "") return `field "${field}" must be a non-empty string, got ${JSON.stringify(value)}`;
  }
  if (fields.namespaced === undefined) return 'missing field "namespaced"';
  if (typeof fields.namespaced !== "boolean") return `field "namespaced" must be true or false, got ${JSON.stringify(fields.namespaced)}`;
  for (const field of OPTIONAL_STRING_LISTS) {
    const value = fields[field];
    if (value !== undefined && !(Array.isArray(value) && value.every((item) => typeof item === "string" && item !== ""))) {
      return `field "${field}" must be an array of non-empty strings, got ${JSON.stringify(value)}`;
    }
  }
  if (fields.statusSubresource !== undefined && typeof fields.statusSubresource !== "boolean") {
    return `field "statusSubresource" must be true or false, got ${JSON.stringify(fields.statusSubresource)}`;
  }
  return undefined;
}

/** Checks that the --kubeconfig file can be created, before the server listens. */
async function checkKubeconfigFolder(path: string | undefined): Promise<void> {
  if (path === undefined) return;
  const folder = dirname(path);
  const info = await stat(folder).catch((error: unknown) => {
    throw new Error(`--kubeconfig ${path}: folder ${folder} does not exist; create it first`, { cause: error });
  });
  if (!info.isDirectory()) throw new Error(`--kubeconfig ${path}: ${folder} is not a directory`);
}

async function main(): Promise<void> {
  const program = new Command()
    .name("switchyard-apiserver")
    .description("Local stand-in for kube-apiserver over plain HTTP, for development, tests and demos")
    .option("--host <address>", "listen address (keep it on loopback: there is no authentication)", "127.0.0.1")
    .option("--port <n>", "TCP port from 0 to 65535; 0 picks a free one", integer("--port", { max: 65535 }), 6443)
    .option("--state-file <path>", "JSON file that keeps objects and the resourceVersion counter across restarts")
    .option("--kubeconfig <path>", "write a kubeconfig for this server to this path once it listens")
    .option("--namespace <name>", "default namespace of the written kubeconfig", "default")
    .option("--custom-resources <path>", `JSON array of custom resources to serve: ${SPEC_FORMAT}; group to namespaced are required`)
    .option("--bookmark-interval <ms>", "interval between watch BOOKMARK events, in milliseconds", integer("--bookmark-interval"), 5000)
    .option("--history-size <n>", "number of changes kept for watch replay; older resourceVersions get 410", integer("--history-size"), 1000)
    .addOption(new Option("--log-level <level>", "lowest level logged; debug logs every request").choices([...LOG_LEVELS]).default("info"))
    .parse();
  const options = program.opts<CliOptions>();

  const log = winston.createLogger({
    level: options.logLevel,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ["error", "warn", "info", "debug"] })],
  });

  const customResources = await readCustomResources(options.customResources);
  await checkKubeconfigFolder(options.kubeconfig);
  const server = await startApiServer({
    host: options.host,
    port: options.port,
    stateFile: options.stateFile,
    customResources,
    bookmarkIntervalMs: options.bookmarkInterval,
    historySize: options.historySize,
    log,
  });
  if (options.kubeconfig !== undefined) {
    const path = options.kubeconfig;
    try {
      await server.writeKubeconfig(path, { namespace: options.namespace });
    } catch (error) {
      await server.close();
      throw new Error(`--kubeconfig ${path}: cannot write: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    log.info("kubeconfig written", { path });
  }

  const stop = (signal: string): void => {
    log.info("stopping", { signal });
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error("stop failed", { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  console.error(`switchyard-apiserver: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
