// Replica against a real ovsdb-server: initial sync, change events, resync after the
// server restarts (rows written and deleted meanwhile), resume with monitor_cond_since,
// and the older monitor methods. Expected values come from ovs-vsctl.
import assert from "node:assert/strict";
import { once } from "node:events";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { test } from "node:test";
import { ConnectionClosedError, OvsdbClient, Replica, wireMap } from "../../../ovsdb/index.ts";
import type { MonitorMethod, RowChange } from "../../../ovsdb/index.ts";
import { startOvsdbServer } from "./fixture.ts";
import type { OvsdbServer } from "./fixture.ts";

const DB = "Open_vSwitch";
const TABLES = { Bridge: { columns: ["name", "external_ids", "ports", "datapath_type"] }, Port: {} };

type Context = { after: (fn: () => Promise<void> | void) => void };

async function setup(t: Context, options: { clustered?: boolean; method?: MonitorMethod } = {}) {
  const server = await startOvsdbServer(options.clustered === true ? { clustered: true } : {});
  t.after(() => server.stop());
  const client = await OvsdbClient.connect(server.endpoint, { backoff: { initialMs: 1000, maxMs: 1000 } });
  t.after(() => client.close());
  const replica = await Replica.start(client, { db: DB, tables: TABLES, ...(options.method === undefined ? {} : { method: options.method }) });
  const changes: RowChange[] = [];
  replica.on("change", (change) => changes.push(change));
  return { server, client, replica, changes };
}

function bridgeNames(replica: Replica): string[] {
  return [...replica.rows("Bridge").values()].map((row) => row["name"] as string).sort();
}

async function vsctlBridges(server: OvsdbServer): Promise<string[]> {
  return (await server.vsctl("list-br")).split("\n").filter((name) => name !== "").sort();
}

/** Waits until `condition` holds, checking after each replica change. */
async function until(replica: Replica, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Promise.race([once(replica, "change"), new Promise((resolve) => setTimeout(resolve, 100))]);
  }
}

test("initial sync and change events", async (t) => {
  const server = await startOvsdbServer();
  t.after(() => server.stop());
  await server.vsctl("add-br", "sydr0");
  const client = await OvsdbClient.connect(server.endpoint);
  t.after(() => client.close());
  const replica = await Replica.start(client, { db: DB, tables: TABLES });
  assert.deepEqual(bridgeNames(replica), await vsctlBridges(server));
  assert.equal(replica.method, "monitor_cond_since");

  const changes: RowChange[] = [];
  replica.on("change", (change) => changes.push(change));
  await server.vsctl("set", "Bridge", "sydr0", "external_ids:pod=web-1");
  await until(replica, () => changes.length >= 1);
  const modify = changes[0];
  assert.equal(modify?.kind, "modify");
  assert.ok(modify?.kind === "modify");
  assert.deepEqual(modify.old["external_ids"], new Map());
  assert.deepEqual(modify.new["external_ids"], new Map([["pod", "web-1"]]));
  assert.equal(modify.uuid, (await server.vsctl("get", "Bridge", "sydr0", "_uuid")).trim());

  await server.vsctl("del-br", "sydr0");
  await until(replica, () => changes.some((c) => c.kind === "delete" && c.table === "Bridge"));
  assert.deepEqual(bridgeNames(replica), []);
  assert.equal(replica.rows("Port").size, 0);
});

test("own transaction is cached before its reply", async (t) => {
  const { server, client, replica } = await setup(t);
  const [insert] = await client.transact(DB, [
    { op: "insert", table: "Bridge", row: { name: "sydr1" }, "uuid-name": "b" },
    { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["bridges", "insert", ["named-uuid", "b"]]] },
  ]);
  const uuid = insert?.uuid?.[1] as string;
  assert.equal(replica.row("Bridge", uuid)?.["name"], "sydr1");
  assert.equal((await server.vsctl("get", "Bridge", "sydr1", "_uuid")).trim(), uuid);
});

test("resync after server restart", async (t) => {
  const { server, client, replica, changes } = await setup(t);
  await server.vsctl("add-br", "sydkeep", "--", "add-br", "sydgone");
  await until(replica, () => bridgeNames(replica).length === 2);
  changes.length = 0;

  // A wait that cannot succeed for 10 s keeps a call pending while the server dies.
  const pending = client
    .transact(DB, [{ op: "wait", table: "Bridge", where: [], columns: ["name"], until: "==", rows: [], timeout: 10_000 }])
    .catch((error: unknown) => error);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await server.kill();
  const error = await pending;
  assert.ok(error instanceof ConnectionClosedError, `expected ConnectionClosedError, got ${String(error)}`);

  // Delete while the server is down, straight in the database file.
  const goneUuid = replica.find("Bridge", (row) => row["name"] === "sydgone")[0]?._uuid as string;
  const portUuids = replica.find("Bridge", (row) => row["name"] === "sydgone")[0]?.["ports"] as string[];
  await promisify(execFile)("ovsdb-tool", [
    "transact",
    server.dbPath,
    JSON.stringify([
      DB,
      { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["bridges", "delete", ["uuid", goneUuid]]] },
      { op: "delete", table: "Bridge", where: [["_uuid", "==", ["uuid", goneUuid]]] },
    ]),
  ]);
  await server.start();
  // Write through ovs-vsctl before the client's 1 s backoff ends.
  assert.equal(client.connected, false);
  await server.vsctl("add-br", "sydnew");
  await once(replica, "synced");

  assert.deepEqual(bridgeNames(replica), await vsctlBridges(server));
  const summary = changes.map((c) => `${c.kind} ${c.table} ${c.kind === "delete" ? c.old["name"] : c.new["name"]}`).sort();
  assert.deepEqual(summary, [
    "delete Bridge sydgone",
    ...portUuids.map(() => "delete Port sydgone"),
    "insert Bridge sydnew",
    "insert Port sydnew",
  ].sort());
});

test("resume with monitor_cond_since", async (t) => {
  const { server, client, replica, changes } = await setup(t, { clustered: true });
  // ovsdb-server 3.1 keeps transaction history only for clustered databases. It trims the
  // history until it contains no more atoms than the database itself, so a tiny database
  // keeps only the newest transaction. A big map makes room for the history this test needs.
  const bulk = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, `v${i}`]));
  await client.transact(DB, [
    { op: "insert", table: "Bridge", row: { name: "sydbulk", other_config: wireMap(bulk) }, "uuid-name": "b" },
    { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["bridges", "insert", ["named-uuid", "b"]]] },
  ]);
  await server.vsctl("add-br", "sydc0");
  await until(replica, () => bridgeNames(replica).length === 2);
  assert.notEqual(replica.lastTxnId, null);
  changes.length = 0;

  const disconnected = once(client, "disconnect");
  client.dropConnection();
  await disconnected;
  await server.vsctl("set", "Bridge", "sydc0", "external_ids:k=v");
  const [method, resumed] = await once(replica, "synced");
  assert.equal(method, "monitor_cond_since");
  assert.equal(resumed, true);
  assert.equal(changes.length, 1);
  const change = changes[0];
  assert.ok(change?.kind === "modify");
  assert.deepEqual(change.new["external_ids"], new Map([["k", "v"]]));
  assert.equal((await server.vsctl("get", "Bridge", "sydc0", "external_ids:k")).trim(), "v");
});

for (const method of ["monitor_cond", "monitor"] as const) {
  test(`replica over ${method}`, async (t) => {
    const { server, client, replica, changes } = await setup(t, { method });
    assert.equal(replica.method, method);
    await server.vsctl("add-br", "sydm0", "--", "set", "Bridge", "sydm0", "external_ids:a=1");
    await until(replica, () => bridgeNames(replica).length === 1);
    await server.vsctl("remove", "Bridge", "sydm0", "external_ids", "a", "--", "set", "Bridge", "sydm0", "external_ids:b=2");
    await until(replica, () => changes.some((c) => c.kind === "modify"));
    const row = replica.find("Bridge", (r) => r["name"] === "sydm0")[0];
    assert.deepEqual(row?.["external_ids"], new Map([["b", "2"]]));

    const synced = once(replica, "synced");
    client.dropConnection();
    await server.vsctl("del-br", "sydm0");
    await synced;
    assert.deepEqual(bridgeNames(replica), []);
  });
}

test("drop during transactions, no ghosts", async (t) => {
  const { server, client, replica } = await setup(t);
  await server.vsctl("add-br", "sydd0");
  await until(replica, () => bridgeNames(replica).length === 1);

  // The writes reach the socket, then the connection drops before any reply: whether the
  // server committed each one is unknown to the client, and the resync must settle it.
  const pending = Array.from({ length: 20 }, (_, i) =>
    client
      .transact(DB, [
        { op: "insert", table: "Bridge", row: { name: `sydd${i + 1}` }, "uuid-name": "b" },
        { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["bridges", "insert", ["named-uuid", "b"]]] },
      ])
      .catch((error: unknown) => error),
  );
  const synced = once(replica, "synced");
  client.dropConnection();
  const outcomes = await Promise.all(pending);
  assert.ok(outcomes.every((outcome) => outcome instanceof ConnectionClosedError));
  await server.vsctl("del-br", "sydd0");
  await synced;

  assert.deepEqual(bridgeNames(replica), await vsctlBridges(server));
  assert.ok(!bridgeNames(replica).includes("sydd0"));
});
