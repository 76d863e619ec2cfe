// A byte relay between a TCP and a unix socket, used in pairs to join the API server on the
// root namespace's loopback with the lab's outside namespace. A unix socket is a file, so a
// process in one network namespace can connect to one that a process in another created.
//
//   node NODE relay.ts --listen tcp:HOST:PORT --connect unix:PATH
//   node NODE relay.ts --listen unix:PATH --connect tcp:HOST:PORT
import { createConnection, createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { rmSync } from "node:fs";

/** One end of the relay: a TCP address or a unix socket path. */
export type RelayEndpoint = { kind: "tcp"; host: string; port: number } | { kind: "unix"; path: string };

/** Parses `tcp:HOST:PORT` or `unix:PATH`; raises a TypeError naming the accepted forms. */
export function parseEndpoint(text: string): RelayEndpoint {
  if (text.startsWith("unix:") && text.length > 5) return { kind: "unix", path: text.slice(5) };
  const match = /^tcp:(.+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (match?.[1] === undefined || port > 65535) throw new TypeError(`invalid endpoint ${JSON.stringify(text)}: write tcp:HOST:PORT or unix:PATH`);
  return { kind: "tcp", host: match[1], port };
}

function connect(endpoint: RelayEndpoint): Socket {
  return endpoint.kind === "tcp" ? createConnection({ host: endpoint.host, port: endpoint.port }) : createConnection({ path: endpoint.path });
}

/** Starts relaying every connection accepted on `listen` to a new connection to `target`. */
export async function startRelay(options: { listen: RelayEndpoint; target: RelayEndpoint }): Promise<Server> {
  const server = createServer((client) => {
    const upstream = connect(options.target);
    client.pipe(upstream);
    upstream.pipe(client);
    // Either side failing ends the pair; the HTTP client sees a closed connection and retries.
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  if (options.listen.kind === "unix") rmSync(options.listen.path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    const onListening = (): void => {
      server.off("error", reject);
      resolve();
    };
    if (options.listen.kind === "tcp") server.listen(options.listen.port, options.listen.host, onListening);
    else server.listen(options.listen.path, onListening);
  });
  return server;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const listenText = args[args.indexOf("--listen") + 1];
  const connectText = args[args.indexOf("--connect") + 1];
  if (!args.includes("--listen") || !args.includes("--connect") || listenText === undefined || connectText === undefined) {
    process.stderr.write("usage: relay.ts --listen tcp:HOST:PORT|unix:PATH --connect tcp:HOST:PORT|unix:PATH\n");
    process.exit(2);
  }
  const listen = parseEndpoint(listenText);
  const server = await startRelay({ listen, target: parseEndpoint(connectText) });
  process.stderr.write(`relay listening on ${listenText}, forwarding to ${connectText}\n`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      server.close();
      if (listen.kind === "unix") rmSync(listen.path, { force: true });
      process.exit(0);
    });
  }
}

if (import.meta.main) await main();
