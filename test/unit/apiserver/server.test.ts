/** API semantics of the local API server over HTTP: expected values follow the Kubernetes API conventions. */

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { ApiServer, ApiServerOptions } from "../../apiserver/index.ts";
import { startApiServer } from "../../apiserver/index.ts";
import type { Json } from "./client.ts";
import { call, openWatch, podBody } from "./client.ts";

const PODS = "/api/v1/namespaces/default/pods";

async function server(t: { after: (fn: () => Promise<void>) => void }, options: ApiServerOptions = {}): Promise<ApiServer> {
  const started = await startApiServer(options);
  t.after(() => started.close());
  return started;
}

async function waitForEvents(events: Json[], count: number): Promise<void> {
  const deadline = Date.now() + 3000;
  while (events.length < count) {
    if (Date.now() > deadline) throw new Error(`expected ${count} watch events, got ${JSON.stringify(events)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function assertStatus(body: Json, code: number, reason: string): void {
  assert.equal(body.kind, "Status");
  assert.equal(body.apiVersion, "v1");
  assert.equal(body.status, "Failure");
  assert.equal(body.code, code);
  assert.equal(body.reason, reason);
  assert.equal(typeof body.message, "string");
}

test("create sets server metadata", async (t) => {
  const api = await server(t);
  const created = await call(api.url, "POST", PODS, { body: podBody("p1") });
  assert.equal(created.status, 201);
  const meta = created.body.metadata;
  assert.match(meta.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.match(meta.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(typeof meta.resourceVersion, "string");
  assert.equal(meta.generation, 1);
  assert.equal(meta.namespace, "default");
  assert.equal(created.body.status.phase, "Pending");

  const duplicate = await call(api.url, "POST", PODS, { body: podBody("p1") });
  assert.equal(duplicate.status, 409);
  assertStatus(duplicate.body, 409, "AlreadyExists");
  assert.equal(duplicate.body.message, 'pods "p1" already exists');
  assert.deepEqual(duplicate.body.details, { name: "p1", group: "", kind: "pods" });
});

test("create needs an existing namespace", async (t) => {
  const api = await server(t);
  const response = await call(api.url, "POST", "/api/v1/namespaces/nowhere/pods", { body: podBody("p1") });
  assert.equal(response.status, 404);
  assertStatus(response.body, 404, "NotFound");
  assert.equal(response.body.message, 'namespaces "nowhere" not found');
});

test("create with generateName", async (t) => {
  const api = await server(t);
  const response = await call(api.url, "POST", PODS, { body: { metadata: { generateName: "web-" }, spec: { containers: [] } } });
  assert.equal(response.status, 201);
  // k8s.io/apiserver appends 5 characters from "bcdfghjklmnpqrstvwxz2456789".
  assert.match(response.body.metadata.name, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.equal(response.body.kind, "Pod", "kind is filled in from the URL");
  const missing = await call(api.url, "POST", PODS, { body: { metadata: {} } });
  assert.equal(missing.status, 422);
  assertStatus(missing.body, 422, "Invalid");
});

test("create rejects invalid names", async (t) => {
  const api = await server(t);
  const response = await call(api.url, "POST", PODS, { body: podBody("Bad_Name") });
  assert.equal(response.status, 422);
  assertStatus(response.body, 422, "Invalid");
  assert.equal(response.body.details.causes[0].field, "metadata.name");
});

test("update with stale version conflicts", async (t) => {
  const api = await server(t);
  const created = (await call(api.url, "POST", PODS, { body: podBody("p1") })).body;
  const first = structuredClone(created);
  first.metadata.labels = { a: "1" };
  const updated = await call(api.url, "PUT", `${PODS}/p1`, { body: first });
  assert.equal(updated.status, 200);
  assert.notEqual(updated.body.metadata.resourceVersion, created.metadata.resourceVersion);

  const stale = structuredClone(created);
  stale.metadata.labels = { a: "2" };
  const conflict = await call(api.url, "PUT", `${PODS}/p1`, { body: stale });
  assert.equal(conflict.status, 409);
  assertStatus(conflict.body, 409, "Conflict");
  assert.equal(conflict.body.message, 'Operation cannot be fulfilled on pods "p1": the object has been modified; please apply your changes to the latest version and try again');

  const stalePatch = await call(api.url, "PATCH", `${PODS}/p1`, { body: { metadata: { resourceVersion: created.metadata.resourceVersion, labels: { a: "3" } } }, contentType: "application/merge-patch+json" });
  assert.equal(stalePatch.status, 409);

  const current = (await call(api.url, "GET", `${PODS}/p1`)).body;
  assert.deepEqual(current.metadata.labels, { a: "1" });
});

test("no-op update keeps version", async (t) => {
  const api = await server(t);
  const created = (await call(api.url, "POST", PODS, { body: podBody("p1") })).body;
  const again = await call(api.url, "PUT", `${PODS}/p1`, { body: created });
  assert.equal(again.status, 200);
  assert.equal(again.body.metadata.resourceVersion, created.metadata.resourceVersion);
});

test("patch content types", async (t) => {
  const api = await server(t);
  await call(api.url, "POST", PODS, { body: podBody("p1", { app: "web" }) });
  const merge = await call(api.url, "PATCH", `${PODS}/p1`, { body: { metadata: { labels: { tier: "front", app: null } } }, contentType: "application/merge-patch+json" });
  assert.equal(merge.status, 200);
  assert.deepEqual(merge.body.metadata.labels, { tier: "front" });

  const json = await call(api.url, "PATCH", `${PODS}/p1`, { body: [{ op: "add", path: "/metadata/annotations", value: { note: "x" } }], contentType: "application/json-patch+json" });
  assert.equal(json.status, 200);
  assert.deepEqual(json.body.metadata.annotations, { note: "x" });

  const strategic = await call(api.url, "PATCH", `${PODS}/p1`, { body: { spec: { containers: [{ name: "side", image: "x" }] } }, contentType: "application/strategic-merge-patch+json" });
  assert.equal(strategic.status, 200);
  assert.deepEqual(strategic.body.spec.containers.map((c: Json) => c.name), ["c", "side"]);

  const failedTest = await call(api.url, "PATCH", `${PODS}/p1`, { body: [{ op: "test", path: "/metadata/name", value: "other" }], contentType: "application/json-patch+json" });
  assert.equal(failedTest.status, 422);
  assertStatus(failedTest.body, 422, "Invalid");

  const apply = await call(api.url, "PATCH", `${PODS}/p1`, { body: {}, contentType: "application/apply-patch+yaml" });
  assert.equal(apply.status, 415);
  assertStatus(apply.body, 415, "UnsupportedMediaType");

  const missing = await call(api.url, "PATCH", `${PODS}/nope`, { body: {}, contentType: "application/merge-patch+json" });
  assert.equal(missing.status, 404);
});

test("status subresource isolation", async (t) => {
  const api = await server(t);
  const created = (await call(api.url, "POST", PODS, { body: { ...podBody("p1"), status: { phase: "Running" } } })).body;
  assert.equal(created.status.phase, "Pending", "create ignores the request's pod status");

  const statusWrite = await call(api.url, "PATCH", `${PODS}/p1/status`, {
    body: { status: { phase: "Running", podIP: "10.1.0.5" }, spec: { nodeName: "sneaky" } },
    contentType: "application/merge-patch+json",
  });
  assert.equal(statusWrite.status, 200);
  assert.equal(statusWrite.body.status.phase, "Running");
  assert.equal(statusWrite.body.spec.nodeName, undefined, "a status write leaves spec alone");
  assert.equal(statusWrite.body.metadata.generation, 1, "a status write does not bump generation");

  const mainWrite = await call(api.url, "PATCH", `${PODS}/p1`, { body: { status: { phase: "Failed" }, spec: { nodeName: "n1" } }, contentType: "application/merge-patch+json" });
  assert.equal(mainWrite.status, 200);
  assert.equal(mainWrite.body.status.phase, "Running", "a main-resource write keeps the stored status");
  assert.equal(mainWrite.body.spec.nodeName, "n1");
  assert.equal(mainWrite.body.metadata.generation, 2, "a spec change bumps generation");

  const current = (await call(api.url, "GET", `${PODS}/p1/status`)).body;
  const put = structuredClone(current);
  put.status.phase = "Succeeded";
  put.spec.nodeName = "n2";
  const statusPut = await call(api.url, "PUT", `${PODS}/p1/status`, { body: put });
  assert.equal(statusPut.body.status.phase, "Succeeded");
  assert.equal(statusPut.body.spec.nodeName, "n1");

  const noStatus = await call(api.url, "GET", "/api/v1/namespaces/default/serviceaccounts/x/status");
  assert.equal(noStatus.status, 404, "ServiceAccounts have no status subresource");
});

test("list pagination is a snapshot", async (t) => {
  const api = await server(t);
  for (const name of ["p1", "p2", "p3", "p4", "p5"]) {
    await call(api.url, "POST", PODS, { body: podBody(name) });
  }
  const page1 = (await call(api.url, "GET", `${PODS}?limit=2`)).body;
  assert.equal(page1.kind, "PodList");
  assert.equal(page1.apiVersion, "v1");
  assert.deepEqual(page1.items.map((p: Json) => p.metadata.name), ["p1", "p2"]);
  assert.equal(page1.metadata.remainingItemCount, 3);
  assert.equal(typeof page1.metadata.continue, "string");

  // Changes after the first page do not show in later pages of the same list.
  await call(api.url, "DELETE", `${PODS}/p3`);
  await call(api.url, "POST", PODS, { body: podBody("p6") });
  const page2 = (await call(api.url, "GET", `${PODS}?limit=2&continue=${encodeURIComponent(page1.metadata.continue)}`)).body;
  assert.deepEqual(page2.items.map((p: Json) => p.metadata.name), ["p3", "p4"]);
  assert.equal(page2.metadata.resourceVersion, page1.metadata.resourceVersion);
  const page3 = (await call(api.url, "GET", `${PODS}?limit=2&continue=${encodeURIComponent(page2.metadata.continue)}`)).body;
  assert.deepEqual(page3.items.map((p: Json) => p.metadata.name), ["p5"]);
  assert.equal(page3.metadata.continue, undefined);

  api.compact();
  const expired = await call(api.url, "GET", `${PODS}?limit=2&continue=${encodeURIComponent(page1.metadata.continue)}`);
  assert.equal(expired.status, 410);
  assertStatus(expired.body, 410, "Expired");

  const bogus = await call(api.url, "GET", `${PODS}?continue=garbage`);
  assert.equal(bogus.status, 400);
});

test("list selectors and items", async (t) => {
  const api = await server(t);
  await call(api.url, "POST", PODS, { body: { ...podBody("a", { app: "web" }), spec: { nodeName: "n1", containers: [] } } });
  await call(api.url, "POST", PODS, { body: { ...podBody("b", { app: "db" }), spec: { nodeName: "n2", containers: [] } } });
  const byLabel = (await call(api.url, "GET", `${PODS}?labelSelector=${encodeURIComponent("app in (web)")}`)).body;
  assert.deepEqual(byLabel.items.map((p: Json) => p.metadata.name), ["a"]);
  assert.equal(byLabel.items[0].kind, undefined, "built-in list items carry no kind, as on a real server");
  const byField = (await call(api.url, "GET", `/api/v1/pods?fieldSelector=${encodeURIComponent("spec.nodeName=n2")}`)).body;
  assert.deepEqual(byField.items.map((p: Json) => p.metadata.name), ["b"]);
  const bad = await call(api.url, "GET", `${PODS}?fieldSelector=spec.bogus%3D1`);
  assert.equal(bad.status, 400);
  assertStatus(bad.body, 400, "BadRequest");
});

test("exact list of a past version", async (t) => {
  const api = await server(t, { historySize: 4 });
  const first = (await call(api.url, "POST", PODS, { body: podBody("p1") })).body;
  await call(api.url, "POST", PODS, { body: podBody("p2") });
  await call(api.url, "DELETE", `${PODS}/p1`);
  const past = (await call(api.url, "GET", `${PODS}?resourceVersion=${first.metadata.resourceVersion}&resourceVersionMatch=Exact`)).body;
  assert.deepEqual(past.items.map((p: Json) => p.metadata.name), ["p1"]);
  assert.equal(past.metadata.resourceVersion, first.metadata.resourceVersion);

  // Five more writes push p1's creation out of a history of four.
  for (const name of ["q1", "q2", "q3", "q4", "q5"]) await call(api.url, "POST", PODS, { body: podBody(name) });
  const compacted = await call(api.url, "GET", `${PODS}?resourceVersion=${first.metadata.resourceVersion}&resourceVersionMatch=Exact`);
  assert.equal(compacted.status, 410);
  assertStatus(compacted.body, 410, "Expired");
});

test("watch from version replays", async (t) => {
  const api = await server(t);
  const list = (await call(api.url, "GET", PODS)).body;
  await call(api.url, "POST", PODS, { body: podBody("p1") });
  await call(api.url, "DELETE", `${PODS}/p1`);
  const watch = openWatch(api.url, `${PODS}?watch=1&resourceVersion=${list.metadata.resourceVersion}`);
  t.after(() => watch.stop());
  const headers = await watch.headers;
  assert.equal(headers.get("content-type"), "application/json");
  assert.equal(headers.get("transfer-encoding"), "chunked");
  await waitForEvents(watch.events, 2);
  assert.deepEqual(watch.events.map((e) => `${e.type} ${e.object.metadata.name}`), ["ADDED p1", "DELETED p1"]);
  assert.equal(watch.events[0]?.object.kind, "Pod");
});

test("watch without version lists first", async (t) => {
  const api = await server(t);
  await call(api.url, "POST", PODS, { body: podBody("old") });
  const watch = openWatch(api.url, `${PODS}?watch=true`);
  t.after(() => watch.stop());
  await waitForEvents(watch.events, 1);
  await call(api.url, "POST", PODS, { body: podBody("new") });
  await waitForEvents(watch.events, 2);
  assert.deepEqual(watch.events.map((e) => `${e.type} ${e.object.metadata.name}`), ["ADDED old", "ADDED new"]);
});

test("watch after compaction gets 410", async (t) => {
  const api = await server(t);
  const first = (await call(api.url, "POST", PODS, { body: podBody("p1") })).body;
  await call(api.url, "POST", PODS, { body: podBody("p2") });
  api.compact();
  const watch = openWatch(api.url, `${PODS}?watch=true&resourceVersion=${first.metadata.resourceVersion}`);
  await watch.ended;
  assert.equal(watch.events.length, 1);
  assert.equal(watch.events[0]?.type, "ERROR");
  assertStatus(watch.events[0]?.object, 410, "Expired");
});

test("watch selector exit is DELETED", async (t) => {
  const api = await server(t);
  await call(api.url, "POST", PODS, { body: podBody("p1", { app: "web" }) });
  const watch = openWatch(api.url, `${PODS}?watch=true&labelSelector=app%3Dweb`);
  t.after(() => watch.stop());
  await waitForEvents(watch.events, 1);
  const relabel = (labels: Json) => call(api.url, "PATCH", `${PODS}/p1`, { body: { metadata: { labels } }, contentType: "application/merge-patch+json" });
  await relabel({ app: "db" });
  await relabel({ app: "web" });
  await relabel({ app: "web", x: "1" });
  await waitForEvents(watch.events, 4);
  assert.deepEqual(watch.events.map((e) => e.type), ["ADDED", "DELETED", "ADDED", "MODIFIED"]);
});

test("watch single object by name", async (t) => {
  const api = await server(t);
  await call(api.url, "POST", PODS, { body: podBody("p1") });
  await call(api.url, "POST", PODS, { body: podBody("p2") });
  const watch = openWatch(api.url, `${PODS}?watch=true&fieldSelector=metadata.name%3Dp2`);
  t.after(() => watch.stop());
  await waitForEvents(watch.events, 1);
  await call(api.url, "DELETE", `${PODS}/p1`);
  await call(api.url, "DELETE", `${PODS}/p2`);
  await waitForEvents(watch.events, 2);
  assert.deepEqual(watch.events.map((e) => `${e.type} ${e.object.metadata.name}`), ["ADDED p2", "DELETED p2"]);
});

test("watch timeout and bookmarks", async (t) => {
  const api = await server(t, { bookmarkIntervalMs: 100 });
  const started = Date.now();
  const watch = openWatch(api.url, `${PODS}?watch=true&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=${api.store.revision}`);
  await watch.ended;
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 900, `the watch ended early, after ${elapsed} ms`);
  assert.ok(elapsed < 2500, `the watch ended late, after ${elapsed} ms`);
  const bookmarks = watch.events.filter((e) => e.type === "BOOKMARK");
  // Ten are due in 1 s at 100 ms; three leaves room for a loaded machine.
  assert.ok(bookmarks.length >= 3, `${bookmarks.length} bookmarks in 1 s at 100 ms`);
  assert.deepEqual(bookmarks[0]?.object, { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: String(api.store.revision) } });
});

test("sendInitialEvents ends with a bookmark", async (t) => {
  const api = await server(t);
  await call(api.url, "POST", PODS, { body: podBody("p1") });
  const watch = openWatch(api.url, `${PODS}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`);
  t.after(() => watch.stop());
  await waitForEvents(watch.events, 2);
  assert.equal(watch.events[0]?.type, "ADDED");
  assert.equal(watch.events[1]?.type, "BOOKMARK");
  assert.equal(watch.events[1]?.object.metadata.annotations["k8s.io/initial-events-end"], "true");
});

test("namespace delete removes contents", async (t) => {
  const api = await server(t);
  await call(api.url, "POST", "/api/v1/namespaces", { body: { metadata: { name: "team" } } });
  await call(api.url, "POST", "/api/v1/namespaces/team/pods", { body: podBody("p1") });
  await call(api.url, "POST", "/apis/networking.k8s.io/v1/namespaces/team/networkpolicies", { body: { metadata: { name: "np" }, spec: { podSelector: {} } } });
  const deleted = await call(api.url, "DELETE", "/api/v1/namespaces/team");
  assert.equal(deleted.status, 200);
  assert.equal(deleted.body.kind, "Namespace");
  assert.equal((await call(api.url, "GET", "/api/v1/namespaces/team/pods/p1")).status, 404);
  assert.equal((await call(api.url, "GET", "/apis/networking.k8s.io/v1/namespaces/team/networkpolicies/np")).status, 404);
});

test("delete preconditions", async (t) => {
  const api = await server(t);
  const created = (await call(api.url, "POST", PODS, { body: podBody("p1") })).body;
  const wrong = await call(api.url, "DELETE", `${PODS}/p1`, { body: { kind: "DeleteOptions", apiVersion: "v1", preconditions: { resourceVersion: "1" } } });
  assert.equal(wrong.status, 409);
  const right = await call(api.url, "DELETE", `${PODS}/p1`, { body: { preconditions: { uid: created.metadata.uid } } });
  assert.equal(right.status, 200);
  assert.equal(right.body.metadata.name, "p1");
});

test("errors for unknown paths and methods", async (t) => {
  const api = await server(t);
  const unknown = await call(api.url, "GET", "/api/v1/widgets");
  assert.equal(unknown.status, 404);
  assertStatus(unknown.body, 404, "NotFound");
  const put = await call(api.url, "PUT", PODS, { body: {} });
  assert.equal(put.status, 405);
  assertStatus(put.body, 405, "MethodNotAllowed");
  const notJson = await fetch(`${api.url}${PODS}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{" });
  assert.equal(notJson.status, 400);
});

test("discovery lists resources", async (t) => {
  const api = await server(t, { customResources: [{ group: "example.com", version: "v1alpha1", kind: "Widget", plural: "widgets", singular: "widget", namespaced: false, shortNames: ["wd"] }] });
  const core = (await call(api.url, "GET", "/api/v1")).body;
  const pods = core.resources.find((r: Json) => r.name === "pods");
  assert.deepEqual(pods.shortNames, ["po"]);
  assert.equal(pods.namespaced, true);
  assert.ok(pods.verbs.includes("watch"));
  assert.ok(core.resources.some((r: Json) => r.name === "pods/status"));
  const groups = (await call(api.url, "GET", "/apis")).body;
  assert.deepEqual(groups.groups.map((g: Json) => g.name), ["discovery.k8s.io", "networking.k8s.io", "example.com"]);
  const widgets = (await call(api.url, "GET", "/apis/example.com/v1alpha1")).body;
  assert.deepEqual(widgets.resources[0], { name: "widgets", singularName: "widget", namespaced: false, kind: "Widget", verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"], shortNames: ["wd"] });
  const created = await call(api.url, "POST", "/apis/example.com/v1alpha1/widgets", { body: { apiVersion: "example.com/v1alpha1", kind: "Widget", metadata: { name: "w1" }, spec: { size: 3 } } });
  assert.equal(created.status, 201);
  const listed = (await call(api.url, "GET", "/apis/example.com/v1alpha1/widgets")).body;
  assert.equal(listed.items[0].kind, "Widget", "custom resource list items keep kind");
  const strategic = await call(api.url, "PATCH", "/apis/example.com/v1alpha1/widgets/w1", { body: {}, contentType: "application/strategic-merge-patch+json" });
  assert.equal(strategic.status, 415, "custom resources take no strategic merge patch");
  const version = (await call(api.url, "GET", "/version")).body;
  assert.equal(version.major, "1");
  assert.equal(version.minor, "32");
});

test("state file survives restart", async (t) => {
  const folder = await mkdtemp(join(tmpdir(), "sya-state-"));
  t.after(() => rm(folder, { recursive: true, force: true }));
  const stateFile = join(folder, "state.json");

  const first = await startApiServer({ stateFile, stateWriteDelayMs: 10 });
  const created = (await call(first.url, "POST", PODS, { body: podBody("keep", { app: "web" }) })).body;
  await call(first.url, "POST", "/api/v1/nodes", { body: { metadata: { name: "n1" }, status: { capacity: { pods: "110" } } } });
  const versionBefore = first.store.revision;
  await first.close();
  const onDisk = JSON.parse(await readFile(stateFile, "utf8")) as Json;
  assert.equal(onDisk.revision, versionBefore);

  const second = await startApiServer({ stateFile });
  t.after(() => second.close());
  const pod = (await call(second.url, "GET", `${PODS}/keep`)).body;
  assert.equal(pod.metadata.uid, created.metadata.uid);
  assert.equal(pod.metadata.resourceVersion, created.metadata.resourceVersion);
  assert.equal((await call(second.url, "GET", "/api/v1/nodes/n1")).body.status.capacity.pods, "110");
  const list = (await call(second.url, "GET", PODS)).body;
  assert.equal(list.metadata.resourceVersion, String(versionBefore), "the counter continues where it stopped");
  const next = (await call(second.url, "POST", PODS, { body: podBody("later") })).body;
  assert.equal(Number(next.metadata.resourceVersion), versionBefore + 1);

  // History does not survive a restart, so watches from before it get 410.
  const watch = openWatch(second.url, `${PODS}?watch=true&resourceVersion=${created.metadata.resourceVersion}`);
  await watch.ended;
  assert.equal(watch.events[0]?.object.code, 410);
});

test("deletecollection with selector", async (t) => {
  const api = await server(t);
  await call(api.url, "POST", PODS, { body: podBody("a", { app: "web" }) });
  await call(api.url, "POST", PODS, { body: podBody("b", { app: "web" }) });
  await call(api.url, "POST", PODS, { body: podBody("c", { app: "db" }) });
  const deleted = await call(api.url, "DELETE", `${PODS}?labelSelector=app%3Dweb`);
  assert.equal(deleted.status, 200);
  assert.equal(deleted.body.kind, "PodList");
  assert.deepEqual(deleted.body.items.map((p: Json) => p.metadata.name), ["a", "b"]);
  const left = (await call(api.url, "GET", PODS)).body;
  assert.deepEqual(left.items.map((p: Json) => p.metadata.name), ["c"]);
});

test("dry run stores nothing", async (t) => {
  const api = await server(t);
  const before = api.store.revision;
  const created = await call(api.url, "POST", `${PODS}?dryRun=All`, { body: podBody("p1") });
  assert.equal(created.status, 201);
  assert.equal(created.body.metadata.name, "p1");
  assert.equal((await call(api.url, "GET", `${PODS}/p1`)).status, 404);
  assert.equal(api.store.revision, before);
});

test("finalizers delay deletion", async (t) => {
  const api = await server(t);
  await call(api.url, "POST", PODS, { body: { ...podBody("p1"), metadata: { name: "p1", finalizers: ["example.com/cleanup"] } } });
  const marked = await call(api.url, "DELETE", `${PODS}/p1`);
  assert.equal(marked.status, 200);
  assert.match(marked.body.metadata.deletionTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const still = await call(api.url, "GET", `${PODS}/p1`);
  assert.equal(still.status, 200, "the object stays while it has a finalizer");
  const again = await call(api.url, "DELETE", `${PODS}/p1`);
  assert.equal(again.body.metadata.resourceVersion, marked.body.metadata.resourceVersion, "a second delete changes nothing");

  const released = await call(api.url, "PATCH", `${PODS}/p1`, { body: { metadata: { finalizers: null } }, contentType: "application/merge-patch+json" });
  assert.equal(released.status, 200);
  assert.equal((await call(api.url, "GET", `${PODS}/p1`)).status, 404, "removing the last finalizer completes the delete");
});
