// The CNI binary's command dispatch: environment and configuration in, protocol out.
import { sendToAgent } from "./client.ts";
import { decodeConfig, isObject, parseConfig, DEFAULT_LOG_FILE, MAX_CONFIG_BYTES } from "./config.ts";
import type { NetworkConfig } from "./config.ts";
import { parseEnvironment } from "./environment.ts";
import type { CniEnvironment } from "./environment.ts";
import { CniError, CniErrorCode, toCniError } from "./errors.ts";
import { appendLog } from "./log.ts";
import type { AgentCommand, AgentRequest } from "./protocol.ts";
import { PROTOCOL_VERSION } from "./protocol.ts";
import { convertResult } from "./result.ts";
import { isSupportedVersion, LATEST_VERSION, SUPPORTED_VERSIONS, versionAllowsCheck, versionAllowsStatusAndGc } from "./version.ts";
import type { CniVersion } from "./version.ts";

export type Writable = { write(chunk: string): unknown };

export type CniIo = {
  env: Readonly<Record<string, string | undefined>>;
  /** The whole of stdin, or a stream of it. */
  stdin: Buffer | AsyncIterable<Buffer | string>;
  stdout: Writable;
  stderr: Writable;
  /** Time to wait for the agent's reply, in milliseconds. Default 120000. */
  agentTimeoutMs?: number;
};

const DEFAULT_AGENT_TIMEOUT_MS = 120_000;

/**
 * Runs one CNI invocation and returns the process exit code: 0 on success, 1 after
 * writing the specification's error object to stdout. Every error is caught and written
 * as that object, so the promise does not reject unless stdout.write itself throws.
 */
export async function runCni(io: CniIo): Promise<number> {
  const started = performance.now();
  let errorVersion: CniVersion = LATEST_VERSION;
  let logFile = DEFAULT_LOG_FILE;
  let command: string | undefined = io.env.CNI_COMMAND;
  try {
    const stdin = await readAll(io.stdin);
    const raw = tryDecode(stdin);
    if (raw !== undefined && typeof raw.cniVersion === "string" && isSupportedVersion(raw.cniVersion)) errorVersion = raw.cniVersion;
    if (raw !== undefined && typeof raw.logFile === "string" && raw.logFile.startsWith("/")) logFile = raw.logFile;

    const environment = parseEnvironment(io.env);
    command = environment.command;
    if (environment.command === "VERSION") {
      io.stdout.write(JSON.stringify({ cniVersion: LATEST_VERSION, supportedVersions: SUPPORTED_VERSIONS }) + "\n");
      return 0;
    }

    const config = parseConfig(decodeConfig(stdin));
    checkCommandVersion(environment.command, config.cniVersion);
    const output = await callAgent(environment, config, io.agentTimeoutMs ?? DEFAULT_AGENT_TIMEOUT_MS);
    if (output !== undefined) io.stdout.write(output);
    appendLog(logFile, { command, container: environment.containerId, ifName: environment.ifName, outcome: "ok", ms: elapsed(started) });
    return 0;
  } catch (error) {
    const cniError = toCniError(error, CniErrorCode.IO_FAILURE);
    io.stdout.write(JSON.stringify({ cniVersion: errorVersion, ...cniError.toBody() }) + "\n");
    io.stderr.write(`switchyard: ${cniError.message}\n`);
    appendLog(logFile, { command, container: io.env.CNI_CONTAINERID, outcome: "error", code: cniError.code, error: cniError.message, ms: elapsed(started) });
    return 1;
  }
}

/** CHECK needs spec 0.4.0 or later; STATUS and GC need 1.1.0 (error code 1 otherwise). */
function checkCommandVersion(command: string, version: CniVersion): void {
  if (command === "CHECK" && !versionAllowsCheck(version)) {
    throw new CniError(CniErrorCode.INCOMPATIBLE_VERSION, `CHECK is not defined for cniVersion ${version}; it needs 0.4.0 or later`);
  }
  if ((command === "STATUS" || command === "GC") && !versionAllowsStatusAndGc(version)) {
    throw new CniError(CniErrorCode.INCOMPATIBLE_VERSION, `${command} is not defined for cniVersion ${version}; it needs 1.1.0`);
  }
}

/** Sends the request and returns what to print: the converted result for ADD, nothing otherwise. */
async function callAgent(environment: CniEnvironment, config: NetworkConfig, timeoutMs: number): Promise<string | undefined> {
  const request = buildRequest(environment.command as AgentCommand, environment, config);
  let reply;
  try {
    reply = await sendToAgent(request, { socketPath: config.socketPath, timeoutMs });
  } catch (error) {
    // STATUS reports an absent agent as "plugin not available" (spec 1.1.0, STATUS).
    if (request.command === "STATUS" && error instanceof CniError && error.code === CniErrorCode.TRY_AGAIN_LATER) {
      throw new CniError(CniErrorCode.PLUGIN_NOT_AVAILABLE, error.message, { cause: error });
    }
    throw error;
  }
  if (!reply.ok) throw new CniError(reply.error.code, reply.error.msg, reply.error.details === undefined ? undefined : { details: reply.error.details });
  if (request.command !== "ADD") return undefined;
  if (reply.result === undefined) throw new CniError(CniErrorCode.IO_FAILURE, "agent replied to ADD without a result");
  return JSON.stringify(convertResult(reply.result, config.cniVersion)) + "\n";
}

function buildRequest(command: AgentCommand, environment: CniEnvironment, config: NetworkConfig): AgentRequest {
  const request: AgentRequest = { protocol: PROTOCOL_VERSION, command, network: config.name, args: environment.args };
  if (environment.containerId !== undefined) request.containerId = environment.containerId;
  if (environment.netns !== undefined) request.netns = environment.netns;
  if (environment.ifName !== undefined) request.ifName = environment.ifName;
  if (config.mtu !== undefined) request.mtu = config.mtu;
  if (config.dns !== undefined) request.dns = config.dns;
  if (config.prevResult !== undefined) request.prevResult = config.prevResult;
  if (config.validAttachments !== undefined) request.validAttachments = config.validAttachments;
  return request;
}

/** Reads stdin up to one byte past the limit, so decodeConfig can report the size. */
async function readAll(stdin: CniIo["stdin"]): Promise<Buffer> {
  if (Buffer.isBuffer(stdin)) return stdin;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    chunks.push(buffer);
    total += buffer.length;
    if (total > MAX_CONFIG_BYTES) break;
  }
  return Buffer.concat(chunks);
}

function tryDecode(stdin: Buffer): Record<string, unknown> | undefined {
  if (stdin.length === 0 || stdin.length > MAX_CONFIG_BYTES) return undefined;
  try {
    const value: unknown = JSON.parse(stdin.toString("utf8"));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
