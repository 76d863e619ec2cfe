// The generated row types match the installed schema file: every typed column exists in
// the schema and its TypeScript type follows from the schema's JSON type. The expected
// type is derived here straight from the JSON, without the package's own type parser.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { VSWITCH_COLUMN_TYPES, VSWITCH_SCHEMA_VERSION } from "../../../ovsdb/schema/vswitch.ts";

const SCHEMA_PATH = "/usr/share/openvswitch/vswitch.ovsschema";

type BaseJson = string | { type: string };
type TypeJson = string | { key: BaseJson; value?: BaseJson; min?: number; max?: number | string };

function atom(base: BaseJson): string {
  const name = typeof base === "string" ? base : base.type;
  return ({ integer: "number", real: "number", boolean: "boolean", string: "string", uuid: "string" } as Record<string, string>)[name] ?? "?";
}

function expectedType(type: TypeJson): string {
  if (typeof type === "string") return atom(type);
  if (type.value !== undefined) return `Map<${atom(type.key)}, ${atom(type.value)}>`;
  const min = type.min ?? 1;
  const max = type.max ?? 1;
  if (max === "unlimited" || (typeof max === "number" && max > 1)) return `${atom(type.key)}[]`;
  return min === 0 ? `${atom(type.key)} | null` : atom(type.key);
}

test("generated types match schema", { skip: existsSync(SCHEMA_PATH) ? false : `${SCHEMA_PATH} not found (install openvswitch-common)` }, () => {
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, "utf8")) as {
    version: string;
    tables: Record<string, { columns: Record<string, { type: TypeJson }> }>;
  };
  assert.equal(VSWITCH_SCHEMA_VERSION, schema.version, "schema changed: rerun node ovsdb/schema/generate.ts");
  for (const [table, columns] of Object.entries(VSWITCH_COLUMN_TYPES)) {
    const tableJson = schema.tables[table];
    assert.ok(tableJson !== undefined, `table ${table} not in schema`);
    assert.deepEqual(Object.keys(columns).sort(), Object.keys(tableJson.columns).sort(), `columns of ${table}`);
    for (const [column, tsType] of Object.entries(columns)) {
      assert.equal(tsType, expectedType((tableJson.columns[column] as { type: TypeJson }).type), `${table}.${column}`);
    }
  }
  assert.deepEqual(
    Object.keys(VSWITCH_COLUMN_TYPES).sort(),
    ["Bridge", "Controller", "Flow_Table", "Interface", "Manager", "Mirror", "Open_vSwitch", "Port", "QoS"],
  );
});
