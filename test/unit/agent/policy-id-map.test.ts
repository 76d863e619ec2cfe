import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { describeCookie } from "../../../agent/pipeline/cookie.ts";
import type { IdOwner } from "../../../agent/policy/enforcer.ts";
import { describeOwner, policyIdMapPath, readPolicyIdMap, writePolicyIdMap } from "../../../agent/policy/id-map.ts";

const rule: IdOwner = { kind: "rule", ruleId: "web/allow-api/uid-1/ingress/0", policyId: "web/allow-api/uid-1", direction: "Ingress", key: "k1" };
const isolation: IdOwner = { kind: "isolation", pod: "web/api-0", direction: "Egress", address: "10.244.1.5/32", key: "k2" };

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "sya-idmap-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test("id map sits beside the policy cache", () => {
  assert.equal(policyIdMapPath("/var/run/switchyard/policy-cache.json"), "/var/run/switchyard/policy-ids.json");
});

test("id map round trip", (t) => {
  const path = join(tempDir(t), "policy-ids.json");
  writePolicyIdMap(path, { generation: 7, owners: [[1, rule], [2, isolation]] });
  assert.deepEqual(JSON.parse(readFileSync(path, "utf8")), { generation: 7, ids: { "1": rule, "2": isolation } });
  assert.deepEqual(readPolicyIdMap(path), { generation: 7, ids: { "1": rule, "2": isolation } });
});

test("id map missing or invalid", (t) => {
  const dir = tempDir(t);
  assert.equal(readPolicyIdMap(join(dir, "absent.json")), undefined);
  writeFileSync(join(dir, "bad.json"), "[]");
  assert.throws(() => readPolicyIdMap(join(dir, "bad.json")), /policy id map .*bad\.json is invalid: expected \{ generation, ids \}/);
});

test("owners described in one line", () => {
  assert.equal(describeOwner(rule), "ingress rule web/allow-api/uid-1/ingress/0");
  assert.equal(describeOwner(isolation), "egress isolation of pod web/api-0 (10.244.1.5/32)");
});

test("decoded policy cookie names its owner", () => {
  // Round 1, category 0x05 (policy), owner 2, as the agent's cookies lay them out.
  const cookie = 0x0001_05_0000000002n;
  assert.equal(describeCookie(cookie, { policies: new Map([[2, "ingress rule web/a/u/ingress/0"]]) }), "round 1, policy, id 2 (ingress rule web/a/u/ingress/0)");
  assert.equal(describeCookie(cookie), "round 1, policy, id 2");
});
