import assert from "node:assert/strict";
import { test } from "node:test";
import type { JsonValue } from "../../apiserver/patch.ts";
import { PATCH_ERROR_CODES, PatchError, applyJsonPatch, applyMergePatch } from "../../apiserver/patch.ts";
import { applyStrategicMergePatch } from "../../apiserver/strategic-merge.ts";

// The test cases of RFC 7386, Appendix A.
const MERGE_CASES: [JsonValue, JsonValue, JsonValue][] = [
  [{ a: "b" }, { a: "c" }, { a: "c" }],
  [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
  [{ a: "b" }, { a: null }, {}],
  [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
  [{ a: ["b"] }, { a: "c" }, { a: "c" }],
  [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
  [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
  [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
  [["a", "b"], ["c", "d"], ["c", "d"]],
  [{ a: "b" }, ["c"], ["c"]],
  [{ a: "foo" }, null, null],
  [{ a: "foo" }, "bar", "bar"],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: "b", c: null }, { a: "b" }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

MERGE_CASES.forEach(([target, patch, expected], index) => {
  test(`merge patch RFC 7386 case ${index + 1}`, () => {
    assert.deepEqual(applyMergePatch(target, patch), expected);
  });
});

// The examples of RFC 6902, Appendix A.
const JSON_PATCH_CASES: { name: string; document: JsonValue; patch: JsonValue; expected: JsonValue }[] = [
  { name: "A.1 add member", document: { foo: "bar" }, patch: [{ op: "add", path: "/baz", value: "qux" }], expected: { baz: "qux", foo: "bar" } },
  { name: "A.2 add element", document: { foo: ["bar", "baz"] }, patch: [{ op: "add", path: "/foo/1", value: "qux" }], expected: { foo: ["bar", "qux", "baz"] } },
  { name: "A.3 remove member", document: { baz: "qux", foo: "bar" }, patch: [{ op: "remove", path: "/baz" }], expected: { foo: "bar" } },
  { name: "A.4 remove element", document: { foo: ["bar", "qux", "baz"] }, patch: [{ op: "remove", path: "/foo/1" }], expected: { foo: ["bar", "baz"] } },
  { name: "A.5 replace", document: { baz: "qux", foo: "bar" }, patch: [{ op: "replace", path: "/baz", value: "boo" }], expected: { baz: "boo", foo: "bar" } },
  {
    name: "A.6 move member",
    document: { foo: { bar: "baz", waldo: "fred" }, qux: { corge: "grault" } },
    patch: [{ op: "move", from: "/foo/waldo", path: "/qux/thud" }],
    expected: { foo: { bar: "baz" }, qux: { corge: "grault", thud: "fred" } },
  },
  { name: "A.7 move element", document: { foo: ["all", "grass", "cows", "eat"] }, patch: [{ op: "move", from: "/foo/1", path: "/foo/3" }], expected: { foo: ["all", "cows", "eat", "grass"] } },
  {
    name: "A.8 test success",
    document: { baz: "qux", foo: ["a", 2, "c"] },
    patch: [{ op: "test", path: "/baz", value: "qux" }, { op: "test", path: "/foo/1", value: 2 }],
    expected: { baz: "qux", foo: ["a", 2, "c"] },
  },
  { name: "A.10 add nested", document: { foo: "bar" }, patch: [{ op: "add", path: "/child", value: { grandchild: {} } }], expected: { foo: "bar", child: { grandchild: {} } } },
  { name: "A.14 escaped pointer", document: { "/": 9, "~1": 10 }, patch: [{ op: "test", path: "/~01", value: 10 }], expected: { "/": 9, "~1": 10 } },
  { name: "A.16 append array value", document: { foo: ["bar"] }, patch: [{ op: "add", path: "/foo/-", value: ["abc", "def"] }], expected: { foo: ["bar", ["abc", "def"]] } },
  { name: "copy", document: { a: { b: 1 } }, patch: [{ op: "copy", from: "/a", path: "/c" }], expected: { a: { b: 1 }, c: { b: 1 } } },
];

for (const { name, document, patch, expected } of JSON_PATCH_CASES) {
  test(`JSON patch RFC 6902 ${name}`, () => {
    assert.deepEqual(applyJsonPatch(document, patch), expected);
  });
}

test("JSON patch failed test is all-or-nothing", () => {
  const document = { baz: "qux", list: [1] };
  assert.throws(
    () => applyJsonPatch(document, [{ op: "add", path: "/list/-", value: 2 }, { op: "test", path: "/baz", value: "bar" }]),
    (error: unknown) => error instanceof PatchError && error.code === PATCH_ERROR_CODES.testFailed,
  );
  assert.deepEqual(document, { baz: "qux", list: [1] });
});

test("JSON patch missing target", () => {
  // RFC 6902 A.12: adding to a nonexistent parent is an error.
  assert.throws(() => applyJsonPatch({ foo: "bar" }, [{ op: "add", path: "/baz/bat", value: "qux" }]), (error: unknown) => error instanceof PatchError && error.code === PATCH_ERROR_CODES.pathMissing);
  assert.throws(() => applyJsonPatch({ foo: "bar" }, [{ op: "remove", path: "/nope" }]), (error: unknown) => error instanceof PatchError && error.code === PATCH_ERROR_CODES.pathMissing);
  assert.throws(() => applyJsonPatch({ foo: "bar" }, [{ op: "jump", path: "/foo" }]), (error: unknown) => error instanceof PatchError && error.code === PATCH_ERROR_CODES.malformed);
});

// Strategic merge expectations follow the Kubernetes task page "Update API
// Objects in Place Using kubectl patch": containers merge by name,
// tolerations (no patch strategy) are replaced, finalizers merge as a set.
function asJson(value: unknown): JsonValue {
  return value as JsonValue;
}

const POD = {
  metadata: { name: "p", finalizers: ["a/x"], labels: { app: "web" } },
  spec: {
    containers: [
      { name: "web", image: "nginx", ports: [{ containerPort: 80, protocol: "TCP" }], env: [{ name: "A", value: "1" }] },
      { name: "log", image: "fluentd" },
    ],
    tolerations: [{ key: "k1", operator: "Exists" }],
  },
};

test("strategic patch merges containers by name", () => {
  const patched = applyStrategicMergePatch(asJson(POD), { spec: { containers: [{ name: "web", image: "nginx:2" }, { name: "extra", image: "busybox" }] } }, "Pod") as typeof POD;
  assert.deepEqual(patched.spec.containers.map((c) => `${c.name}=${c.image}`), ["web=nginx:2", "log=fluentd", "extra=busybox"]);
  assert.deepEqual(patched.spec.containers[0]?.ports, [{ containerPort: 80, protocol: "TCP" }], "fields not in the patch stay");
});

test("strategic patch replaces lists without strategy", () => {
  const patched = applyStrategicMergePatch(asJson(POD), { spec: { tolerations: [{ key: "k2", operator: "Exists" }] } }, "Pod") as typeof POD;
  assert.deepEqual(patched.spec.tolerations, [{ key: "k2", operator: "Exists" }]);
});

test("strategic patch merges nested keyed lists", () => {
  const patched = applyStrategicMergePatch(
    asJson(POD),
    { spec: { containers: [{ name: "web", ports: [{ containerPort: 443 }], env: [{ name: "A", value: "2" }, { name: "B", value: "3" }] }] } },
    "Pod",
  ) as typeof POD;
  const web = patched.spec.containers[0];
  assert.deepEqual(web?.ports, [{ containerPort: 80, protocol: "TCP" }, { containerPort: 443 }]);
  assert.deepEqual(web?.env, [{ name: "A", value: "2" }, { name: "B", value: "3" }]);
});

test("strategic patch directives", () => {
  const deleted = applyStrategicMergePatch(asJson(POD), { spec: { containers: [{ name: "log", $patch: "delete" }] } }, "Pod") as typeof POD;
  assert.deepEqual(deleted.spec.containers.map((c) => c.name), ["web"]);

  const replaced = applyStrategicMergePatch(asJson(POD), { spec: { containers: [{ $patch: "replace" }, { name: "only", image: "x" }] } }, "Pod") as typeof POD;
  assert.deepEqual(replaced.spec.containers, [{ name: "only", image: "x" }]);

  const ordered = applyStrategicMergePatch(asJson(POD), { spec: { "$setElementOrder/containers": [{ name: "log" }, { name: "web" }], containers: [{ name: "web", image: "nginx:3" }] } }, "Pod") as typeof POD;
  assert.deepEqual(ordered.spec.containers.map((c) => `${c.name}=${c.image}`), ["log=fluentd", "web=nginx:3"]);

  const retained = applyStrategicMergePatch({ spec: { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } } }, { spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } }, "Deployment");
  assert.deepEqual(retained, { spec: { strategy: { type: "Recreate" } } });

  const mapReplaced = applyStrategicMergePatch(asJson(POD), { metadata: { labels: { $patch: "replace", tier: "db" } } }, "Pod") as typeof POD;
  assert.deepEqual(mapReplaced.metadata.labels, { tier: "db" });
});

test("strategic patch finalizers as a set", () => {
  const added = applyStrategicMergePatch(asJson(POD), { metadata: { finalizers: ["a/x", "b/y"] } }, "Pod") as typeof POD;
  assert.deepEqual(added.metadata.finalizers, ["a/x", "b/y"]);
  const removed = applyStrategicMergePatch(asJson(added), { metadata: { "$deleteFromPrimitiveList/finalizers": ["a/x"] } }, "Pod") as typeof POD;
  assert.deepEqual(removed.metadata.finalizers, ["b/y"]);
});

test("strategic patch keeps input intact", () => {
  const before = structuredClone(POD);
  applyStrategicMergePatch(asJson(POD), { spec: { containers: [{ name: "web", image: "changed" }] }, metadata: { labels: null } }, "Pod");
  assert.deepEqual(POD, before);
});

test("strategic patch rejects element without key", () => {
  assert.throws(() => applyStrategicMergePatch(asJson(POD), { spec: { containers: [{ image: "x" }] } }, "Pod"), (error: unknown) => error instanceof PatchError && error.code === PATCH_ERROR_CODES.malformed);
});
