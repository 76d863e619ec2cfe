import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IpamError, NodeIpam } from "../../../agent/ipam/allocator.ts";
import { formatAddress, parseAddress, parseCidr } from "../../../agent/ipam/cidr.ts";

function tempStore(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "syn-ipam-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "ipam.json");
}

test("ipam skips network, gateway and broadcast", (t) => {
  const ipam = NodeIpam.open({ podCidrs: ["10.1.0.0/29"], storePath: tempStore(t) });
  // A /29 has 8 addresses: .0 network, .1 gateway, .7 broadcast, so .2 to .6 are usable.
  const addresses = ["a", "b", "c", "d", "e"].map((owner) => ipam.allocate(owner)[0]?.address);
  assert.deepEqual(addresses, ["10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5", "10.1.0.6"]);
  assert.throws(() => ipam.allocate("f"), (error: unknown) => error instanceof IpamError && error.code === "IPAM_EXHAUSTED" && /10\.1\.0\.0\/29/.test(error.message));
  assert.deepEqual(ipam.gateways(), [{ family: 4, address: "10.1.0.1", prefixLength: 29 }]);
});

test("ipam is idempotent per owner", (t) => {
  const ipam = NodeIpam.open({ podCidrs: ["10.1.0.0/24"], storePath: tempStore(t) });
  const first = ipam.allocate("net/c1/eth0");
  const second = ipam.allocate("net/c1/eth0");
  assert.deepEqual(second, first);
  assert.equal(ipam.usage()[0]?.used, 1);
});

test("ipam does not reuse a released address at once", (t) => {
  const ipam = NodeIpam.open({ podCidrs: ["10.1.0.0/24"], storePath: tempStore(t) });
  assert.equal(ipam.allocate("a")[0]?.address, "10.1.0.2");
  assert.equal(ipam.release("a"), true);
  assert.equal(ipam.release("a"), false);
  assert.equal(ipam.allocate("b")[0]?.address, "10.1.0.3");
});

test("ipam dual-stack allocates both or nothing", (t) => {
  const ipam = NodeIpam.open({ podCidrs: ["10.1.0.0/30", "fd00:1::/64"], storePath: tempStore(t) });
  const pair = ipam.allocate("a");
  assert.deepEqual(pair, [
    { family: 4, address: "10.1.0.2", prefixLength: 30, gateway: "10.1.0.1" },
    { family: 6, address: "fd00:1::2", prefixLength: 64, gateway: "fd00:1::1" },
  ]);
  // The /30 has one usable address, so the next owner fails and must not hold an IPv6 address.
  assert.throws(() => ipam.allocate("b"), IpamError);
  assert.equal(ipam.lookup("b"), undefined);
  assert.deepEqual(ipam.usage().map((usage) => usage.used), [1, 1]);
});

test("ipam store survives a restart", (t) => {
  const storePath = tempStore(t);
  const first = NodeIpam.open({ podCidrs: ["10.1.0.0/24", "fd00:1::/64"], storePath });
  first.allocate("a");
  first.allocate("b");
  first.release("a");
  const stored = JSON.parse(readFileSync(storePath, "utf8")) as { allocations: Record<string, string[]> };
  assert.deepEqual(stored.allocations, { b: ["10.1.0.3", "fd00:1::3"] });
  const second = NodeIpam.open({ podCidrs: ["10.1.0.0/24", "fd00:1::/64"], storePath });
  assert.deepEqual(second.lookup("b")?.map((address) => address.address), ["10.1.0.3", "fd00:1::3"]);
  assert.equal(second.allocate("c")[0]?.address, "10.1.0.4");
});

test("ipam restore rejects an address held by another owner", (t) => {
  const ipam = NodeIpam.open({ podCidrs: ["10.1.0.0/24"], storePath: tempStore(t) });
  ipam.allocate("a");
  assert.throws(() => ipam.restore("b", ["10.1.0.2"]), /recorded for both a and b/);
  ipam.restore("c", ["10.9.9.9"]);
  assert.equal(ipam.lookup("c"), undefined, "addresses outside the pod CIDR are skipped");
});

test("ipam rejects a corrupt store", (t) => {
  const storePath = tempStore(t);
  writeFileSync(storePath, "{");
  assert.throws(() => NodeIpam.open({ podCidrs: ["10.1.0.0/24"], storePath }), /not valid JSON/);
});

const BAD_CIDRS: string[][] = [[], ["10.1.0.0"], ["10.1.0.1/24"], ["10.1.0.0/33"], ["10.1.0.0/31"], ["fd00::/127"], ["10.1.0.0/24", "10.2.0.0/24"], ["nonsense/8"]];
for (const cidrs of BAD_CIDRS) {
  test(`ipam rejects pod CIDRs ${JSON.stringify(cidrs)}`, (t) => {
    assert.throws(() => NodeIpam.open({ podCidrs: cidrs, storePath: tempStore(t) }));
  });
}

// RFC 5952 text forms, checked against `ip` output conventions.
const V6_FORMS: [string, string][] = [
  ["fd00:0:0:0:0:0:0:1", "fd00::1"],
  ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
  ["2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"],
  ["0:0:0:0:0:0:0:0", "::"],
  ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
  ["::ffff:192.0.2.1", "::ffff:c000:201"],
];
for (const [input, expected] of V6_FORMS) {
  test(`ipv6 ${input} formats as ${expected}`, () => {
    assert.equal(formatAddress(parseAddress(input), 6), expected);
  });
}

test("cidr parse reads family and length", () => {
  assert.deepEqual(parseCidr("192.168.4.0/22"), { family: 4, network: 0xc0a80400n, prefixLength: 22, bits: 32 });
  assert.equal(parseCidr("fd00:10::/64").network, 0xfd000010000000000000000000000000n);
});

test("ipam fills a /24 with 253 distinct addresses", (t) => {
  const ipam = NodeIpam.open({ podCidrs: ["10.1.0.0/24"], storePath: tempStore(t) });
  const seen = new Set<string>();
  for (let i = 0; i < 253; i++) seen.add(ipam.allocate(`o${i}`)[0]?.address ?? "");
  assert.equal(seen.size, 253);
  assert.ok(!seen.has("10.1.0.0"), "network address");
  assert.ok(!seen.has("10.1.0.1"), "gateway");
  assert.ok(!seen.has("10.1.0.255"), "broadcast address");
  assert.throws(() => ipam.allocate("one-more"), IpamError);
});

test("ipam batch writes the store once", (t) => {
  const storePath = tempStore(t);
  const ipam = NodeIpam.open({ podCidrs: ["10.1.0.0/24"], storePath });
  const stored = (): Record<string, string[]> => (JSON.parse(readFileSync(storePath, "utf8")) as { allocations: Record<string, string[]> }).allocations;
  ipam.allocate("a");
  ipam.batch(() => {
    ipam.restore("b", ["10.1.0.7"]);
    ipam.restore("c", ["10.1.0.8"]);
    ipam.release("a");
    assert.deepEqual(Object.keys(stored()), ["a"], "nothing written inside the batch");
  });
  assert.deepEqual(stored(), { b: ["10.1.0.7"], c: ["10.1.0.8"] });
});

test("ipam batch writes what a failed change did", (t) => {
  const storePath = tempStore(t);
  const ipam = NodeIpam.open({ podCidrs: ["10.1.0.0/24"], storePath });
  ipam.allocate("a");
  assert.throws(
    () =>
      ipam.batch(() => {
        ipam.restore("b", ["10.1.0.7"]);
        ipam.restore("c", ["10.1.0.2"]);
      }),
    /recorded for both a and c/,
  );
  const stored = JSON.parse(readFileSync(storePath, "utf8")) as { allocations: Record<string, string[]> };
  assert.deepEqual(stored.allocations, { a: ["10.1.0.2"], b: ["10.1.0.7"] });
});
