// Plain HTTP endpoint serving GET /metrics from the agent's registry.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { errorMessage } from "../common/log/logger.ts";
import type { AgentMetrics } from "./metrics.ts";

/** Starts listening and resolves with the server and its bound port. */
export async function startMetricsServer(metrics: AgentMetrics, options: { bindAddress: string; port: number }): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    if (request.url !== "/metrics" || request.method !== "GET") {
      response.writeHead(404, { "Content-Type": "text/plain" });
      response.end("only GET /metrics is served here\n");
      return;
    }
    metrics.render().then(
      (text) => {
        response.writeHead(200, { "Content-Type": metrics.registry.contentType });
        response.end(text);
      },
      (error: unknown) => {
        response.writeHead(500, { "Content-Type": "text/plain" });
        response.end(`failed to render metrics: ${errorMessage(error)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.bindAddress, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/** Closes the server and its open connections. */
export async function stopMetricsServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
