// Standalone CNI server: `switchyard-cni-server --config FILE`. The full agent embeds
// startCniAgent instead; this entry serves tests, benchmarks and nodes without the agent.
import { Command } from "commander";
import winston from "winston";
import { loadCniServerConfig } from "./config.ts";
import { startCniAgent } from "./agent.ts";

const program = new Command()
  .name("switchyard-cni-server")
  .description("Serve the Switchyard CNI binary's requests on a unix socket")
  .requiredOption("--config <file>", "JSON configuration file (see agent/cniserver/config.ts)")
  .parse();

const config = loadCniServerConfig(program.opts<{ config: string }>().config);
const logger = winston.createLogger({
  level: config.logLevel,
  format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
  transports: [config.logFile === "" ? new winston.transports.Console({ stderrLevels: ["error", "warn", "info", "debug"] }) : new winston.transports.File({ filename: config.logFile })],
});

const agent = await startCniAgent(config, logger);
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    logger.info("stopping CNI server", { signal });
    void agent.close().then(() => process.exit(0));
  });
}
