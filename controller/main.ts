// Command line of bin/switchyard-controller.
import { Command, InvalidArgumentError, Option } from "commander";
import { CertificateError, ensureServerCredentials, issueClientCertificate } from "./certs/openssl.ts";
import { loadConfigFile } from "./config/load.ts";
import { ConfigError } from "./config/validate.ts";
import type { KubeConfig } from "@kubernetes/client-node";
import { loadKubeConfig } from "../common/kube/kubeconfig.ts";
import { ControllerDaemon } from "./daemon.ts";
import { LOG_LEVELS, createLogger, errorMessage, type LogFormat, type LogLevel } from "../common/log/logger.ts";

interface RunOptions {
  config?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

interface IssueOptions {
  config: string;
  node?: string;
  operator?: string;
  out: string;
  days: number;
}

/** Builds the program; `main` parses process.argv with it. */
export function buildProgram(): Command {
  const program = new Command("switchyard-controller")
    .description("Switchyard controller: node IPAM and NetworkPolicy distribution to agents")
    .option("-c, --config <file>", "controller configuration file (YAML or JSON); required to run the daemon")
    .addOption(new Option("--log-level <level>", "lowest level written to stderr").choices([...LOG_LEVELS]).default("info"))
    .addOption(new Option("--log-format <format>", "log line format").choices(["json", "text"]).default("json"))
    .showHelpAfterError()
    .enablePositionalOptions()
    .action(async (options: RunOptions) => {
      if (options.config === undefined) return program.error("error: required option '-c, --config <file>' not specified");
      await runDaemon({ ...options, config: options.config });
    });

  program
    .command("issue-cert")
    .description("issue a client certificate signed by the controller CA in tls.dir, creating the CA first if absent")
    .requiredOption("-c, --config <file>", "controller configuration file naming tls.dir")
    .option("--node <name>", "node name: the certificate lets that node's agent watch its slice")
    .option("--operator <name>", "operator name: the certificate may read GET /v1/status of every node")
    .requiredOption("--out <dir>", "folder to write client.crt, client.key and ca.crt into")
    .option("--days <n>", "validity in days (default: tls.certValidityDays)", parseDays)
    .action(async (options: IssueOptions) => issueCert(options));
  return program;
}

async function runDaemon(options: RunOptions & { config: string }): Promise<void> {
  const logger = createLogger({ level: options.logLevel, format: options.logFormat });
  let daemon: ControllerDaemon | undefined;
  // Installed before start-up, so a signal during a slow start (an unreachable API server)
  // ends the process at once instead of waiting for the start to finish.
  const shutdown = (signal: string): void => {
    logger.info("stopping on signal", { signal });
    if (daemon === undefined) process.exit(0);
    daemon.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error("controller failed to stop cleanly", { error: errorMessage(error) });
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));

  let config;
  let kubeConfig;
  try {
    config = await loadConfigFile(options.config);
    kubeConfig = loadKubeConfigField(config.kubeconfig, options.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  try {
    daemon = await ControllerDaemon.start({ config, logger, kubeConfig });
  } catch (error) {
    // start() has stopped everything it started; exit rather than wait for stray handles.
    logger.error("controller failed to start", { error: errorMessage(error) });
    process.exit(1);
  }
}

/** Loads the file named by the `kubeconfig` field; a failure is a ConfigError naming that field. */
function loadKubeConfigField(path: string, source: string): KubeConfig {
  try {
    return loadKubeConfig(path);
  } catch (error) {
    const target = path === "" ? "the in-cluster service account (empty path)" : path;
    throw new ConfigError(source, [{ field: "kubeconfig", message: `cannot load ${target}: ${errorMessage(error)}` }], { cause: error });
  }
}

async function issueCert(options: IssueOptions): Promise<void> {
  if ((options.node === undefined) === (options.operator === undefined)) {
    process.stderr.write("issue-cert: give exactly one of --node NAME or --operator NAME\n");
    process.exitCode = 2;
    return;
  }
  try {
    const config = await loadConfigFile(options.config);
    const role = options.node !== undefined ? "node" : "operator";
    const name = options.node ?? options.operator ?? "";
    await ensureServerCredentials(config.tls);
    await issueClientCertificate({ caDir: config.tls.dir, outDir: options.out, role, name, validityDays: options.days ?? config.tls.certValidityDays });
    process.stdout.write(`wrote ${options.out}/client.crt, client.key and ca.crt for ${role} ${name}\n`);
  } catch (error) {
    process.stderr.write(`issue-cert: ${issueErrorMessage(error, options)}\n`);
    process.exitCode = 1;
  }
}

/** Returns the message for a failed issue-cert; a file-system error names the path and the option. */
function issueErrorMessage(error: unknown, options: IssueOptions): string {
  if (error instanceof ConfigError || error instanceof CertificateError) return error.message;
  if (!isErrnoError(error)) throw error;
  const path = error.path ?? "";
  const reason = ERRNO_REASONS[error.code ?? ""] ?? error.message;
  if (path !== "" && (path === options.out || options.out.startsWith(`${path}/`) || path.startsWith(`${options.out}/`))) {
    const where = path === options.out ? "" : ` (at ${path})`;
    return `cannot create --out folder ${options.out}: ${reason}${where}`;
  }
  return `cannot write ${path === "" ? "a file" : path}: ${reason}`;
}

const ERRNO_REASONS: Readonly<Record<string, string>> = {
  ENOTDIR: "not a directory",
  EEXIST: "a file with that name exists",
  EACCES: "permission denied",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  ENOENT: "no such file or directory",
};

function isErrnoError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string" && typeof (error as NodeJS.ErrnoException).syscall === "string";
}

function parseDays(text: string): number {
  const days = Number(text);
  if (!Number.isInteger(days) || days < 1 || days > 36500) throw new InvalidArgumentError("expected an integer from 1 to 36500");
  return days;
}

await buildProgram().parseAsync(process.argv);
