// The binary's side of the agent socket: one request, one reply.
import { connect } from "node:net";
import { CniError, CniErrorCode } from "./errors.ts";
import type { AgentReply, AgentRequest } from "./protocol.ts";
import { MAX_MESSAGE_BYTES } from "./protocol.ts";

export type SendOptions = { socketPath: string; timeoutMs: number };

/** Socket errors that mean "no agent listening yet", so the runtime should retry. */
const AGENT_DOWN_CODES = new Set(["ENOENT", "ECONNREFUSED", "ECONNRESET", "EPIPE", "ENOTSOCK"]);

/**
 * Sends `request` to the agent and returns its reply. An unreachable agent, a connection
 * closed before the reply, or a timeout raise CniError code 11 (try again later), because
 * the kubelet retries on that code.
 */
export function sendToAgent(request: AgentRequest, options: SendOptions): Promise<AgentReply> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: options.socketPath });
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;

    const finish = (error: CniError | undefined, reply?: AgentReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error !== undefined) reject(error);
      else resolve(reply as AgentReply);
    };
    const timer = setTimeout(() => {
      finish(tryAgain(`agent at ${options.socketPath} did not reply within ${options.timeoutMs} ms`));
    }, options.timeoutMs);

    socket.on("connect", () => socket.end(JSON.stringify(request) + "\n"));
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > MAX_MESSAGE_BYTES) {
        finish(new CniError(CniErrorCode.IO_FAILURE, `agent reply exceeds ${MAX_MESSAGE_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    socket.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8").trim();
      if (text === "") {
        finish(tryAgain(`agent at ${options.socketPath} closed the connection without a reply; it may be restarting`));
        return;
      }
      try {
        finish(undefined, JSON.parse(text) as AgentReply);
      } catch (error) {
        finish(new CniError(CniErrorCode.IO_FAILURE, `agent reply is not valid JSON: ${(error as Error).message}`, { cause: error }));
      }
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== undefined && AGENT_DOWN_CODES.has(error.code)) {
        finish(tryAgain(`agent is not running: cannot connect to ${options.socketPath} (${error.code}); start switchyard-agent on this node`, error));
        return;
      }
      finish(new CniError(CniErrorCode.IO_FAILURE, `socket ${options.socketPath} failed: ${error.message}`, { cause: error }));
    });
  });
}

function tryAgain(message: string, cause?: Error): CniError {
  return new CniError(CniErrorCode.TRY_AGAIN_LATER, message, cause === undefined ? undefined : { cause });
}
