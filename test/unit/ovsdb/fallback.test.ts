// Client and replica against a scripted fake server on a unix socket in a temporary
// folder: the fallback from monitor_cond_since to monitor_cond when the server rejects the
// method, echo requests from the server, and messages split across writes.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { OvsdbClient, Replica } from "../../../ovsdb/index.ts";

const SCHEMA = {
  name: "Test",
  version: "1.0.0",
  tables: { T: { columns: { name: { type: "string" }, n: { type: { key: "integer", min: 0, max: 1 } } } } },
};
const ROW_UUID = "36bb7a7a-5ec0-4c5b-9c2f-9c8e2c0e4a01";

type Request = { id: unknown; method: string; params: unknown[] };

/** Starts a fake OVSDB server; `reply` returns the reply object for each request, or undefined for none. */
async function fakeServer(t: { after: (fn: () => Promise<void> | void) => void }, reply: (request: Request, socket: net.Socket) => object | undefined) {
  const dir = await mkdtemp(join(tmpdir(), "syd-fake-"));
  const path = join(dir, "db.sock");
  const received: Request[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    let buffered = "";
    socket.on("data", (chunk) => {
      // A separate, minimal framer (depth outside strings), so the fake does not reuse
      // the scanner under test.
      buffered += chunk.toString();
      for (;;) {
        let depth = 0;
        let end = -1;
        let inString = false;
        for (let i = 0; i < buffered.length; i++) {
          const c = buffered[i];
          if (inString) {
            if (c === "\\") i++;
            else if (c === '"') inString = false;
          } else if (c === '"') inString = true;
          else if (c === "{") depth++;
          else if (c === "}" && --depth === 0) {
            end = i;
            break;
          }
        }
        if (end < 0) return;
        const request = JSON.parse(buffered.slice(0, end + 1)) as Request;
        buffered = buffered.slice(end + 1);
        received.push(request);
        const response = reply(request, socket);
        if (response !== undefined) socket.write(JSON.stringify(response));
      }
    });
  });
  server.listen(path);
  await once(server, "listening");
  t.after(async () => {
    sockets.forEach((socket) => socket.destroy());
    server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { endpoint: `unix:${path}`, received, sockets };
}

test("replica falls back to monitor_cond", async (t) => {
  const fake = await fakeServer(t, (request) => {
    switch (request.method) {
      case "get_schema":
        return { id: request.id, result: SCHEMA, error: null };
      case "monitor_cond_since":
        return { id: request.id, result: null, error: "unknown method" };
      case "monitor_cond":
        return { id: request.id, result: { T: { [ROW_UUID]: { initial: { name: "a" } } } }, error: null };
      default:
        return undefined;
    }
  });
  const client = await OvsdbClient.connect(fake.endpoint, { reconnect: false, probeIntervalMs: 0 });
  t.after(() => client.close());
  const replica = await Replica.start(client, { db: "Test", tables: { T: {} } });
  assert.equal(replica.method, "monitor_cond");
  assert.deepEqual(replica.row("T", ROW_UUID), { _uuid: ROW_UUID, name: "a", n: null });
  assert.deepEqual(fake.received.map((request) => request.method), ["get_schema", "monitor_cond_since", "monitor_cond"]);

  // An update2 split over two writes, with the monitor id the client chose.
  const monitorId = fake.received[2]?.params[1];
  const update = JSON.stringify({ id: null, method: "update2", params: [monitorId, { T: { [ROW_UUID]: { modify: { n: ["set", [5]] } } } }] });
  const changed = once(replica, "change");
  fake.sockets[0]?.write(update.slice(0, 17));
  await new Promise((resolve) => setTimeout(resolve, 20));
  fake.sockets[0]?.write(update.slice(17));
  await changed;
  assert.equal(replica.row("T", ROW_UUID)?.["n"], 5);
});

test("client replies to server echo", async (t) => {
  const fake = await fakeServer(t, () => undefined);
  const client = await OvsdbClient.connect(fake.endpoint, { reconnect: false, probeIntervalMs: 0 });
  t.after(() => client.close());
  await new Promise((resolve) => setTimeout(resolve, 20));
  const socket = fake.sockets[0] as net.Socket;
  const reply = once(socket, "data");
  socket.write('{"method":"echo","id":"echo","params":["x",1]}');
  const [data] = (await reply) as [Buffer];
  assert.deepEqual(JSON.parse(data.toString()), { id: "echo", result: ["x", 1], error: null });

  const unknown = once(socket, "data");
  socket.write('{"method":"frobnicate","id":7,"params":[]}');
  const [error] = (await unknown) as [Buffer];
  assert.deepEqual(JSON.parse(error.toString()), { id: 7, result: null, error: "unknown method" });
});
