// Replays OVS's own transaction cases (tests/ovsdb-execution.at, OVSDB_CHECK_EXECUTION)
// through our client against a real ovsdb-server created with each case's schema, and
// compares the results with the expected output after UUID normalisation.
import assert from "node:assert/strict";
import { test } from "node:test";
import { OvsdbClient } from "../../../ovsdb/index.ts";
import { findMacroCalls, normaliseUuids, readOvsTestFile, readSchemaFunctions, sortedJson, splitList, unquote } from "./at-cases.ts";
import { startOvsdbServer } from "./fixture.ts";

type ExecutionCase = { title: string; schema: string; transactions: string[]; expected: string };

/** Minimum number of cases that must pass; raise it when the client improves. */
const MIN_PASSING = 29;

function parseCases(text: string): ExecutionCase[] {
  const schemas = readSchemaFunctions(text);
  return findMacroCalls(text, "OVSDB_CHECK_EXECUTION").map((args) => {
    const title = unquote(args[0] ?? "");
    const schemaName = unquote(args[1] ?? "").trim();
    const schema = schemas.get(schemaName);
    if (schema === undefined) throw new Error(`case "${title}": schema function ${schemaName} not found`);
    const transactions = splitList(unquote(args[2] ?? "")).map((item) => unquote(unquote(item)));
    const expected = unquote(unquote(args[3] ?? ""));
    return { title, schema, transactions, expected };
  });
}

async function runCase(testCase: ExecutionCase): Promise<string> {
  const server = await startOvsdbServer({ schemaText: testCase.schema, init: false });
  try {
    const client = await OvsdbClient.connect(server.endpoint, { reconnect: false });
    try {
      let output = "";
      for (const transaction of testCase.transactions) {
        // The raw reply, not transact(): the expected output includes error results.
        const reply = await client.call("transact", JSON.parse(transaction) as unknown[], { timeoutMs: 10_000 });
        output += `${sortedJson(reply)}\n`;
      }
      return normaliseUuids(output);
    } finally {
      client.close();
    }
  } finally {
    await server.stop();
  }
}

test("ovsdb-execution.at cases", async (t) => {
  const text = await readOvsTestFile("ovsdb-execution.at");
  if (text === undefined) {
    t.skip("OVS source tarball /usr/src/openvswitch/openvswitch.tar.gz not found (install openvswitch-source)");
    return;
  }
  const cases = parseCases(text);
  assert.ok(cases.length >= 29, `parsed only ${cases.length} cases`);
  const failures: string[] = [];
  for (const testCase of cases) {
    const actual = await runCase(testCase);
    if (actual !== testCase.expected) {
      failures.push(`${testCase.title}\n  expected: ${testCase.expected.replace(/\n/g, "\n            ")}\n  actual:   ${actual.replace(/\n/g, "\n            ")}`);
    }
  }
  const passed = cases.length - failures.length;
  t.diagnostic(`ovsdb-execution.at: ${passed} of ${cases.length} cases pass`);
  for (const failure of failures) t.diagnostic(`failed: ${failure}`);
  assert.ok(passed >= MIN_PASSING, `only ${passed} of ${cases.length} ovsdb-execution.at cases pass:\n${failures.join("\n")}`);
});
