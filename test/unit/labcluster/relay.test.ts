// The TCP/unix relay that joins the API server with the lab's outside namespace: endpoint
// parsing, and bytes carried both ways through a relay pair over loopback.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import type { AddressInfo, Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";

import { parseEndpoint, startRelay } from "../../labcluster/relay.ts";

describe("parseEndpoint", () => {
  test("tcp endpoint", () => {
    assert.deepEqual(parseEndpoint("tcp:0.0.0.0:6443"), { kind: "tcp", host: "0.0.0.0", port: 6443 });
  });

  test("unix endpoint", () => {
    assert.deepEqual(parseEndpoint("unix:/run/x/api.sock"), { kind: "unix", path: "/run/x/api.sock" });
  });

  for (const text of ["tcp:1.2.3.4", "tcp:1.2.3.4:70000", "udp:1.2.3.4:53", "unix:"]) {
    test(`rejects ${text}`, () => {
      assert.throws(() => parseEndpoint(text), /write tcp:HOST:PORT or unix:PATH/);
    });
  }
});

describe("relay pair", () => {
  const dir = mkdtempSync(join(tmpdir(), "syk-relay-"));
  const servers: Server[] = [];
  after(() => {
    for (const server of servers) server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("carries bytes both ways", async () => {
    const echo = createServer((socket) => socket.pipe(socket));
    servers.push(echo);
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    const echoPort = (echo.address() as AddressInfo).port;
    const socketPath = join(dir, "api.sock");
    servers.push(await startRelay({ listen: { kind: "unix", path: socketPath }, target: { kind: "tcp", host: "127.0.0.1", port: echoPort } }));
    const front = await startRelay({ listen: { kind: "tcp", host: "127.0.0.1", port: 0 }, target: { kind: "unix", path: socketPath } });
    servers.push(front);

    const client = createConnection({ host: "127.0.0.1", port: (front.address() as AddressInfo).port });
    const received = new Promise<string>((resolve) => client.once("data", (data) => resolve(data.toString("utf8"))));
    client.write("GET /version");
    assert.equal(await received, "GET /version");
    client.destroy();
  });
});
