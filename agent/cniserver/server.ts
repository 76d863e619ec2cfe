// The agent's CNI server: the unix socket the CNI binary talks to.
import { chmodSync, mkdirSync, unlinkSync } from "node:fs";
import { createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { dirname } from "node:path";
import { validateContainerId, validateInterfaceName } from "../../cni/environment.ts";
import { CniError, CniErrorCode } from "../../cni/errors.ts";
import type { CniErrorBody } from "../../cni/errors.ts";
import { MAX_MESSAGE_BYTES, PROTOCOL_VERSION } from "../../cni/protocol.ts";
import type { AgentReply, AgentRequest } from "../../cni/protocol.ts";
import type { CniResult } from "../../cni/result.ts";
import { IpamError, IpamErrorCode } from "../ipam/allocator.ts";
import { PodInterfaceError } from "../podif/types.ts";
import type { PodAttacher } from "./attacher.ts";
import { KeyedLock } from "./keyed-lock.ts";
import type { Logger } from "./logger.ts";
import type { TraceSink } from "../../openflow/index.ts";
import { resolveCniTraceSink } from "./trace.ts";

/** Network names follow the container ID rule (CNI spec 1.1.0, section 1). */
const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export type CniServerOptions = {
  socketPath: string;
  attacher: PodAttacher;
  logger: Logger;
  /** Whether the agent can serve ADD; STATUS reports it. Default: always ready. */
  isReady?: () => boolean;
  /** Called once per request after its reply is built, for metrics. */
  onRequest?: (event: CniRequestEvent) => void;
  /** Receives the "cni" trace lines. Default: stderr when SWITCHYARD_TRACE enables the cni tracer, else off. */
  trace?: TraceSink;
};

/** One handled request: its command ("unknown" when the request did not parse), result and duration. */
export type CniRequestEvent = {
  command: string;
  /** "success", or the CNI error code as a decimal string. */
  result: string;
  seconds: number;
};

/**
 * Accepts one request per connection. Requests for the same container ID run one after
 * another in arrival order; requests for different containers run concurrently. GC runs
 * each removal under its container's lock.
 */
export class CniServer {
  readonly #options: CniServerOptions;
  readonly #locks = new KeyedLock();
  readonly #server: Server;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #trace: TraceSink | undefined;

  private constructor(options: CniServerOptions) {
    this.#options = options;
    this.#trace = resolveCniTraceSink(options.trace);
    // allowHalfOpen: the binary ends its side after the request and still reads the reply.
    this.#server = createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
  }

  /** Creates the socket (mode 0600, replacing a stale one) and starts accepting. */
  static async listen(options: CniServerOptions): Promise<CniServer> {
    const server = new CniServer(options);
    mkdirSync(dirname(options.socketPath), { recursive: true, mode: 0o700 });
    try {
      unlinkSync(options.socketPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    await new Promise<void>((resolve, reject) => {
      server.#server.once("error", reject);
      // Create the socket with mode 0600 from the start, so no other user can connect in between.
      const previous = process.umask(0o177);
      try {
        server.#server.listen(options.socketPath, () => resolve());
      } finally {
        process.umask(previous);
      }
    });
    chmodSync(options.socketPath, 0o600);
    options.logger.info("CNI server listening", { socket: options.socketPath });
    return server;
  }

  /** Stops accepting, waits for requests in progress, and removes the socket. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await Promise.allSettled([...this.#inFlight]);
  }

  #accept(socket: Socket): void {
    const chunks: Buffer[] = [];
    let size = 0;
    socket.on("error", (error) => this.#options.logger.warn("CNI client connection failed", { error: error.message }));
    socket.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_MESSAGE_BYTES) {
        this.#reply(socket, { ok: false, error: { code: CniErrorCode.IO_FAILURE, msg: `request exceeds ${MAX_MESSAGE_BYTES} bytes` } });
        return;
      }
      chunks.push(chunk);
    });
    socket.on("end", () => {
      // A connection closed without a request is a liveness probe, and its peer reads no reply.
      if (size > MAX_MESSAGE_BYTES || size === 0) {
        socket.end();
        return;
      }
      const text = Buffer.concat(chunks).toString("utf8");
      this.#trace?.(`request ${text.trim()}`);
      const work = this.#handle(text).then((reply) => this.#reply(socket, reply));
      this.#inFlight.add(work);
      void work.finally(() => this.#inFlight.delete(work));
    });
  }

  #reply(socket: Socket, reply: AgentReply): void {
    const text = JSON.stringify(reply);
    this.#trace?.(`reply ${text}`);
    if (!socket.destroyed) socket.end(text + "\n");
  }

  async #handle(text: string): Promise<AgentReply> {
    const started = performance.now();
    const reply = await this.#handleParsed(text, started);
    const command = reply.command;
    const result = reply.reply.ok ? "success" : String(reply.reply.error.code);
    this.#options.onRequest?.({ command, result, seconds: (performance.now() - started) / 1000 });
    return reply.reply;
  }

  async #handleParsed(text: string, started: number): Promise<{ command: string; reply: AgentReply }> {
    let request: AgentRequest;
    try {
      request = parseRequest(text);
    } catch (error) {
      return { command: "unknown", reply: { ok: false, error: errorBody(error) } };
    }
    return { command: request.command, reply: await this.#handleRequest(request, started) };
  }

  async #handleRequest(request: AgentRequest, started: number): Promise<AgentReply> {
    try {
      const result = await this.#dispatch(request);
      this.#options.logger.debug("CNI request done", { command: request.command, container: request.containerId, ms: Math.round(performance.now() - started) });
      return result === undefined ? { ok: true } : { ok: true, result };
    } catch (error) {
      const body = errorBody(error);
      this.#options.logger.error("CNI request failed", { command: request.command, container: request.containerId, ifName: request.ifName, code: body.code, error: body.msg });
      return { ok: false, error: body };
    }
  }

  async #dispatch(request: AgentRequest): Promise<CniResult | undefined> {
    const { attacher } = this.#options;
    if (request.command === "STATUS") {
      if (!(this.#options.isReady?.() ?? true)) throw new CniError(CniErrorCode.PLUGIN_NOT_AVAILABLE, "agent is starting and cannot add pods yet");
      return undefined;
    }
    if (request.command === "GC") {
      await attacher.gc(request.network, request.validAttachments, (containerId, task) => this.#locks.run(containerId, task));
      return undefined;
    }
    if (!(this.#options.isReady?.() ?? true)) throw new CniError(CniErrorCode.TRY_AGAIN_LATER, "agent is starting; retry shortly");
    const target = { ...request, containerId: request.containerId ?? "", ifName: request.ifName ?? "" };
    return this.#locks.run(target.containerId, async () => {
      if (request.command === "ADD") return attacher.add(target);
      if (request.command === "DEL") return void (await attacher.del(target));
      return void (await attacher.check(target));
    });
  }
}

/** Checks the fields the binary validated, because any local root process can write to the socket. */
function parseRequest(text: string): AgentRequest {
  const request = decodeRequest(text);
  if (request.protocol !== PROTOCOL_VERSION) {
    throw new CniError(CniErrorCode.INCOMPATIBLE_VERSION, `request protocol ${String(request.protocol)} differs from the agent's ${PROTOCOL_VERSION}; install the CNI binary that matches the agent`);
  }
  if (!["ADD", "DEL", "CHECK", "STATUS", "GC"].includes(String(request.command))) {
    throw new CniError(CniErrorCode.INVALID_ENVIRONMENT, `unknown command ${JSON.stringify(request.command)}`);
  }
  if (typeof request.network !== "string" || !NETWORK_NAME.test(request.network)) {
    throw new CniError(CniErrorCode.INVALID_CONFIG, `network name ${JSON.stringify(request.network)} is missing or invalid`);
  }
  if (request.command === "ADD" || request.command === "DEL" || request.command === "CHECK") validateAttachmentFields(request);
  if (typeof request.args !== "object" || request.args === null) request.args = {};
  return request as AgentRequest;
}

function decodeRequest(text: string): Partial<AgentRequest> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CniError(CniErrorCode.DECODE_FAILURE, `request is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new CniError(CniErrorCode.DECODE_FAILURE, "request must be a JSON object");
  return value as Partial<AgentRequest>;
}

/** Applies the binary's rules again, because attachment keys and interface names are built from these values. */
function validateAttachmentFields(request: Partial<AgentRequest>): void {
  if (typeof request.containerId !== "string" || typeof request.ifName !== "string") {
    throw new CniError(CniErrorCode.INVALID_ENVIRONMENT, `${String(request.command)} needs containerId and ifName`);
  }
  validateContainerId(request.containerId);
  validateInterfaceName(request.ifName);

  const needsNetns = request.command === "ADD" || request.command === "CHECK";
  if (needsNetns && typeof request.netns !== "string") throw new CniError(CniErrorCode.INVALID_ENVIRONMENT, `${request.command} needs netns`);
  if (request.netns !== undefined && (typeof request.netns !== "string" || !request.netns.startsWith("/"))) {
    throw new CniError(CniErrorCode.INVALID_ENVIRONMENT, `netns ${JSON.stringify(request.netns)} is not an absolute path`);
  }
}

/** Maps an agent error to a CNI error object; the only place where that mapping happens. */
export function errorBody(error: unknown): CniErrorBody {
  if (error instanceof CniError) return error.toBody();
  if (error instanceof IpamError && error.code === IpamErrorCode.EXHAUSTED) return { code: CniErrorCode.ADDRESSES_EXHAUSTED, msg: error.message };
  if (error instanceof PodInterfaceError) return { code: CniErrorCode.AGENT_FAILURE, msg: error.message };
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return { code: CniErrorCode.AGENT_FAILURE, msg: message, ...(typeof code === "string" ? { details: code } : {}) };
}
