/**
 * Command-line entry of bin/switchyard-apiserver: runs the local API
 * server until SIGTERM or SIGINT.
 */

import { readFile } from "node:fs/promises";
import { Command, InvalidArgumentError } from "commander";
import winston from "winston";
import type { CustomResourceSpec } from "./index.ts";
import { startApiServer } from "./index.ts";

function integer(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) {
      throw new InvalidArgumentError(`${name} must be a non-negative integer, got "${value}"`);
    }
    return Number(value);
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
  logLevel: string;
}

async function readCustomResources(path: string | undefined): Promise<CustomResourceSpec[]> {
  if (path === undefined) return [];
  const parsed = JSON.parse(await readFile(path, "utf8")) as unknown;
  if (!Array.isArray(parsed)) {
    throw new Error(`custom resource file ${path} must hold a JSON array of {group, version, kind, plural, singular, namespaced, shortNames}`);
  }
  return parsed as CustomResourceSpec[];
}

async function main(): Promise<void> {
  const program = new Command()
    .name("switchyard-apiserver")
    .description("Local stand-in for kube-apiserver over plain HTTP, for development, tests and demos")
    .option("--host <address>", "listen address (keep it on loopback: there is no authentication)", "127.0.0.1")
    .option("--port <n>", "TCP port; 0 picks a free one", integer("--port"), 6443)
    .option("--state-file <path>", "JSON file that keeps objects and the resourceVersion counter across restarts")
    .option("--kubeconfig <path>", "write a kubeconfig for this server to this path once it listens")
    .option("--namespace <name>", "default namespace of the written kubeconfig", "default")
    .option("--custom-resources <path>", "JSON array of custom resources to serve: {group, version, kind, plural, singular, namespaced, shortNames, statusSubresource}")
    .option("--bookmark-interval <ms>", "interval between watch BOOKMARK events, in milliseconds", integer("--bookmark-interval"), 5000)
    .option("--history-size <n>", "number of changes kept for watch replay; older resourceVersions get 410", integer("--history-size"), 1000)
    .option("--log-level <level>", "error, warn, info or debug (debug logs every request)", "info")
    .parse();
  const options = program.opts<CliOptions>();

  const log = winston.createLogger({
    level: options.logLevel,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ["error", "warn", "info", "debug"] })],
  });

  const server = await startApiServer({
    host: options.host,
    port: options.port,
    stateFile: options.stateFile,
    customResources: await readCustomResources(options.customResources),
    bookmarkIntervalMs: options.bookmarkInterval,
    historySize: options.historySize,
    log,
  });
  if (options.kubeconfig !== undefined) {
    await server.writeKubeconfig(options.kubeconfig, { namespace: options.namespace });
    log.info("kubeconfig written", { path: options.kubeconfig });
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
