// Mapping between wire values (RFC 7047 5.1) and plain values, by column type. Wire
// literals below are written from the RFC, not produced by the encoder under test.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SchemaError, decodeDatum, encodeDatum, parseColumnType } from "../../../ovsdb/index.ts";
import type { ColumnTypeJson, Datum, WireValue } from "../../../ovsdb/index.ts";

type Case = { name: string; type: ColumnTypeJson; wire: WireValue; plain: Datum; encodesAs?: WireValue };

const U1 = "36bb7a7a-5ec0-4c5b-9c2f-9c8e2c0e4a01";
const U2 = "a4e4f6e3-1b0a-4f59-8d8c-0b7d7a0e9f02";

const CASES: Case[] = [
  { name: "integer scalar", type: "integer", wire: 42, plain: 42 },
  { name: "real scalar", type: "real", wire: 1.5, plain: 1.5 },
  { name: "boolean scalar", type: "boolean", wire: true, plain: true },
  { name: "string scalar", type: "string", wire: "br-int", plain: "br-int" },
  { name: "uuid scalar", type: { key: { type: "uuid", refTable: "Bridge" } }, wire: ["uuid", U1], plain: U1 },
  { name: "optional empty", type: { key: "integer", min: 0, max: 1 }, wire: ["set", []], plain: null },
  { name: "optional bare atom", type: { key: "integer", min: 0, max: 1 }, wire: 7, plain: 7 },
  { name: "optional one-element set", type: { key: "integer", min: 0, max: 1 }, wire: ["set", [7]], plain: 7, encodesAs: 7 },
  { name: "set of uuids", type: { key: { type: "uuid" }, min: 0, max: "unlimited" }, wire: ["set", [["uuid", U1], ["uuid", U2]]], plain: [U1, U2] },
  { name: "set of one is bare", type: { key: { type: "uuid" }, min: 0, max: "unlimited" }, wire: ["uuid", U1], plain: [U1], encodesAs: ["set", [["uuid", U1]]] },
  { name: "empty set", type: { key: "string", min: 0, max: "unlimited" }, wire: ["set", []], plain: [] },
  {
    name: "string map",
    type: { key: "string", value: "string", min: 0, max: "unlimited" },
    wire: ["map", [["iface-id", "pod-a"], ["attached-mac", "02:00:00:00:00:01"]]],
    plain: new Map([["iface-id", "pod-a"], ["attached-mac", "02:00:00:00:00:01"]]),
  },
  {
    name: "integer to uuid map",
    type: { key: { type: "integer", minInteger: 0, maxInteger: 254 }, value: { type: "uuid", refTable: "Flow_Table" }, min: 0, max: "unlimited" },
    wire: ["map", [[0, ["uuid", U1]]]],
    plain: new Map<number, string>([[0, U1]]),
  },
];

for (const c of CASES) {
  test(`decode ${c.name}`, () => {
    assert.deepEqual(decodeDatum(c.wire, parseColumnType(c.type)), c.plain);
  });
  test(`encode ${c.name}`, () => {
    assert.deepEqual(encodeDatum(c.plain, parseColumnType(c.type)), c.encodesAs ?? c.wire);
  });
}

test("column shapes from schema JSON", () => {
  assert.equal(parseColumnType("integer").shape, "scalar");
  assert.equal(parseColumnType({ key: "integer", min: 0, max: 1 }).shape, "optional");
  assert.equal(parseColumnType({ key: "string", min: 1, max: 2 }).shape, "set");
  assert.equal(parseColumnType({ key: "string", min: 0, max: "unlimited" }).max, Infinity);
  assert.equal(parseColumnType({ key: "string", value: "string", min: 0, max: "unlimited" }).shape, "map");
});

test("record encodes as map", () => {
  const type = parseColumnType({ key: "string", value: "string", min: 0, max: "unlimited" });
  assert.deepEqual(encodeDatum({ a: "1" } as unknown as Datum, type), ["map", [["a", "1"]]]);
});

test("named-uuid passes through", () => {
  const type = parseColumnType({ key: { type: "uuid" }, min: 0, max: "unlimited" });
  assert.deepEqual(encodeDatum(["named-uuid", "port0"], type), ["named-uuid", "port0"]);
  assert.deepEqual(encodeDatum(["set", [["named-uuid", "a"]]], type), ["set", [["named-uuid", "a"]]]);
});

test("type mismatch names the value", () => {
  assert.throws(() => encodeDatum("x", parseColumnType("integer")), (error: unknown) => {
    assert.ok(error instanceof SchemaError);
    assert.match(error.message, /expected a integer atom, got "x"/);
    return true;
  });
  assert.throws(() => encodeDatum(1.5, parseColumnType("integer")), /expected an integer, got 1.5/);
  assert.throws(() => decodeDatum(["set", [1, 2]], parseColumnType("integer")), /exactly one atom/);
});
