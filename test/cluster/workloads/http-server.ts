// Workload switchyard/http-server: an HTTP/1.1 server on one port that replies to each
// configured route (method and path, query string ignored) with its status and body.
// With no routes, every GET and HEAD gets 200 and the pod's name. Anything else gets 404.
// Usage: http-server.ts --pod NS/NAME --pod-uid UID [--port 80] [--route "METHOD PATH STATUS [BODY]"]...
import { createServer } from "node:http";
import { parseArgs } from "node:util";

import { parseRoute } from "./routes.ts";

const { values } = parseArgs({
  options: {
    pod: { type: "string", default: "" },
    "pod-uid": { type: "string", default: "" },
    port: { type: "string", default: "80" },
    route: { type: "string", multiple: true, default: [] },
  },
  strict: true,
});
const routes = values.route.map(parseRoute);
const port = Number(values.port);

const server = createServer((request, response) => {
  const method = request.method ?? "GET";
  const path = (request.url ?? "/").split("?")[0] ?? "/";
  const route = routes.find((candidate) => candidate.method === method && candidate.path === path);
  let status: number;
  let body: string;
  if (route !== undefined) {
    ({ status, body } = route);
  } else if (routes.length === 0 && (method === "GET" || method === "HEAD")) {
    status = 200;
    body = values.pod;
  } else {
    status = 404;
    body = `no route for ${method} ${path}`;
  }
  // Drain the request body so keep-alive connections stay usable.
  request.resume();
  request.on("end", () => {
    response.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
    response.end(method === "HEAD" ? undefined : body);
    console.log(`${new Date().toISOString()} ${request.socket.remoteAddress ?? "?"} ${method} ${path} ${status}`);
  });
});

server.listen(port, "0.0.0.0", () => {
  console.log(`http-server of pod ${values.pod} listening on port ${port} with ${routes.length} route(s)`);
});
process.on("SIGTERM", () => {
  server.close();
  process.exit(0);
});
