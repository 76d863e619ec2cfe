import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IpamError, NodeIpam } from "../../../agent/ipam/allocator.ts";

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
  assert.deepEqual(ipam.gateways(), [{ family: "IPv4", address: "10.1.0.1", prefixLength: 29 }]);
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
    { family: "IPv4", address: "10.1.0.2", prefixLength: 30, gateway: "10.1.0.1" },
    { family: "IPv6", address: "fd00:1::2", prefixLength: 64, gateway: "fd00:1::1" },
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

// Each invalid configuration raises IpamError IPAM_INVALID with a message that names the
// pod CIDR and gives the fix.
const BAD_CIDRS: { cidrs: string[]; message: string }[] = [
  { cidrs: [], message: "no pod CIDR configured; set at least one IPv4 or IPv6 prefix" },
  { cidrs: ["10.1.0.0"], message: 'pod CIDR "10.1.0.0" is invalid: missing "/prefix-length"' },
  { cidrs: ["10.1.0.1/24"], message: 'pod CIDR "10.1.0.1/24" is invalid: host bits are set; did you mean 10.1.0.0/24?' },
  { cidrs: ["fd00:1::1/64"], message: 'pod CIDR "fd00:1::1/64" is invalid: host bits are set; did you mean fd00:1::/64?' },
  { cidrs: ["10.1.0.0/33"], message: 'pod CIDR "10.1.0.0/33" is invalid: prefix length must be an integer from 0 to 32' },
  { cidrs: ["fd00::/129"], message: 'pod CIDR "fd00::/129" is invalid: prefix length must be an integer from 0 to 128' },
  { cidrs: ["nonsense/8"], message: 'pod CIDR "nonsense/8" is invalid: "nonsense" is not an IPv4 or IPv6 address' },
  { cidrs: ["fe80::%eth0/64"], message: 'pod CIDR "fe80::%eth0/64" is invalid: "fe80::%eth0" is not an IPv4 or IPv6 address' },
  { cidrs: ["10.1.0.0/31"], message: "pod CIDR 10.1.0.0/31 is too small; use a prefix length of at most 30" },
  { cidrs: ["fd00::/127"], message: "pod CIDR fd00::/127 is too small; use a prefix length of at most 126" },
  { cidrs: ["10.1.0.0/24", "10.2.0.0/24"], message: "more than one IPv4 pod CIDR in 10.1.0.0/24, 10.2.0.0/24; give at most one per family" },
  { cidrs: ["fd00:1::/64", "10.1.0.0/24", "fd00:2::/64"], message: "more than one IPv6 pod CIDR in fd00:1::/64, 10.1.0.0/24, fd00:2::/64; give at most one per family" },
];
for (const { cidrs, message } of BAD_CIDRS) {
  test(`ipam rejects pod CIDRs ${JSON.stringify(cidrs)}`, (t) => {
    assert.throws(
      () => NodeIpam.open({ podCidrs: cidrs, storePath: tempStore(t) }),
      (error: unknown) => {
        assert.ok(error instanceof IpamError, `expected IpamError, got ${String(error)}`);
        assert.equal(error.code, "IPAM_INVALID");
        assert.equal(error.message, message);
        return true;
      },
    );
  });
}

test("ipam keeps the CIDR error as cause", (t) => {
  assert.throws(
    () => NodeIpam.open({ podCidrs: ["10.1.0.1/24"], storePath: tempStore(t) }),
    (error: unknown) => {
      assert.ok(error instanceof IpamError);
      const cause = error.cause as { code?: unknown; value?: unknown } | undefined;
      assert.equal(cause?.code, "CIDR_HOST_BITS_SET");
      assert.equal(cause?.value, "10.1.0.1/24");
      return true;
    },
  );
});

test("ipam restore matches addresses by family", (t) => {
  const ipam = NodeIpam.open({ podCidrs: ["10.1.0.0/24", "fd00:1::/64"], storePath: tempStore(t) });
  // ::a01:7 has the same low 32 bits as 10.1.0.7 but is not inside either pod CIDR.
  ipam.restore("a", ["::a01:7", "fe80::1%eth0", "not-an-address", "fd00:1::7", "10.1.0.7"]);
  assert.deepEqual(ipam.lookup("a"), [
    { family: "IPv6", address: "fd00:1::7", prefixLength: 64, gateway: "fd00:1::1" },
    { family: "IPv4", address: "10.1.0.7", prefixLength: 24, gateway: "10.1.0.1" },
  ]);
  assert.deepEqual(ipam.usage().map((usage) => usage.used), [1, 1]);
});

test("ipam restore keeps one address per family", (t) => {
  const ipam = NodeIpam.open({ podCidrs: ["10.1.0.0/24"], storePath: tempStore(t) });
  ipam.restore("a", ["10.1.0.7", "10.1.0.8"]);
  assert.deepEqual(ipam.lookup("a")?.map((address) => address.address), ["10.1.0.7"]);
  assert.equal(ipam.usage()[0]?.used, 1);
});

test("ipam IPv6 prefix gives out its last address", (t) => {
  const ipam = NodeIpam.open({ podCidrs: ["fd00:1::/126"], storePath: tempStore(t) });
  // A /126 contains fd00:1:: to fd00:1::3; IPv6 has no broadcast address, so ::2 and ::3 are usable.
  assert.equal(ipam.allocate("a")[0]?.address, "fd00:1::2");
  assert.equal(ipam.allocate("b")[0]?.address, "fd00:1::3");
  assert.throws(() => ipam.allocate("c"), (error: unknown) => error instanceof IpamError && error.code === "IPAM_EXHAUSTED" && error.message.startsWith("pod CIDR fd00:1::/126 has no free address"));
  assert.deepEqual(ipam.gateways(), [{ family: "IPv6", address: "fd00:1::1", prefixLength: 126 }]);
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
