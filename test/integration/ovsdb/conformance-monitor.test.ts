// Replays OVS's monitor cases (tests/ovsdb-monitor.at, OVSDB_CHECK_MONITOR) through our
// client's monitor() against a real ovsdb-server. The expected output is the CSV that
// `ovsdb-client monitor --format=csv` prints, so the test prints our updates in that form.
// Each update is one block: a "row,action,COLUMNS..." header, then one line per row. A
// modify is an "old" line with only the changed cells, followed by a ",new" line. Blocks
// are separated by a blank line. Before comparing, lines are sorted within each block and
// UUIDs normalised, as the OVS test does.
import assert from "node:assert/strict";
import { test } from "node:test";
import { OvsdbClient } from "../../../ovsdb/index.ts";
import type { Condition, MonitorRequest, RowUpdate2, TableUpdates, WireRow } from "../../../ovsdb/index.ts";
import { findMacroCalls, normaliseUuids, readOvsTestFile, readSchemaFunctions, splitList, unquote } from "./at-cases.ts";
import { startOvsdbServer } from "./fixture.ts";

type MonitorCase = {
  title: string;
  schema: string;
  db: string;
  table: string;
  before: string[];
  transactions: string[];
  expected: string;
  select: NonNullable<MonitorRequest["select"]>;
};

/** Minimum number of cases that must pass; raise them when the client improves. */
const MIN_PASSING = 14;
const MIN_PASSING_COND = 7;

type MonitorCondCase = Omit<MonitorCase, "select"> & {
  where: Condition[];
  /** Explicit column list, or undefined for every column plus _version. */
  columns: string[] | undefined;
  select: NonNullable<MonitorRequest["select"]>;
  conditionChanges: Condition[][];
};

/** Parses the cases of `text`; the schema functions live in ovsdb-execution.at's shell prologue. */
function parseCases(text: string, executionText: string): MonitorCase[] {
  const schemas = readSchemaFunctions(executionText);
  const macros = new Map<string, string>();
  for (const args of findMacroCalls(text, "m4_define")) {
    macros.set(unquote(args[0] ?? ""), unquote(args[1] ?? ""));
  }
  const expand = (arg: string) => macros.get(unquote(arg).trim()) ?? unquote(arg);
  const transactions = (arg: string) => splitList(expand(arg)).map((item) => unquote(unquote(item)));

  return findMacroCalls(text, "OVSDB_CHECK_MONITOR").map((args) => {
    const title = unquote(args[0] ?? "");
    const schemaName = unquote(args[1] ?? "").trim();
    const schema = schemas.get(schemaName);
    if (schema === undefined) throw new Error(`case "${title}": schema function ${schemaName} not found`);
    const select: NonNullable<MonitorRequest["select"]> = {};
    for (const item of unquote(args[7] ?? "").split(",").filter((s) => s !== "")) {
      if (!item.startsWith("!")) throw new Error(`case "${title}": column lists are not supported (${item})`);
      select[item.slice(1) as keyof typeof select] = false;
    }
    return {
      title,
      schema,
      before: transactions(args[2] ?? ""),
      db: unquote(args[3] ?? "").trim(),
      table: unquote(args[4] ?? "").trim(),
      transactions: transactions(args[5] ?? ""),
      expected: unquote(unquote(args[6] ?? "")),
      select,
    };
  });
}

function csvCell(value: unknown): string {
  if (value === undefined) return "";
  const text = JSON.stringify(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function formatBlock(columns: string[], rows: Record<string, { old?: WireRow; new?: WireRow }>, initial: boolean): string {
  let block = `row,action,${columns.join(",")}\n`;
  for (const [uuid, update] of Object.entries(rows)) {
    const cells = (row: WireRow | undefined) => columns.map((column) => csvCell(row?.[column])).join(",");
    if (initial) {
      block += `${uuid},initial,${cells(update.new)}\n`;
    } else if (update.old === undefined) {
      block += `${uuid},insert,${cells(update.new)}\n`;
    } else if (update.new === undefined) {
      block += `${uuid},delete,${cells(update.old)}\n`;
    } else {
      block += `${uuid},old,${cells(update.old)}\n,new,${cells(update.new)}\n`;
    }
  }
  return block;
}

function parseCondCases(text: string, executionText: string): MonitorCondCase[] {
  const schemas = readSchemaFunctions(executionText);
  const transactions = (arg: string) => splitList(unquote(arg)).map((item) => unquote(unquote(item)));
  return findMacroCalls(text, "OVSDB_CHECK_MONITOR_COND").map((args) => {
    const title = unquote(args[0] ?? "");
    const schemaName = unquote(args[1] ?? "").trim();
    const schema = schemas.get(schemaName);
    if (schema === undefined) throw new Error(`case "${title}": schema function ${schemaName} not found`);
    const select: NonNullable<MonitorRequest["select"]> = {};
    let columns: string[] | undefined;
    const columnArg = unquote(args[8] ?? "").trim();
    if (columnArg.startsWith("!")) {
      for (const item of columnArg.split(",")) select[item.slice(1) as keyof typeof select] = false;
    } else if (columnArg !== "") {
      // m4 removed the brackets of ["number"], and the shell then removes the quotes.
      columns = columnArg.split(",").map((column) => column.replace(/"/g, "").trim());
    }
    return {
      title,
      schema,
      before: transactions(args[2] ?? ""),
      db: unquote(args[3] ?? "").trim(),
      table: unquote(args[4] ?? "").trim(),
      transactions: transactions(args[5] ?? ""),
      expected: unquote(unquote(args[6] ?? "")),
      where: JSON.parse(unquote(args[7] ?? "")) as Condition[],
      columns,
      select,
      conditionChanges: transactions(args[9] ?? "").map((text) => JSON.parse(text) as Condition[]),
    };
  });
}

/** Formats one update2 block the way `ovsdb-client monitor-cond --format=csv` prints it: cells a row update omits stay empty. */
function formatBlock2(columns: string[], rows: Record<string, RowUpdate2>): string {
  let block = `row,action,${columns.join(",")}\n`;
  for (const [uuid, update] of Object.entries(rows)) {
    const cells = (row: WireRow | undefined) => columns.map((column) => csvCell(row?.[column])).join(",");
    for (const action of ["initial", "insert", "modify", "delete"] as const) {
      if (action in update) block += `${uuid},${action},${cells(update[action] ?? undefined)}\n`;
    }
  }
  return block;
}

/** Sorts lines within blank-line separated groups as OVS's ovsdb-monitor-sort.py does (lines starting with a UUID last, by the text after it). */
function sortGroups(output: string): string {
  const uuidStart = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/;
  const compare = (a: string, b: string) => {
    const aUuid = uuidStart.test(a);
    const bUuid = uuidStart.test(b);
    if (aUuid !== bUuid) return aUuid ? 1 : -1;
    const x = aUuid ? a.slice(36) : a;
    const y = bUuid ? b.slice(36) : b;
    return x < y ? -1 : x > y ? 1 : 0;
  };
  return output
    .split("\n\n")
    .map((group) => {
      const lines: string[] = [];
      for (const line of group.split("\n").filter((l) => l !== "")) {
        if (line.startsWith(",") && lines.length > 0) lines[lines.length - 1] += `\n${line}`;
        else lines.push(line);
      }
      return `${lines.sort(compare).join("\n")}\n`;
    })
    .join("\n");
}

async function runCase(testCase: MonitorCase): Promise<string> {
  const server = await startOvsdbServer({ schemaText: testCase.schema, init: false });
  try {
    const client = await OvsdbClient.connect(server.endpoint, { reconnect: false });
    try {
      for (const transaction of testCase.before) {
        await client.call("transact", JSON.parse(transaction) as unknown[]);
      }
      const schema = await client.getSchema(testCase.db);
      const columns = [...schema.table(testCase.table).columns.keys()].sort();
      columns.push("_version");
      const blocks: string[] = [];
      const { initial } = await client.monitor({
        db: testCase.db,
        requests: { [testCase.table]: { columns, select: testCase.select } },
        onUpdate: (updates: TableUpdates) => blocks.push(formatBlock(columns, updates[testCase.table] ?? {}, false)),
      });
      const initialRows = initial[testCase.table];
      if (initialRows !== undefined && Object.keys(initialRows).length > 0) blocks.push(formatBlock(columns, initialRows, true));
      for (const transaction of testCase.transactions) {
        await client.call("transact", JSON.parse(transaction) as unknown[]);
      }
      // An empty transaction returns after the server sent every update of the earlier ones.
      await client.call("transact", [testCase.db]);
      return normaliseUuids(sortGroups(blocks.join("\n")));
    } finally {
      client.close();
    }
  } finally {
    await server.stop();
  }
}

async function runCondCase(testCase: MonitorCondCase): Promise<string> {
  const server = await startOvsdbServer({ schemaText: testCase.schema, init: false });
  try {
    const client = await OvsdbClient.connect(server.endpoint, { reconnect: false });
    try {
      for (const transaction of testCase.before) {
        await client.call("transact", JSON.parse(transaction) as unknown[]);
      }
      const schema = await client.getSchema(testCase.db);
      const columns = testCase.columns ?? [...[...schema.table(testCase.table).columns.keys()].sort(), "_version"];
      const blocks: string[] = [];
      const received: (() => void)[] = [];
      const { id, initial } = await client.monitorCond({
        db: testCase.db,
        requests: { [testCase.table]: { columns, select: testCase.select, where: testCase.where } },
        onUpdate: (updates) => {
          blocks.push(formatBlock2(columns, updates[testCase.table] ?? {}));
          received.shift()?.();
        },
      });
      const initialRows = initial[testCase.table];
      if (initialRows !== undefined && Object.keys(initialRows).length > 0) blocks.push(formatBlock2(columns, initialRows));
      for (const transaction of testCase.transactions) {
        await client.call("transact", JSON.parse(transaction) as unknown[]);
      }
      for (const where of testCase.conditionChanges) {
        // The server sends the rows that enter or leave the condition as one update2 after
        // the reply. Wait for it, or 500 ms when the change selects nothing new.
        const update = new Promise<void>((resolve) => {
          received.push(resolve);
          setTimeout(resolve, 500);
        });
        await client.monitorCondChange(id, { [testCase.table]: where });
        await update;
      }
      await client.call("transact", [testCase.db]);
      return normaliseUuids(sortGroups(blocks.join("\n")));
    } finally {
      client.close();
    }
  } finally {
    await server.stop();
  }
}

test("ovsdb-monitor.at cases", async (t) => {
  const text = await readOvsTestFile("ovsdb-monitor.at");
  const execution = await readOvsTestFile("ovsdb-execution.at");
  if (text === undefined || execution === undefined) {
    t.skip("OVS source tarball /usr/src/openvswitch/openvswitch.tar.gz not found (install openvswitch-source)");
    return;
  }
  const cases = parseCases(text, execution);
  assert.ok(cases.length >= 14, `parsed only ${cases.length} cases`);
  const failures: string[] = [];
  for (const testCase of cases) {
    const actual = await runCase(testCase);
    if (actual !== testCase.expected) {
      failures.push(`${testCase.title}\n  expected:\n${testCase.expected}\n  actual:\n${actual}`);
    }
  }
  const passed = cases.length - failures.length;
  t.diagnostic(`ovsdb-monitor.at: ${passed} of ${cases.length} OVSDB_CHECK_MONITOR cases pass`);
  for (const failure of failures) t.diagnostic(`failed: ${failure}`);
  assert.ok(passed >= MIN_PASSING, `only ${passed} of ${cases.length} ovsdb-monitor.at cases pass:\n${failures.join("\n")}`);
});

test("ovsdb-monitor.at monitor-cond cases", async (t) => {
  const text = await readOvsTestFile("ovsdb-monitor.at");
  const execution = await readOvsTestFile("ovsdb-execution.at");
  if (text === undefined || execution === undefined) {
    t.skip("OVS source tarball /usr/src/openvswitch/openvswitch.tar.gz not found (install openvswitch-source)");
    return;
  }
  const cases = parseCondCases(text, execution);
  assert.ok(cases.length >= 7, `parsed only ${cases.length} cases`);
  const failures: string[] = [];
  for (const testCase of cases) {
    const actual = await runCondCase(testCase);
    if (actual !== testCase.expected) {
      failures.push(`${testCase.title}\n  expected:\n${testCase.expected}\n  actual:\n${actual}`);
    }
  }
  const passed = cases.length - failures.length;
  t.diagnostic(`ovsdb-monitor.at: ${passed} of ${cases.length} OVSDB_CHECK_MONITOR_COND cases pass`);
  for (const failure of failures) t.diagnostic(`failed: ${failure}`);
  assert.ok(passed >= MIN_PASSING_COND, `only ${passed} of ${cases.length} monitor-cond cases pass:\n${failures.join("\n")}`);
});
