// checkTransactionResults against reply shapes written from RFC 7047 4.1.3, and endpoint parsing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { OvsdbError, TransactionError, checkTransactionResults, parseEndpoint } from "../../../ovsdb/index.ts";
import type { Operation } from "../../../ovsdb/index.ts";

const OPS: Operation[] = [
  { op: "insert", table: "Bridge", row: { name: "br0" } },
  { op: "delete", table: "Port", where: [] },
];

test("success returns every result", () => {
  const reply = [{ uuid: ["uuid", "36bb7a7a-5ec0-4c5b-9c2f-9c8e2c0e4a01"] }, { count: 0 }];
  assert.deepEqual(checkTransactionResults(OPS, reply), reply);
});

test("failed operation carries index and op", () => {
  const reply = [{ uuid: ["uuid", "36bb7a7a-5ec0-4c5b-9c2f-9c8e2c0e4a01"] }, { error: "constraint violation", details: "no" }];
  assert.throws(() => checkTransactionResults(OPS, reply), (error: unknown) => {
    assert.ok(error instanceof TransactionError);
    assert.equal(error.code, "OVSDB_TRANSACTION_FAILED");
    assert.equal(error.index, 1);
    assert.equal(error.operation, OPS[1]);
    assert.equal(error.error, "constraint violation");
    assert.equal(error.details, "no");
    assert.equal(error.message, "OVSDB transaction failed at operation 1 (delete on Port): constraint violation: no");
    return true;
  });
});

test("first failure wins, later nulls", () => {
  const reply = [{ error: "syntax error" }, null];
  assert.throws(() => checkTransactionResults(OPS, reply), (error: unknown) => error instanceof TransactionError && error.index === 0);
});

test("commit failure after operations", () => {
  const reply = [{ uuid: ["uuid", "36bb7a7a-5ec0-4c5b-9c2f-9c8e2c0e4a01"] }, { count: 1 }, { error: "referential integrity violation" }];
  assert.throws(() => checkTransactionResults(OPS, reply), (error: unknown) => {
    assert.ok(error instanceof TransactionError);
    assert.equal(error.index, 2);
    assert.equal(error.operation, undefined);
    assert.match(error.message, /at commit after 2 operations: referential integrity violation/);
    return true;
  });
});

test("operation count mismatch", () => {
  assert.throws(() => checkTransactionResults(OPS, [{ count: 0 }]), (error: unknown) => {
    assert.ok(error instanceof TransactionError);
    assert.equal(error.error, "operation count mismatch");
    assert.equal(error.index, 1);
    return true;
  });
});

test("non-array reply is rejected", () => {
  assert.throws(() => checkTransactionResults(OPS, { error: "x" }), OvsdbError);
});

test("endpoint forms", () => {
  assert.deepEqual(parseEndpoint("unix:/run/openvswitch/db.sock"), { kind: "unix", path: "/run/openvswitch/db.sock" });
  assert.deepEqual(parseEndpoint("tcp:127.0.0.1:6640"), { kind: "tcp", host: "127.0.0.1", port: 6640 });
  assert.deepEqual(parseEndpoint("tcp:[::1]:6640"), { kind: "tcp", host: "::1", port: 6640 });
  for (const bad of ["db.sock", "tcp:host", "tcp:h:0", "tcp:h:70000", "ssl:h:1", "unix:"]) {
    assert.throws(() => parseEndpoint(bad), /invalid OVSDB endpoint/, bad);
  }
});
