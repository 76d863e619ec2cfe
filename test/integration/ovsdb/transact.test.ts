// Every transact operation and error path against a real ovsdb-server. Expected values
// come from ovs-vsctl/ovsdb-client output or from the error names of RFC 7047.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ConnectionClosedError,
  OvsdbClient,
  RpcError,
  TimeoutError,
  TransactionError,
  namedUuid,
  uuid,
  wireMap,
  wireSet,
} from "../../../ovsdb/index.ts";
import type { Condition, Operation } from "../../../ovsdb/index.ts";
import { readFile } from "node:fs/promises";
import { VSWITCH_SCHEMA, startOvsdbServer } from "./fixture.ts";
import type { OvsdbServer } from "./fixture.ts";

const DB = "Open_vSwitch";

async function setup(t: { after: (fn: () => Promise<void> | void) => void }): Promise<{ server: OvsdbServer; client: OvsdbClient }> {
  const server = await startOvsdbServer();
  t.after(() => server.stop());
  const client = await OvsdbClient.connect(server.endpoint, { reconnect: false });
  t.after(() => client.close());
  return { server, client };
}

function insertBridge(name: string, extra: Record<string, unknown> = {}): Operation[] {
  return [
    { op: "insert", table: "Bridge", row: { name, datapath_type: "netdev", ...extra }, "uuid-name": "br" },
    { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["bridges", "insert", wireSet([namedUuid("br")])]] },
  ];
}

test("list_dbs and get_schema", async (t) => {
  const { client } = await setup(t);
  const dbs = await client.listDbs();
  assert.ok(dbs.includes(DB));
  const schema = await client.getSchema(DB);
  const reference = JSON.parse(await readFile(VSWITCH_SCHEMA, "utf8")) as { version: string };
  assert.equal(schema.version, reference.version);
  assert.ok(schema.tables.has("Interface"));
});

test("insert with named-uuid is visible to ovs-vsctl", async (t) => {
  const { server, client } = await setup(t);
  const results = await client.transact(DB, insertBridge("sydbr0", { external_ids: wireMap({ owner: "switchyard" }) }));
  assert.equal(results.length, 2);
  assert.equal(results[0]?.uuid?.[0], "uuid");
  assert.equal(results[1]?.count, 1);
  assert.equal((await server.vsctl("list-br")).trim(), "sydbr0");
  assert.equal((await server.vsctl("get", "Bridge", "sydbr0", "external_ids:owner")).trim(), "switchyard");
  assert.equal((await server.vsctl("get", "Bridge", "sydbr0", "_uuid")).trim(), results[0]?.uuid?.[1]);
});

test("select reads what ovs-vsctl wrote", async (t) => {
  const { server, client } = await setup(t);
  await server.vsctl("add-br", "sydbr1", "--", "set", "Bridge", "sydbr1", "datapath_type=netdev", "other_config:hwaddr=02:00:00:00:00:01");
  const [result] = await client.transact(DB, [
    { op: "select", table: "Bridge", where: [["name", "==", "sydbr1"]], columns: ["name", "datapath_type", "other_config", "ports"] },
  ]);
  const rows = result?.rows ?? [];
  assert.equal(rows.length, 1);
  assert.equal(rows[0]?.["datapath_type"], "netdev");
  assert.deepEqual(rows[0]?.["other_config"], ["map", [["hwaddr", "02:00:00:00:00:01"]]]);
  // add-br creates one internal port named like the bridge: a one-element set is a bare uuid.
  const ports = rows[0]?.["ports"];
  assert.ok(Array.isArray(ports) && ports[0] === "uuid", `expected a bare uuid, got ${JSON.stringify(ports)}`);
});

test("update, mutate and delete report counts", async (t) => {
  const { server, client } = await setup(t);
  await client.transact(DB, insertBridge("sydbr2"));
  const where: Condition[] = [["name", "==", "sydbr2"]];
  const [update] = await client.transact(DB, [{ op: "update", table: "Bridge", where, row: { stp_enable: true } }]);
  assert.equal(update?.count, 1);
  assert.equal((await server.vsctl("get", "Bridge", "sydbr2", "stp_enable")).trim(), "true");

  const [mutate] = await client.transact(DB, [
    { op: "mutate", table: "Bridge", where, mutations: [["external_ids", "insert", wireMap({ a: "1", b: "2" })]] },
    { op: "mutate", table: "Bridge", where, mutations: [["external_ids", "delete", wireSet(["a"])]] },
  ]);
  assert.equal(mutate?.count, 1);
  assert.equal((await server.vsctl("get", "Bridge", "sydbr2", "external_ids")).trim(), '{b="2"}');

  const bridgeUuid = (await server.vsctl("get", "Bridge", "sydbr2", "_uuid")).trim();
  const [, deleted] = await client.transact(DB, [
    { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["bridges", "delete", uuid(bridgeUuid)]] },
    { op: "delete", table: "Bridge", where: [["_uuid", "==", uuid(bridgeUuid)]] },
  ]);
  assert.equal(deleted?.count, 1);
  assert.equal((await server.vsctl("list-br")).trim(), "");
});

test("wait succeeds and times out", async (t) => {
  const { client } = await setup(t);
  await client.transact(DB, insertBridge("sydbr3"));
  const waitOk: Operation = {
    op: "wait",
    table: "Bridge",
    where: [["name", "==", "sydbr3"]],
    columns: ["datapath_type"],
    until: "==",
    rows: [{ datapath_type: "netdev" }],
    timeout: 0,
  };
  assert.deepEqual(await client.transact(DB, [waitOk]), [{}]);
  const waitFail: Operation = { ...waitOk, rows: [{ datapath_type: "system" }] } as Operation;
  await assert.rejects(client.transact(DB, [{ op: "comment", comment: "syd" }, waitFail]), (error: unknown) => {
    assert.ok(error instanceof TransactionError);
    assert.equal(error.index, 1);
    assert.equal(error.error, "timed out");
    assert.equal(error.operation?.op, "wait");
    return true;
  });
});

test("abort, commit and comment", async (t) => {
  const { server, client } = await setup(t);
  await assert.rejects(client.transact(DB, [...insertBridge("sydbr4"), { op: "abort" }]), (error: unknown) => {
    assert.ok(error instanceof TransactionError);
    assert.equal(error.error, "aborted");
    assert.equal(error.index, 2);
    return true;
  });
  assert.equal((await server.vsctl("list-br")).trim(), "");
  const results = await client.transact(DB, [
    ...insertBridge("sydbr4"),
    { op: "comment", comment: "switchyard test" },
    { op: "commit", durable: false },
  ]);
  assert.equal(results.length, 4);
  assert.equal((await server.vsctl("list-br")).trim(), "sydbr4");
});

test("constraint violation names the operation", async (t) => {
  const { client } = await setup(t);
  // A column value of the wrong type fails while the server parses the operation.
  const ops: Operation[] = [
    { op: "insert", table: "Bridge", row: { name: "sydbr5", datapath_type: 7 as unknown as string } },
  ];
  await assert.rejects(client.transact(DB, ops), (error: unknown) => {
    assert.ok(error instanceof TransactionError);
    assert.equal(error.index, 0);
    assert.equal(error.error, "syntax error");
    assert.ok(error.message.includes("operation 0 (insert on Bridge)"), error.message);
    return true;
  });
});

test("commit failure after all operations", async (t) => {
  const { client } = await setup(t);
  // Two bridges with one name pass each operation but violate the index at commit, so the
  // server appends one error result after the last operation's (RFC 7047 4.1.3).
  const ops: Operation[] = [
    { op: "insert", table: "Bridge", row: { name: "sydbr6" }, "uuid-name": "a" },
    { op: "insert", table: "Bridge", row: { name: "sydbr6" }, "uuid-name": "b" },
    { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["bridges", "insert", wireSet([namedUuid("a"), namedUuid("b")])]] },
  ];
  await assert.rejects(client.transact(DB, ops), (error: unknown) => {
    assert.ok(error instanceof TransactionError);
    assert.equal(error.index, 3);
    assert.equal(error.operation, undefined);
    assert.equal(error.error, "constraint violation");
    assert.equal(error.results.length, 4);
    return true;
  });
});

test("referential integrity violation", async (t) => {
  const { client } = await setup(t);
  const ops: Operation[] = [
    { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["bridges", "insert", wireSet([uuid("11111111-2222-3333-4444-555555555555")])]] },
  ];
  await assert.rejects(client.transact(DB, ops), (error: unknown) => {
    assert.ok(error instanceof TransactionError);
    assert.equal(error.error, "referential integrity violation");
    assert.equal(typeof error.details, "string");
    return true;
  });
});

test("assert needs the lock; lock, steal, unlock", async (t) => {
  const { server, client } = await setup(t);
  const other = await OvsdbClient.connect(server.endpoint, { reconnect: false });
  t.after(() => other.close());
  const assertOp: Operation = { op: "assert", lock: "syd_lock" };
  await assert.rejects(client.transact(DB, [assertOp]), (error: unknown) => error instanceof TransactionError && error.error === "not owner");

  assert.equal(await client.lock("syd_lock"), true);
  assert.deepEqual(await client.transact(DB, [assertOp]), [{}]);

  // "other" is queued behind the owner and gets "locked" when the owner unlocks.
  assert.equal(await other.lock("syd_lock"), false);
  const locked = new Promise<string>((resolve) => other.once("locked", resolve));
  await client.unlock("syd_lock");
  assert.equal(await locked, "syd_lock");
  assert.deepEqual(await other.transact(DB, [assertOp]), [{}]);

  // Stealing takes the lock back; the previous owner gets "stolen" and loses it.
  const stolen = new Promise<string>((resolve) => other.once("stolen", resolve));
  assert.equal(await client.steal("syd_lock"), true);
  assert.equal(await stolen, "syd_lock");
  assert.deepEqual(await client.transact(DB, [assertOp]), [{}]);
  await assert.rejects(other.transact(DB, [assertOp]), (error: unknown) => error instanceof TransactionError && error.error === "not owner");
});

test("unknown database is an RpcError", async (t) => {
  const { client } = await setup(t);
  await assert.rejects(client.transact("Nope", [{ op: "comment", comment: "x" }]), (error: unknown) => {
    assert.ok(error instanceof RpcError);
    assert.equal(error.method, "transact");
    assert.equal((error.error as { error?: string }).error ?? error.error, "unknown database");
    return true;
  });
  await assert.rejects(client.getSchema("Nope"), RpcError);
});

test("echo and set_db_change_aware", async (t) => {
  const { client } = await setup(t);
  assert.deepEqual(await client.echo(["syd", 1]), ["syd", 1]);
  await client.setDbChangeAware(true);
});

test("timeout names method and duration", async (t) => {
  const { client } = await setup(t);
  await client.transact(DB, insertBridge("sydbr7"));
  // A wait with a long timeout keeps the reply back until our 200 ms timer fires.
  const wait: Operation = {
    op: "wait",
    table: "Bridge",
    where: [["name", "==", "sydbr7"]],
    columns: ["name"],
    until: "==",
    rows: [{ name: "other" }],
    timeout: 5000,
  };
  const controller = new AbortController();
  await assert.rejects(client.transact(DB, [wait], { timeoutMs: 200 }), (error: unknown) => {
    assert.ok(error instanceof TimeoutError);
    assert.equal(error.method, "transact");
    assert.equal(error.timeoutMs, 200);
    assert.match(error.message, /transact timed out after 200 ms/);
    return true;
  });
  const cancelled = client.transact(DB, [wait], { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(cancelled, { code: "OVSDB_CANCELLED" });
  // The connection stays usable after a timeout and a cancel.
  assert.deepEqual(await client.echo([1]), [1]);
});

test("closed connection fails fast naming the method", async (t) => {
  const { server, client } = await setup(t);
  const wait: Operation = {
    op: "wait",
    table: "Open_vSwitch",
    where: [],
    columns: ["next_cfg"],
    until: "==",
    rows: [{ next_cfg: 12345 }],
    timeout: 10000,
  };
  const pending = client.transact(DB, [wait]).catch((error: unknown) => error);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await server.kill();
  const error = await pending;
  assert.ok(error instanceof ConnectionClosedError);
  assert.equal(error.method, "transact");
  assert.match(error.message, /OVSDB transact failed: connection closed/);
  await assert.rejects(Promise.reject(error), (error: unknown) => {
    assert.ok(error instanceof ConnectionClosedError);
    assert.equal(error.method, "transact");
    assert.match(error.message, /OVSDB transact failed: connection closed/);
    return true;
  });
  const started = Date.now();
  await assert.rejects(client.listDbs(), (error: unknown) => error instanceof ConnectionClosedError && error.method === "list_dbs");
  assert.ok(Date.now() - started < 100);
});

test("100 concurrent transactions", async (t) => {
  const { server, client } = await setup(t);
  const names = Array.from({ length: 100 }, (_, i) => `sydc${i}`);
  const results = await Promise.all(names.map((name) => client.transact(DB, insertBridge(name))));
  assert.equal(results.length, 100);
  const listed = (await server.vsctl("list-br")).trim().split("\n").sort();
  assert.deepEqual(listed, [...names].sort());
});
