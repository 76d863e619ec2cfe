// Echo in both directions over TCP on loopback. ovsdb-server sends an echo request after
// 5 s of silence and drops a client that sends no reply within 5 s more. Staying connected
// through 12.5 s of silence, with our own probe off, shows that the client replies. A
// silent fake server on loopback checks our dead-peer probe.
import assert from "node:assert/strict";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import net from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { OvsdbClient } from "../../../ovsdb/index.ts";
import { startOvsdbServer } from "./fixture.ts";

test("answers server echo after idle", async (t) => {
  const server = await startOvsdbServer({ remotes: ["ptcp:0:127.0.0.1"] });
  t.after(() => server.stop());
  const endpoint = await server.boundTcpEndpoint();
  const lines: string[] = [];
  const client = await OvsdbClient.connect(endpoint, { probeIntervalMs: 0, reconnect: false, trace: (line) => lines.push(line) });
  t.after(() => client.close());
  let disconnected = false;
  client.on("disconnect", () => (disconnected = true));

  await new Promise((resolve) => setTimeout(resolve, 12_500));

  assert.equal(disconnected, false);
  assert.ok(lines.some((line) => line.startsWith("recv") && line.includes('"method":"echo"')), "server sent no echo request");
  assert.ok(lines.some((line) => line.startsWith("send") && line.includes('"id":"echo"')), "client sent no echo reply");
  assert.deepEqual(await client.echo(["still here"]), ["still here"]);
  const log = await readFile(join(server.dir, "ovsdb.log"), "utf8");
  assert.doesNotMatch(log, /no response to inactivity probe/);
});

test("own probe keeps connection up", async (t) => {
  const server = await startOvsdbServer({ remotes: ["ptcp:0:127.0.0.1"] });
  t.after(() => server.stop());
  const lines: string[] = [];
  const client = await OvsdbClient.connect(await server.boundTcpEndpoint(), { probeIntervalMs: 1000, reconnect: false, trace: (line) => lines.push(line) });
  t.after(() => client.close());
  let disconnected = false;
  client.on("disconnect", () => (disconnected = true));

  await new Promise((resolve) => setTimeout(resolve, 3000));

  assert.equal(disconnected, false);
  const probes = lines.filter((line) => line.startsWith("send") && line.includes('"method":"echo"'));
  assert.ok(probes.length >= 2, `expected at least 2 probes in 3 s, saw ${probes.length}`);
  assert.ok(lines.some((line) => line.startsWith("recv") && /"result":\[\],"error":null/.test(line)), "no echo reply from the server");
});

test("dead peer is detected by probe", async (t) => {
  const sockets: net.Socket[] = [];
  const silent = net.createServer((socket) => sockets.push(socket));
  silent.listen(0, "127.0.0.1");
  await once(silent, "listening");
  t.after(() => {
    sockets.forEach((socket) => socket.destroy());
    silent.close();
  });
  const port = (silent.address() as net.AddressInfo).port;
  const client = await OvsdbClient.connect(`tcp:127.0.0.1:${port}`, { probeIntervalMs: 200, reconnect: false });
  t.after(() => client.close());
  const started = Date.now();
  const [error] = (await once(client, "disconnect")) as [Error | undefined];
  const elapsed = Date.now() - started;
  assert.match(String(error?.message), /no reply to echo from the server within 200 ms/);
  assert.ok(elapsed >= 350 && elapsed < 1500, `disconnected after ${elapsed} ms`);
});

test("trace sink sees wire messages", async (t) => {
  const server = await startOvsdbServer();
  t.after(() => server.stop());
  const lines: string[] = [];
  const client = await OvsdbClient.connect(server.endpoint, { reconnect: false, trace: (line) => lines.push(line) });
  t.after(() => client.close());
  await client.listDbs();
  assert.ok(lines.some((line) => line.startsWith(`send ${server.endpoint} {"method":"list_dbs","params":[],"id":1}`)));
  assert.ok(lines.some((line) => line.startsWith(`recv ${server.endpoint} {"id":1,"result":[`)));
});
