import assert from "node:assert/strict";
import { test } from "node:test";
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, supportedFieldsFor } from "../../apiserver/selectors.ts";
import { ApiStatusError } from "../../apiserver/status.ts";

// Expected results follow the label selector rules of the Kubernetes documentation
// ("Labels and Selectors"): != and notin also match objects without the key.
const LABEL_CASES: { selector: string; labels: Record<string, string>; matches: boolean }[] = [
  { selector: "", labels: {}, matches: true },
  { selector: "app=web", labels: { app: "web" }, matches: true },
  { selector: "app==web", labels: { app: "web" }, matches: true },
  { selector: "app=web", labels: { app: "db" }, matches: false },
  { selector: "app=web", labels: {}, matches: false },
  { selector: "app!=web", labels: { app: "db" }, matches: true },
  { selector: "app!=web", labels: {}, matches: true },
  { selector: "app!=web", labels: { app: "web" }, matches: false },
  { selector: "tier in (front, back)", labels: { tier: "back" }, matches: true },
  { selector: "tier in (front,back)", labels: { tier: "db" }, matches: false },
  { selector: "tier in (front,back)", labels: {}, matches: false },
  { selector: "tier notin (front,back)", labels: { tier: "db" }, matches: true },
  { selector: "tier notin (front,back)", labels: {}, matches: true },
  { selector: "tier notin (front,back)", labels: { tier: "front" }, matches: false },
  { selector: "canary", labels: { canary: "" }, matches: true },
  { selector: "canary", labels: {}, matches: false },
  { selector: "!canary", labels: {}, matches: true },
  { selector: "!canary", labels: { canary: "yes" }, matches: false },
  { selector: "app=web,tier in (front),!canary", labels: { app: "web", tier: "front" }, matches: true },
  { selector: "app=web,tier in (front),!canary", labels: { app: "web", tier: "front", canary: "1" }, matches: false },
  { selector: "example.com/role=edge", labels: { "example.com/role": "edge" }, matches: true },
  { selector: "empty=", labels: { empty: "" }, matches: true },
  { selector: "replicas>2", labels: { replicas: "3" }, matches: true },
  { selector: "replicas<2", labels: { replicas: "3" }, matches: false },
];

for (const { selector, labels, matches } of LABEL_CASES) {
  test(`label selector "${selector}" on ${JSON.stringify(labels)}`, () => {
    assert.equal(matchesLabels(parseLabelSelector(selector), labels), matches);
  });
}

test("label selector rejects bad syntax", () => {
  for (const bad of ["app=web,", "a b c", "app=(x)", "-bad=1", "x in (a b)", "n>abc"]) {
    assert.throws(() => parseLabelSelector(bad), (error: unknown) => error instanceof ApiStatusError && error.code === 400, bad);
  }
});

test("field selector on pod fields", () => {
  const pod = { metadata: { name: "p", namespace: "ns1" }, spec: { nodeName: "n1" }, status: { phase: "Running" } };
  const fields = supportedFieldsFor("Pod");
  assert.equal(matchesFields(parseFieldSelector("spec.nodeName=n1", fields), pod), true);
  assert.equal(matchesFields(parseFieldSelector("spec.nodeName==n2", fields), pod), false);
  assert.equal(matchesFields(parseFieldSelector("status.phase!=Failed,metadata.namespace=ns1", fields), pod), true);
  assert.equal(matchesFields(parseFieldSelector("metadata.name=p,status.phase=Pending", fields), pod), false);
  // An absent field compares as the empty string, so "spec.nodeName=" selects unscheduled pods.
  assert.equal(matchesFields(parseFieldSelector("spec.nodeName=", fields), { metadata: { name: "q" } }), true);
});

test("field selector unescapes values", () => {
  const selector = parseFieldSelector("metadata.name=a\\,b", supportedFieldsFor("Pod"));
  assert.deepEqual(selector, [{ field: "metadata.name", operator: "=", value: "a,b" }]);
});

test("field selector rejects unknown fields", () => {
  assert.throws(
    () => parseFieldSelector("spec.nodeName=n1", supportedFieldsFor("Service")),
    (error: unknown) => error instanceof ApiStatusError && error.code === 400 && error.reason === "BadRequest" && /spec\.nodeName/.test(error.message),
  );
});
