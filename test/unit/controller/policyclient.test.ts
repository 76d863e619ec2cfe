import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { CacheError, loadCachedState, saveCachedState } from "../../../agent/policyclient/cache.ts";
import { canonicalJson, diffSlices } from "../../../agent/policyclient/diff.ts";
import type { AddressGroup, AppliedToGroup, InternalPolicy, NodeSlice } from "../../../controller/networkpolicy/types.ts";

const SELECTOR = { namespace: "shop", namespaceSelector: null, podSelector: [] };

function policy(name: string, rulesPort: number): InternalPolicy {
  return {
    id: `shop/${name}/uid-${name}`,
    namespace: "shop",
    name,
    uid: `uid-${name}`,
    appliedToGroup: "a1",
    policyTypes: ["Ingress"],
    rules: [{ id: `shop/${name}/uid-${name}/ingress/0`, direction: "Ingress", index: 0, peers: { addressGroups: ["g1"], ipBlocks: [] }, ports: [{ protocol: "TCP", port: rulesPort }] }],
  };
}

function addressGroup(id: string, ips: string[]): AddressGroup {
  return { id, selector: SELECTOR, members: ips.map((ip) => ({ ip, namedPorts: [] })) };
}

function appliedGroup(id: string, pods: [string, string][]): AppliedToGroup {
  return { id, selector: SELECTOR, members: pods.map(([name, ip]) => ({ namespace: "shop", name, ips: [ip], namedPorts: [] })) };
}

function slice(generation: number, parts: Partial<NodeSlice>): NodeSlice {
  return { nodeName: "n1", generation, policies: [], addressGroups: [], appliedToGroups: [], ...parts };
}

describe("slice diff", () => {
  it("orders additions before removals", () => {
    const before = slice(4, {
      policies: [policy("keep", 80), policy("drop", 80), policy("change", 80)],
      addressGroups: [addressGroup("g1", ["10.0.0.1", "10.0.0.2"]), addressGroup("gone", ["10.9.9.9"])],
      appliedToGroups: [appliedGroup("a1", [["web-1", "10.0.1.1"], ["web-2", "10.0.1.2"]])],
    });
    const after = slice(9, {
      policies: [policy("keep", 80), policy("change", 443), policy("new", 80)],
      addressGroups: [addressGroup("g1", ["10.0.0.2", "10.0.0.3"]), addressGroup("g2", ["10.0.0.4"])],
      appliedToGroups: [appliedGroup("a1", [["web-1", "10.0.1.1"], ["web-2", "10.0.1.22"]])],
    });

    const events = diffSlices(before, after);
    // Expected list written from the ordering rule: groups added, members removed, members
    // added, policies added or updated, policies removed, groups removed.
    assert.deepEqual(
      events.map((e) => [e.type, e.generation]),
      [
        ["AddressGroupAdded", 9],
        ["AddressGroupMembersRemoved", 9],
        ["AppliedToGroupMembersRemoved", 9],
        ["AddressGroupMembersAdded", 9],
        ["AppliedToGroupMembersAdded", 9],
        ["PolicyUpdated", 9],
        ["PolicyAdded", 9],
        ["PolicyRemoved", 9],
        ["AddressGroupRemoved", 9],
      ],
    );

    const membersRemoved = events[1];
    assert.ok(membersRemoved?.type === "AddressGroupMembersRemoved");
    assert.deepEqual(membersRemoved.members, [{ ip: "10.0.0.1", namedPorts: [] }]);
    const podRemoved = events[2];
    assert.ok(podRemoved?.type === "AppliedToGroupMembersRemoved");
    assert.deepEqual(podRemoved.members, [{ namespace: "shop", name: "web-2", ips: ["10.0.1.2"], namedPorts: [] }]);
    const removedPolicy = events[7];
    assert.ok(removedPolicy?.type === "PolicyRemoved");
    assert.equal(removedPolicy.policyId, "shop/drop/uid-drop");
  });

  it("finds nothing between equal slices built in another key order", () => {
    const a = slice(3, { policies: [policy("p", 80)] });
    const reordered = JSON.parse(canonicalJson(a)) as NodeSlice;
    assert.deepEqual(diffSlices(a, reordered), []);
  });

  it("empties a slice with removals only", () => {
    const before = slice(2, { policies: [policy("p", 80)], addressGroups: [addressGroup("g1", ["10.0.0.1"])], appliedToGroups: [appliedGroup("a1", [])] });
    assert.deepEqual(
      diffSlices(before, slice(0, {})).map((e) => e.type),
      ["PolicyRemoved", "AddressGroupRemoved", "AppliedToGroupRemoved"],
    );
  });
});

describe("policy cache file", () => {
  it("round-trips and leaves no temporary file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "syc-cache-"));
    try {
      const path = join(dir, "sub", "slice.json");
      const state = { nodeName: "n1", controllerInstance: "i-1", slice: slice(7, { policies: [policy("p", 80)] }) };
      await saveCachedState(path, state);
      await saveCachedState(path, state);
      assert.deepEqual(await loadCachedState(path, "n1"), state);
      assert.deepEqual(await readdir(join(dir, "sub")), ["slice.json"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("returns nothing without a file", async () => {
    assert.equal(await loadCachedState(join(tmpdir(), "syc-absent-cache.json"), "n1"), undefined);
  });

  it("rejects a broken or foreign file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "syc-cache-"));
    try {
      const path = join(dir, "slice.json");
      await writeFile(path, "{not json");
      await assert.rejects(loadCachedState(path, "n1"), (error: unknown) => error instanceof CacheError && error.code === "POLICY_CACHE_INVALID" && /is not JSON/.test(error.message));
      await saveCachedState(path, { nodeName: "n2", controllerInstance: "i", slice: { ...slice(1, {}), nodeName: "n2" } });
      await assert.rejects(loadCachedState(path, "n1"), /belongs to node "n2", not n1/);
      await writeFile(path, JSON.stringify({ version: 99 }));
      await assert.rejects(loadCachedState(path, "n1"), /format version 99, expected 1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
