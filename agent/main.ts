// Command line of bin/switchyard-agent.
import { Command, Option } from "commander";
import { LOG_LEVELS, createLogger, errorMessage, type LogFormat, type LogLevel } from "../common/log/logger.ts";
import { loadAgentConfigFile } from "./config/load.ts";
import { AgentConfigError } from "./config/validate.ts";
import { AgentDaemon } from "./daemon.ts";
import { DEFAULT_AGENT_CONFIG } from "./config/types.ts";
import { describeCookie } from "./pipeline/cookie.ts";
import { describeOwner, policyIdMapPath, readPolicyIdMap } from "./policy/id-map.ts";

interface RunOptions {
  config?: string;
  decodeCookie?: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  checkConfig?: boolean;
}

/** Builds the program; the module's last line parses process.argv with it. */
export function buildProgram(): Command {
  return new Command("switchyard-agent")
    .description("Switchyard node agent: Open vSwitch bridge, OpenFlow pipeline, node-to-node forwarding, CNI server and NetworkPolicy")
    .option("-c, --config <file>", "agent configuration file (YAML or JSON); required to run the agent")
    .option("--check-config", "validate the configuration file, print the complete configuration as JSON and exit")
    .option("--decode-cookie <cookie>", "print the round, category and owner of a flow cookie from dump-flows (hex, e.g. 0x3020000000005) and exit; with --config, policy ids are named from that agent's id map")
    .addOption(new Option("--log-level <level>", "lowest level written to stderr").choices([...LOG_LEVELS]).default("info"))
    .addOption(new Option("--log-format <format>", "log line format").choices(["json", "text"]).default("json"))
    .addHelpText("after", "\nEnvironment:\n  NODE_NAME         node name when the file leaves nodeName empty\n  SWITCHYARD_TRACE  comma-separated tracers: openflow, ovsdb, cni (or all)")
    .showHelpAfterError()
    .action(async (options: RunOptions) => run(options));
}

async function run(options: RunOptions): Promise<void> {
  if (options.decodeCookie !== undefined) {
    await printCookie(options.decodeCookie, options.config);
    return;
  }
  if (options.config === undefined) {
    process.stderr.write("error: required option '-c, --config <file>' not specified\n");
    process.exitCode = 2;
    return;
  }
  let config;
  try {
    config = await loadAgentConfigFile(options.config);
  } catch (error) {
    if (!(error instanceof AgentConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (options.checkConfig === true) {
    process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
    return;
  }
  const logger = createLogger({ level: options.logLevel, format: options.logFormat });
  let daemon: AgentDaemon;
  try {
    daemon = await AgentDaemon.start({ config, logger });
  } catch (error) {
    logger.error("agent failed to start", { error: errorMessage(error) });
    process.exitCode = 1;
    return;
  }
  const shutdown = (signal: string): void => {
    logger.info("stopping on signal", { signal });
    daemon.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error("agent failed to stop cleanly", { error: errorMessage(error) });
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

/**
 * Prints what a flow cookie names. A policy id is named after its rule or pod from the id map
 * the running agent writes next to its policy cache (the configuration's, or the default one).
 */
async function printCookie(text: string, configFile: string | undefined): Promise<void> {
  if (!/^(0x)?[0-9a-fA-F]{1,16}$/.test(text)) {
    process.stderr.write(`invalid cookie ${JSON.stringify(text)}: expected up to 16 hex digits, such as 0x3020000000005\n`);
    process.exitCode = 2;
    return;
  }
  let idMap;
  try {
    const cacheFile = configFile === undefined ? DEFAULT_AGENT_CONFIG.controller.cacheFile : (await loadAgentConfigFile(configFile)).controller.cacheFile;
    idMap = readPolicyIdMap(policyIdMapPath(cacheFile));
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n`);
    process.exitCode = 2;
    return;
  }
  const policies = new Map(Object.entries(idMap?.ids ?? {}).map(([id, owner]) => [Number(id), describeOwner(owner)]));
  process.stdout.write(`${describeCookie(BigInt(text.startsWith("0x") ? text : `0x${text}`), { policies })}\n`);
}

await buildProgram().parseAsync(process.argv);
