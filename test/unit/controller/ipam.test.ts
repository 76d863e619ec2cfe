import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { describe, it } from "node:test";
import type { V1Node } from "@kubernetes/client-node";
import { IpamError, NodeCidrAllocator } from "../../../controller/ipam/allocator.ts";
import { CidrError, containsAddress, familyOf, formatAddress, formatCidr, hostMask, parseAddress, parseCidr, prefixMask } from "../../../common/net/cidr.ts";
import { NodeIpamController } from "../../../controller/ipam/node-ipam.ts";
import type { NodeEvent, NodeWriter } from "../../../controller/kube/node-writer.ts";
import { createSilentLogger } from "../../../common/log/logger.ts";
import { ControllerMetrics } from "../../../controller/metrics.ts";

function allocator(clusterCIDRs: string[], masks: { v4?: number; v6?: number } = {}): NodeCidrAllocator {
  return new NodeCidrAllocator({ clusterCIDRs, nodeCIDRMaskSizeIPv4: masks.v4 ?? 24, nodeCIDRMaskSizeIPv6: masks.v6 ?? 64 });
}

describe("CIDR text", () => {
  const canonical: [string, string][] = [
    ["10.244.0.0/16", "10.244.0.0/16"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["fd00:0:0:0:0:0:0:0/64", "fd00::/64"],
    ["FD00:10:0:0:1:0:0:0/80", "fd00:10:0:0:1::/80"],
    ["fd00:0:0:1:0:0:0:0/64", "fd00:0:0:1::/64"],
    ["2001:db8:0:0:1:0:0:1/128", "2001:db8::1:0:0:1/128"],
    ["2001:0:0:1:0:0:0:0/64", "2001:0:0:1::/64"],
    ["::/0", "::/0"],
    ["::ffff:10.1.0.0/112", "::ffff:a01:0/112"],
  ];
  for (const [input, expected] of canonical) {
    it(`formats ${input}`, () => assert.equal(formatCidr(parseCidr(input)), expected));
  }

  it("rejects host bits", () => {
    assert.throws(() => parseCidr("fd00::1/64"), /host bits are set; did you mean fd00::\/64/);
  });

  it("reads family, network and length", () => {
    assert.deepEqual(parseCidr("192.168.4.0/22"), { family: "IPv4", network: 0xc0a80400n, prefixLength: 22 });
    assert.deepEqual(parseCidr("fd00:10::/64"), { family: "IPv6", network: 0xfd000010000000000000000000000000n, prefixLength: 64 });
  });

  it("gives the reason apart from the value", () => {
    assert.throws(
      () => parseCidr("10.1.0.1/24"),
      (error: unknown) => {
        assert.ok(error instanceof CidrError);
        assert.equal(error.code, "CIDR_HOST_BITS_SET");
        assert.equal(error.value, "10.1.0.1/24");
        assert.equal(error.reason, "host bits are set; did you mean 10.1.0.0/24?");
        assert.equal(error.message, 'invalid CIDR "10.1.0.1/24": host bits are set; did you mean 10.1.0.0/24?');
        return true;
      },
    );
  });
});

describe("IP address text", () => {
  // RFC 5952 section 4: lower case, no leading zeros, the longest run of two or more zero
  // hextets shortened to "::" (the first on a tie), a single zero hextet kept.
  const v6: [string, string][] = [
    ["fd00:0:0:0:0:0:0:1", "fd00::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["::ffff:192.0.2.1", "::ffff:c000:201"],
  ];
  for (const [input, expected] of v6) {
    it(`formats ${input} as ${expected}`, () => assert.equal(formatAddress("IPv6", parseAddress(input)), expected));
  }

  it("parses IPv4 into 32 bits", () => {
    assert.equal(parseAddress("192.0.2.1"), 0xc0000201n);
    assert.equal(formatAddress("IPv4", 0xc0000201n), "192.0.2.1");
  });

  it("rejects an IPv6 zone index", () => {
    assert.equal(familyOf("fe80::1%eth0"), undefined);
    assert.equal(familyOf("fe80::1"), "IPv6");
    assert.throws(
      () => parseAddress("fe80::1%eth0"),
      (error: unknown) => error instanceof CidrError && error.code === "CIDR_INVALID_ADDRESS" && error.message === 'invalid IP address "fe80::1%eth0": an IPv6 zone index (%...) is not allowed; remove it',
    );
  });

  it("rejects text that is no address", () => {
    for (const text of ["", "10.0.0", "10.0.0.256", "fd00:::1", "host.example"]) {
      assert.equal(familyOf(text), undefined, text);
      assert.throws(() => parseAddress(text), (error: unknown) => error instanceof CidrError && error.message === `invalid IP address "${text}": not an IPv4 or IPv6 address`, text);
    }
  });
});

describe("prefix masks", () => {
  const masks: { family: "IPv4" | "IPv6"; prefixLength: number; prefix: bigint; host: bigint }[] = [
    { family: "IPv4", prefixLength: 0, prefix: 0n, host: 0xffffffffn },
    { family: "IPv4", prefixLength: 24, prefix: 0xffffff00n, host: 0xffn },
    { family: "IPv4", prefixLength: 30, prefix: 0xfffffffcn, host: 0x3n },
    { family: "IPv4", prefixLength: 32, prefix: 0xffffffffn, host: 0n },
    { family: "IPv6", prefixLength: 0, prefix: 0n, host: 0xffffffffffffffffffffffffffffffffn },
    { family: "IPv6", prefixLength: 64, prefix: 0xffffffffffffffff0000000000000000n, host: 0xffffffffffffffffn },
    { family: "IPv6", prefixLength: 126, prefix: 0xfffffffffffffffffffffffffffffffcn, host: 0x3n },
    { family: "IPv6", prefixLength: 128, prefix: 0xffffffffffffffffffffffffffffffffn, host: 0n },
  ];
  for (const { family, prefixLength, prefix, host } of masks) {
    it(`${family} /${prefixLength}`, () => {
      assert.equal(prefixMask(family, prefixLength), prefix);
      assert.equal(hostMask(family, prefixLength), host);
    });
  }
});

describe("containsAddress", () => {
  const cases: [string, string, boolean][] = [
    ["10.1.0.0/24", "10.1.0.0", true],
    ["10.1.0.0/24", "10.1.0.255", true],
    ["10.1.0.0/24", "10.1.1.0", false],
    ["10.1.0.0/24", "10.0.255.255", false],
    ["0.0.0.0/0", "255.255.255.255", true],
    ["10.1.0.7/32", "10.1.0.7", true],
    ["10.1.0.7/32", "10.1.0.8", false],
    ["fd00:1::/64", "fd00:1::ffff:ffff:ffff:ffff", true],
    ["fd00:1::/64", "fd00:1:0:1::", false],
    ["::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true],
    // The families never mix, even where the integers would match.
    ["::/0", "10.1.0.7", false],
    ["0.0.0.0/0", "::a01:7", false],
    ["::/96", "::a01:7", true],
  ];
  for (const [cidr, address, expected] of cases) {
    it(`${address} ${expected ? "in" : "not in"} ${cidr}`, () => assert.equal(containsAddress(parseCidr(cidr), address), expected));
  }

  it("rejects text that is no address", () => {
    assert.throws(() => containsAddress(parseCidr("10.0.0.0/8"), "10.0.0"), CidrError);
    assert.throws(() => containsAddress(parseCidr("fe80::/64"), "fe80::1%eth0"), CidrError);
  });
});

describe("node CIDR allocator", () => {
  it("allocates consecutive IPv4 subnets", () => {
    const ipam = allocator(["10.244.0.0/16"]);
    assert.deepEqual(ipam.allocate("a"), ["10.244.0.0/24"]);
    assert.deepEqual(ipam.allocate("b"), ["10.244.1.0/24"]);
    assert.deepEqual(ipam.allocate("c"), ["10.244.2.0/24"]);
    assert.deepEqual(ipam.allocate("a"), ["10.244.0.0/24"], "a second call returns the node's existing CIDR");
  });

  it("uses configured IPv6 mask sizes", () => {
    const ipam = allocator(["fd00:10::/48"], { v6: 64 });
    assert.deepEqual(ipam.allocate("a"), ["fd00:10::/64"]);
    assert.deepEqual(ipam.allocate("b"), ["fd00:10:0:1::/64"]);
    const wide = allocator(["fd00:20::/56"], { v6: 60 });
    assert.deepEqual(wide.allocate("a"), ["fd00:20::/60"]);
    assert.deepEqual(wide.allocate("b"), ["fd00:20:0:10::/60"]);
    assert.equal(wide.usage()[0]?.capacity, 16);
    const narrow = allocator(["fd00:30::/112"], { v6: 120 });
    assert.deepEqual(narrow.allocate("a"), ["fd00:30::/120"]);
    assert.deepEqual(narrow.allocate("b"), ["fd00:30::100/120"]);
  });

  it("gives dual-stack nodes one CIDR per family in config order", () => {
    const ipam = allocator(["fd00:10::/48", "10.244.0.0/16"]);
    assert.deepEqual(ipam.allocate("a"), ["fd00:10::/64", "10.244.0.0/24"]);
    assert.deepEqual(ipam.allocate("b"), ["fd00:10:0:1::/64", "10.244.1.0/24"]);
  });

  it("respects CIDRs already set", () => {
    const ipam = allocator(["10.244.0.0/16"]);
    ipam.claim("old", ["10.244.0.0/24"]);
    ipam.claim("older", ["10.244.2.0/24"]);
    assert.deepEqual(ipam.allocate("new"), ["10.244.1.0/24"]);
    assert.deepEqual(ipam.allocate("newer"), ["10.244.3.0/24"]);
  });

  it("claim is idempotent", () => {
    const ipam = allocator(["10.244.0.0/16"]);
    ipam.claim("a", ["10.244.5.0/24"]);
    ipam.claim("a", ["10.244.5.0/24"]);
    assert.equal(ipam.usage()[0]?.allocated, 1);
  });

  it("rejects a CIDR outside the cluster CIDRs", () => {
    const ipam = allocator(["10.244.0.0/16"]);
    assert.throws(
      () => ipam.claim("a", ["10.245.0.0/24"]),
      (error: unknown) => error instanceof IpamError && error.code === "IPAM_OUTSIDE_CLUSTER_CIDRS" && /10\.245\.0\.0\/24 of node a is outside the cluster CIDRs 10\.244\.0\.0\/16/.test(error.message),
    );
    assert.equal(ipam.cidrsOf("a"), undefined);
  });

  it("rejects a CIDR overlapping another node", () => {
    const ipam = allocator(["10.244.0.0/16"]);
    ipam.claim("a", ["10.244.4.0/24"]);
    assert.throws(
      () => ipam.claim("b", ["10.244.4.0/23"]),
      (error: unknown) => error instanceof IpamError && error.code === "IPAM_CONFLICT" && /overlaps the pod CIDR of node a/.test(error.message),
    );
    assert.throws(() => ipam.claim("c", ["10.244.4.128/25"]), (error: unknown) => error instanceof IpamError && error.code === "IPAM_CONFLICT");
    assert.deepEqual(ipam.cidrsOf("a"), ["10.244.4.0/24"]);
    assert.equal(ipam.cidrsOf("b"), undefined);
  });

  it("keeps the old claim when a new one fails", () => {
    const ipam = allocator(["10.244.0.0/16"]);
    ipam.claim("a", ["10.244.1.0/24"]);
    ipam.claim("b", ["10.244.2.0/24"]);
    assert.throws(() => ipam.claim("a", ["10.244.2.0/24"]));
    assert.deepEqual(ipam.cidrsOf("a"), ["10.244.1.0/24"]);
    assert.equal(ipam.usage()[0]?.allocated, 2);
  });

  it("releases and reuses a subnet last", () => {
    const ipam = allocator(["10.0.0.0/30"], { v4: 31 });
    assert.deepEqual(ipam.allocate("a"), ["10.0.0.0/31"]);
    assert.deepEqual(ipam.allocate("b"), ["10.0.0.2/31"]);
    ipam.release("a");
    ipam.release("a");
    assert.equal(ipam.cidrsOf("a"), undefined);
    assert.deepEqual(ipam.allocate("c"), ["10.0.0.0/31"]);
  });

  it("reports exhaustion without a partial allocation", () => {
    const ipam = allocator(["10.0.0.0/23", "fd00::/127"], { v4: 24, v6: 128 });
    ipam.allocate("a");
    ipam.allocate("b");
    assert.throws(
      () => ipam.allocate("c"),
      (error: unknown) =>
        error instanceof IpamError &&
        error.code === "IPAM_EXHAUSTED" &&
        error.message === "no free IPv4 pod CIDR for node c: every subnet of 10.0.0.0/23 (2 subnets of /24) is allocated; add a cluster CIDR or delete unused Nodes",
    );
    ipam.release("a");
    assert.deepEqual(ipam.allocate("c"), ["10.0.0.0/24", "fd00::/128"]);
  });

  it("rolls back the first family when the second is full", () => {
    const ipam = allocator(["10.0.0.0/16", "fd00::/127"], { v4: 24, v6: 127 });
    ipam.allocate("a");
    assert.throws(() => ipam.allocate("b"), /no free IPv6 pod CIDR for node b/);
    assert.equal(ipam.usage()[0]?.allocated, 1, "the IPv4 subnet taken for b was returned");
  });

  it("moves to the next range of a family", () => {
    const ipam = allocator(["10.0.0.0/24", "10.1.0.0/24"], { v4: 25 });
    assert.deepEqual(["a", "b", "c"].map((n) => ipam.allocate(n)[0]), ["10.0.0.0/25", "10.0.0.128/25", "10.1.0.0/25"]);
  });

  it("rebuilds the same map after a restart", () => {
    const first = allocator(["10.244.0.0/16", "fd00::/48"]);
    const before = new Map(["a", "b", "c"].map((n) => [n, first.allocate(n)]));
    const second = allocator(["10.244.0.0/16", "fd00::/48"]);
    for (const [node, cidrs] of before) second.claim(node, cidrs);
    assert.deepEqual(second.allocate("d"), ["10.244.3.0/24", "fd00:0:0:3::/64"]);
    assert.deepEqual(second.cidrsOf("b"), ["10.244.1.0/24", "fd00:0:0:1::/64"]);
  });
});

/** Records writes and returns after a random delay, like a remote API server. */
class RecordingWriter implements NodeWriter {
  readonly patches = new Map<string, string[]>();
  readonly events: { node: string; event: NodeEvent }[] = [];
  failNext = 0;

  async setPodCidrs(node: string, cidrs: readonly string[]): Promise<void> {
    await delay(Math.floor(Math.random() * 3));
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw Object.assign(new Error("HTTP 500"), { code: 500 });
    }
    this.patches.set(node, [...cidrs]);
  }

  async recordEvent(node: V1Node, event: NodeEvent): Promise<void> {
    this.events.push({ node: node.metadata?.name ?? "", event });
  }
}

function node(name: string, podCIDRs?: string[]): V1Node {
  return { metadata: { name, uid: `uid-${name}` }, spec: podCIDRs === undefined ? {} : { podCIDR: podCIDRs[0], podCIDRs } };
}

function controller(writer: NodeWriter, clusterCIDRs: string[], masks: { v4?: number; v6?: number } = {}): NodeIpamController {
  return new NodeIpamController({
    allocator: allocator(clusterCIDRs, masks),
    writer,
    logger: createSilentLogger(),
    metrics: new ControllerMetrics({ processMetrics: false }),
    retryInitialMs: 5,
    retryMaxMs: 20,
  });
}

describe("node IPAM controller", () => {
  it("claims existing CIDRs before allocating", async () => {
    const writer = new RecordingWriter();
    const ipam = controller(writer, ["10.244.0.0/16"]);
    await ipam.rebuild([node("new-1"), node("old", ["10.244.0.0/24"]), node("new-2")]);
    assert.deepEqual(writer.patches.get("new-1"), ["10.244.1.0/24"]);
    assert.deepEqual(writer.patches.get("new-2"), ["10.244.2.0/24"]);
    assert.equal(writer.patches.has("old"), false);
  });

  it("never hands one CIDR to two nodes", async () => {
    const writer = new RecordingWriter();
    const ipam = controller(writer, ["10.244.0.0/20", "fd00::/56"]);
    await ipam.rebuild([]);
    const names = Array.from({ length: 16 }, (_, i) => `n${i}`);
    for (const name of names) ipam.upsert(node(name));
    for (const name of names) ipam.upsert(node(name));
    await ipam.idle();
    const v4 = names.map((n) => writer.patches.get(n)?.[0]);
    const v6 = names.map((n) => writer.patches.get(n)?.[1]);
    assert.equal(new Set(v4).size, 16);
    assert.equal(new Set(v6).size, 16);
    assert.ok(v4.every((c) => c !== undefined && /^10\.244\.(\d|1[0-5])\.0\/24$/.test(c)), v4.join(","));
    ipam.upsert(node("n16"));
    await ipam.idle();
    assert.equal(writer.patches.has("n16"), false);
    assert.deepEqual(writer.events.map((e) => [e.node, e.event.reason, e.event.type]), [["n16", "CIDRNotAvailable", "Warning"]]);
    ipam.upsert(node("n16"));
    await ipam.idle();
    assert.equal(writer.events.length, 1, "a repeated failure records no second Event");
    ipam.delete(node("n3", [v4[3] ?? "", v6[3] ?? ""]));
    await ipam.idle();
    ipam.upsert(node("n16"));
    await ipam.idle();
    // IPv4 had only n3's subnet free; IPv6 still had never-used subnets, which next-fit takes first.
    assert.deepEqual(writer.patches.get("n16"), [v4[3], "fd00:0:0:10::/64"]);
  });

  it("records an Event for a foreign CIDR", async () => {
    const writer = new RecordingWriter();
    const ipam = controller(writer, ["10.244.0.0/16"]);
    await ipam.rebuild([node("a", ["10.244.7.0/24"])]);
    ipam.upsert(node("b", ["192.168.0.0/24"]));
    ipam.upsert(node("c", ["10.244.7.0/24"]));
    await ipam.idle();
    assert.deepEqual(
      writer.events.map((e) => [e.node, e.event.reason]),
      [
        ["b", "PodCIDRRejected"],
        ["c", "PodCIDRRejected"],
      ],
    );
    assert.match(writer.events[1]?.event.message ?? "", /overlaps the pod CIDR of node a/);
  });

  it("retries a failed patch with the same CIDR", async () => {
    const writer = new RecordingWriter();
    writer.failNext = 2;
    const ipam = controller(writer, ["10.244.0.0/16"]);
    await ipam.rebuild([node("a")]);
    for (let i = 0; i < 50 && !writer.patches.has("a"); i++) await delay(5);
    await ipam.idle();
    assert.deepEqual(writer.patches.get("a"), ["10.244.0.0/24"]);
    ipam.stop();
  });
});
