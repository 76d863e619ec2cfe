import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCidr } from "../../../common/net/cidr.ts";
import { diffRoutes, PeerSet, routeVia, type PeerNode, type PeerRoute } from "../../../agent/forwarding/peers.ts";
import { readPeerNode } from "../../../agent/forwarding/node-info.ts";

function node(name: string, cidr: string, ip: string, createdAtMs: number): PeerNode {
  return { name, podCIDRs: [parseCidr(cidr)], transportIP: ip, createdAtMs };
}

const encap = { mode: "encap", localSubnets: [] } as const;

function summary(routes: readonly PeerRoute[]): string[] {
  return routes.map((route) => `${route.key} ${route.node} ${route.transportIP} ${route.via}`);
}

test("routes: one per peer CIDR", () => {
  const peers = new PeerSet();
  peers.upsert(node("b", "10.244.2.0/24", "192.168.1.12", 1));
  peers.upsert(node("c", "10.244.3.0/24", "192.168.1.13", 2));
  assert.deepEqual(summary(peers.routes(encap)), ["10.244.2.0/24 b 192.168.1.12 tunnel", "10.244.3.0/24 c 192.168.1.13 tunnel"]);
});

test("routes: update changes next hop", () => {
  const peers = new PeerSet();
  peers.upsert(node("b", "10.244.2.0/24", "192.168.1.12", 1));
  const before = peers.routes(encap);
  peers.upsert(node("b", "10.244.2.0/24", "192.168.1.22", 1));
  const diff = diffRoutes(before, peers.routes(encap));
  assert.deepEqual(summary(diff.changed), ["10.244.2.0/24 b 192.168.1.22 tunnel"]);
  assert.equal(diff.added.length, 0);
  assert.equal(diff.removed.length, 0);
});

test("routes: delete removes the route", () => {
  const peers = new PeerSet();
  peers.upsert(node("b", "10.244.2.0/24", "192.168.1.12", 1));
  const before = peers.routes(encap);
  assert.equal(peers.delete("b"), true);
  assert.equal(peers.delete("b"), false);
  const diff = diffRoutes(before, peers.routes(encap));
  assert.deepEqual(summary(diff.removed), ["10.244.2.0/24 b 192.168.1.12 tunnel"]);
});

test("moving CIDR: delete first, then add", () => {
  const peers = new PeerSet();
  peers.upsert(node("old", "10.244.2.0/24", "192.168.1.12", 1000));
  peers.delete("old");
  peers.upsert(node("new", "10.244.2.0/24", "192.168.1.14", 2000));
  assert.deepEqual(summary(peers.routes(encap)), ["10.244.2.0/24 new 192.168.1.14 tunnel"]);
});

test("moving CIDR: add first, then delete", () => {
  const peers = new PeerSet();
  peers.upsert(node("old", "10.244.2.0/24", "192.168.1.12", 1000));
  const start = peers.routes(encap);
  peers.upsert(node("new", "10.244.2.0/24", "192.168.1.14", 2000));
  const during = peers.routes(encap);
  assert.deepEqual(summary(during), ["10.244.2.0/24 new 192.168.1.14 tunnel"]);
  // A status update of the old node while both claim the CIDR must not take it back.
  peers.upsert(node("old", "10.244.2.0/24", "192.168.1.12", 1000));
  assert.deepEqual(summary(peers.routes(encap)), ["10.244.2.0/24 new 192.168.1.14 tunnel"]);
  peers.delete("old");
  const end = peers.routes(encap);
  assert.deepEqual(summary(end), ["10.244.2.0/24 new 192.168.1.14 tunnel"]);
  assert.deepEqual(summary(diffRoutes(start, during).changed), ["10.244.2.0/24 new 192.168.1.14 tunnel"]);
  const last = diffRoutes(during, end);
  assert.equal(last.added.length + last.removed.length + last.changed.length, 0);
});

test("moving CIDR: same creation time breaks tie by name", () => {
  const peers = new PeerSet();
  peers.upsert(node("b", "10.244.2.0/24", "192.168.1.12", 5));
  peers.upsert(node("a", "10.244.2.0/24", "192.168.1.11", 5));
  assert.deepEqual(summary(peers.routes(encap)), ["10.244.2.0/24 b 192.168.1.12 tunnel"]);
});

test("routeVia: per mode", () => {
  const localSubnets = [parseCidr("192.168.1.0/24")];
  assert.equal(routeVia("192.168.1.12", { mode: "encap", localSubnets }), "tunnel");
  assert.equal(routeVia("192.168.2.12", { mode: "noEncap", localSubnets }), "underlay");
  assert.equal(routeVia("192.168.1.12", { mode: "hybrid", localSubnets }), "underlay");
  assert.equal(routeVia("192.168.2.12", { mode: "hybrid", localSubnets }), "tunnel");
});

test("readPeerNode: fields from a Node", () => {
  const result = readPeerNode({
    metadata: { name: "n2", creationTimestamp: new Date("2026-01-02T03:04:05Z") },
    spec: { podCIDR: "10.244.2.0/24", podCIDRs: ["10.244.2.0/24"] },
    status: { addresses: [{ type: "Hostname", address: "n2" }, { type: "InternalIP", address: "fd00::2" }, { type: "InternalIP", address: "192.168.1.12" }] },
  });
  assert.equal(result.ok, true);
  if (!result.ok) return;
  assert.equal(result.node.name, "n2");
  assert.equal(result.node.transportIP, "192.168.1.12");
  assert.equal(result.node.createdAtMs, Date.UTC(2026, 0, 2, 3, 4, 5));
  assert.equal(result.node.podCIDRs.length, 1);
});

test("readPeerNode: skips a node without pod CIDR or address", () => {
  const noCidr = readPeerNode({ metadata: { name: "n3" }, status: { addresses: [{ type: "InternalIP", address: "192.168.1.13" }] } });
  assert.deepEqual(noCidr.ok ? "ok" : noCidr.reason, "no-pod-cidr");
  const noIp = readPeerNode({ metadata: { name: "n3" }, spec: { podCIDR: "10.244.3.0/24" } });
  assert.deepEqual(noIp.ok ? "ok" : noIp.reason, "no-internal-ip");
  const bad = readPeerNode({ metadata: { name: "n3" }, spec: { podCIDR: "10.244.3.1/24" }, status: { addresses: [{ type: "InternalIP", address: "192.168.1.13" }] } });
  assert.deepEqual(bad.ok ? "ok" : bad.reason, "invalid-pod-cidr");
});
