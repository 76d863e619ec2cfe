import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  deriveUnderlayBlock,
  derivedBlockCount,
  fnv1a32,
  formatIpv4,
  macFromIpv4,
  parseCidr,
  parseIpv4,
  planAddresses,
} from "../../lab/addressing.ts";
import { LabError, LabErrorCode } from "../../lab/errors.ts";

function isInvalidOption(error: unknown): boolean {
  return error instanceof LabError && error.code === LabErrorCode.InvalidOption;
}

describe("IPv4 parsing", () => {
  const cases: Array<[string, number]> = [
    ["0.0.0.0", 0],
    ["10.200.0.1", 0x0ac80001],
    ["255.255.255.255", 0xffffffff],
    ["192.168.1.254", 0xc0a801fe],
  ];
  for (const [text, value] of cases) {
    test(`parses and formats ${text}`, () => {
      assert.equal(parseIpv4(text), value);
      assert.equal(formatIpv4(value), text);
    });
  }

  for (const bad of ["10.200.0", "10.200.0.256", "10.200.0.1.1", "a.b.c.d", "10.200.0.-1", ""]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseIpv4(bad), isInvalidOption);
    });
  }
});

describe("CIDR parsing", () => {
  test("parses a network address", () => {
    assert.deepEqual(parseCidr("10.200.4.0/23"), { base: 0x0ac80400, prefixLength: 23 });
  });

  test("rejects host bits and names the network", () => {
    assert.throws(() => parseCidr("10.200.5.0/23"), (error: unknown) => isInvalidOption(error) && /did you mean 10\.200\.4\.0\/23/.test((error as Error).message));
  });

  for (const bad of ["10.200.0.0", "10.200.0.0/33", "10.200.0.0/x", "/24"]) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseCidr(bad), isInvalidOption);
    });
  }
});

describe("FNV-1a", () => {
  // Test vectors published with the FNV specification (draft-eastlake-fnv, 32-bit FNV-1a).
  const vectors: Array<[string, number]> = [
    ["", 0x811c9dc5],
    ["a", 0xe40c292c],
    ["foobar", 0xbf9cf968],
  ];
  for (const [input, hash] of vectors) {
    test(`hashes ${JSON.stringify(input)}`, () => {
      assert.equal(fnv1a32(input), hash);
    });
  }
});

describe("underlay block derivation", () => {
  test("one subnet gives an aligned /24 in 10.200.0.0/16", () => {
    const block = parseCidr(deriveUnderlayBlock({ name: "lab", subnets: 1 }));
    assert.equal(block.prefixLength, 24);
    assert.equal(formatIpv4(block.base).startsWith("10.200."), true);
    assert.equal(block.base % 512, 0, "the /24 is the first half of the lab's /23 slot");
  });

  test("two subnets give the whole /23 slot", () => {
    const one = parseCidr(deriveUnderlayBlock({ name: "lab", subnets: 1 }));
    const two = parseCidr(deriveUnderlayBlock({ name: "lab", subnets: 2 }));
    assert.equal(two.prefixLength, 23);
    assert.equal(two.base, one.base);
  });

  test("is stable for a name", () => {
    assert.equal(deriveUnderlayBlock({ name: "ci-1", subnets: 1 }), deriveUnderlayBlock({ name: "ci-1", subnets: 1 }));
  });

  test("moves to the next slot when taken", () => {
    const first = deriveUnderlayBlock({ name: "lab", subnets: 2 });
    const second = deriveUnderlayBlock({ name: "lab", subnets: 2, taken: [first] });
    assert.notEqual(second, first);
    const distance = parseCidr(second).base - parseCidr(first).base;
    assert.ok(distance === 512 || distance === -(derivedBlockCount - 1) * 512, `next slot, got distance ${distance}`);
  });

  test("treats a taken /24 as taking its /23 slot", () => {
    const first = deriveUnderlayBlock({ name: "lab", subnets: 1 });
    const second = deriveUnderlayBlock({ name: "lab", subnets: 2, taken: [first] });
    assert.notEqual(parseCidr(second).base, parseCidr(first).base);
  });

  test("fails when every slot is taken", () => {
    const taken = Array.from({ length: derivedBlockCount }, (_, slot) => `10.200.${slot * 2}.0/23`);
    assert.throws(() => deriveUnderlayBlock({ name: "lab", subnets: 1, taken }), isInvalidOption);
  });

  test("distinct names spread over many slots", () => {
    const blocks = new Set(Array.from({ length: 50 }, (_, i) => deriveUnderlayBlock({ name: `lab-${i}`, subnets: 1 })));
    assert.ok(blocks.size > 30, `50 names used only ${blocks.size} slots`);
  });
});

describe("address plan", () => {
  test("one subnet: nodes from .11, outside at .254, no gateway", () => {
    const plan = planAddresses({ block: "10.200.8.0/24", subnets: 1, nodes: 3 });
    assert.deepEqual(plan.segments, [{ name: "a", cidr: "10.200.8.0/24", prefixLength: 24, gateway: undefined }]);
    assert.deepEqual(plan.nodes, [
      { index: 1, segment: "a", ip: "10.200.8.11" },
      { index: 2, segment: "a", ip: "10.200.8.12" },
      { index: 3, segment: "a", ip: "10.200.8.13" },
    ]);
    assert.deepEqual(plan.outside, { segment: "a", ip: "10.200.8.254" });
  });

  test("two subnets: halves, alternating nodes, router at .1", () => {
    const plan = planAddresses({ block: "10.200.8.0/23", subnets: 2, nodes: 4 });
    assert.deepEqual(plan.segments, [
      { name: "a", cidr: "10.200.8.0/24", prefixLength: 24, gateway: "10.200.8.1" },
      { name: "b", cidr: "10.200.9.0/24", prefixLength: 24, gateway: "10.200.9.1" },
    ]);
    assert.deepEqual(plan.nodes, [
      { index: 1, segment: "a", ip: "10.200.8.11" },
      { index: 2, segment: "b", ip: "10.200.9.12" },
      { index: 3, segment: "a", ip: "10.200.8.13" },
      { index: 4, segment: "b", ip: "10.200.9.14" },
    ]);
    assert.deepEqual(plan.outside, { segment: "a", ip: "10.200.8.254" });
  });

  test("a /26 puts the outside at its last host", () => {
    const plan = planAddresses({ block: "192.168.50.64/26", subnets: 1, nodes: 16 });
    assert.equal(plan.outside.ip, "192.168.50.126");
    assert.equal(plan.nodes.at(-1)?.ip, "192.168.50.90");
  });

  for (const [block, subnets] of [["10.200.0.0/27", 1], ["10.200.0.0/26", 2], ["10.0.0.0/15", 1], ["10.0.0.0/14", 2]] as const) {
    test(`rejects ${block} with ${subnets} subnet(s)`, () => {
      assert.throws(() => planAddresses({ block, subnets, nodes: 1 }), isInvalidOption);
    });
  }
});

test("MAC from IPv4 is 02:00 plus the octets", () => {
  assert.equal(macFromIpv4("10.200.0.11"), "02:00:0a:c8:00:0b");
  assert.equal(macFromIpv4("192.168.255.1"), "02:00:c0:a8:ff:01");
});
