// A stand-in agent socket for unit tests: records every request and replies from a function.
import { createServer } from "node:net";
import type { Server } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CniIo } from "../../../cni/plugin.ts";
import type { AgentReply, AgentRequest } from "../../../cni/protocol.ts";

export type RecordingAgent = { socketPath: string; requests: AgentRequest[]; close(): Promise<void> };

export async function startRecordingAgent(reply: (request: AgentRequest) => AgentReply): Promise<RecordingAgent> {
  const dir = mkdtempSync(join(tmpdir(), "syn-cni-unit-"));
  const socketPath = join(dir, "cni.sock");
  const requests: AgentRequest[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => {
      const request = JSON.parse(Buffer.concat(chunks).toString("utf8")) as AgentRequest;
      requests.push(request);
      socket.end(JSON.stringify(reply(request)) + "\n");
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    requests,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function captureIo(env: Record<string, string>, stdin: string | Buffer): { io: CniIo; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    io: { env, stdin: Buffer.isBuffer(stdin) ? stdin : Buffer.from(stdin), stdout: { write: (chunk: string) => (out += chunk) }, stderr: { write: (chunk: string) => (err += chunk) }, agentTimeoutMs: 5000 },
    out: () => out,
    err: () => err,
  };
}
