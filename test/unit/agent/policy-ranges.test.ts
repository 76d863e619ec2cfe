// Port ranges as masked matches, ipBlock except as complement prefixes, and the id pool.
// Expected values are worked out by hand from the bit patterns and written as literals; the
// range check walks every port from 0 to 65535.
import { test } from "node:test";
import assert from "node:assert/strict";
import { IdPool } from "../../../agent/policy/id-pool.ts";
import { formatPrefixes, ipBlockPrefixes } from "../../../agent/policy/ip-block.ts";
import { portRangeMasks } from "../../../agent/policy/port-range.ts";
import { PolicyError } from "../../../agent/policy/errors.ts";

const RANGES: { start: number; end: number; count: number }[] = [
  { start: 0, end: 65535, count: 1 },
  { start: 0, end: 0, count: 1 },
  { start: 65535, end: 65535, count: 1 },
  { start: 1, end: 65535, count: 16 },
  { start: 0, end: 1023, count: 1 },
  { start: 1024, end: 65535, count: 6 },
  { start: 1000, end: 1999, count: 7 },
  { start: 8000, end: 8080, count: 3 },
  { start: 5, end: 6, count: 2 },
  { start: 32767, end: 32768, count: 2 },
  { start: 30000, end: 32767, count: 5 },
];

test("port ranges: masks cover exactly the range", () => {
  for (const { start, end } of RANGES) {
    const masks = portRangeMasks(start, end);
    for (let port = 0; port <= 65535; port += 1) {
      const hits = masks.filter((entry) => (port & entry.mask) === entry.value).length;
      const expected = port >= start && port <= end ? 1 : 0;
      if (hits !== expected) assert.fail(`range ${start}-${end}: port ${port} matched by ${hits} masks, expected ${expected}`);
    }
  }
});

test("port ranges: minimal mask counts", () => {
  for (const { start, end, count } of RANGES) {
    assert.equal(portRangeMasks(start, end).length, count, `range ${start}-${end}`);
  }
});

test("port ranges: 8000-8080 masks", () => {
  assert.deepEqual(portRangeMasks(8000, 8080), [
    { value: 0x1f40, mask: 0xffc0 },
    { value: 0x1f80, mask: 0xfff0 },
    { value: 0x1f90, mask: 0xffff },
  ]);
});

test("port ranges: invalid bounds rejected", () => {
  assert.throws(() => portRangeMasks(10, 9), (error: unknown) => error instanceof PolicyError && error.code === "POLICY_INVALID_RULE");
  assert.throws(() => portRangeMasks(0, 65536), PolicyError);
  assert.throws(() => portRangeMasks(-1, 5), PolicyError);
});

test("ipBlock: except splits into complement", () => {
  assert.deepEqual(formatPrefixes(ipBlockPrefixes({ cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] })), [
    "10.0.0.0/16",
    "10.2.0.0/15",
    "10.4.0.0/14",
    "10.8.0.0/13",
    "10.16.0.0/12",
    "10.32.0.0/11",
    "10.64.0.0/10",
    "10.128.0.0/9",
  ]);
});

test("ipBlock: two excepts", () => {
  assert.deepEqual(formatPrefixes(ipBlockPrefixes({ cidr: "192.168.0.0/24", except: ["192.168.0.0/26", "192.168.0.128/25"] })), ["192.168.0.64/26"]);
  assert.deepEqual(formatPrefixes(ipBlockPrefixes({ cidr: "192.168.0.0/30", except: ["192.168.0.1/32", "192.168.0.2/32"] })), ["192.168.0.0/32", "192.168.0.3/32"]);
});

test("ipBlock: edge cases", () => {
  assert.deepEqual(formatPrefixes(ipBlockPrefixes({ cidr: "10.0.0.0/24", except: [] })), ["10.0.0.0/24"]);
  assert.deepEqual(formatPrefixes(ipBlockPrefixes({ cidr: "10.0.0.0/24", except: ["10.0.0.0/24"] })), []);
  assert.deepEqual(formatPrefixes(ipBlockPrefixes({ cidr: "10.0.0.0/24", except: ["10.0.0.0/16"] })), []);
  assert.deepEqual(formatPrefixes(ipBlockPrefixes({ cidr: "10.0.0.0/24", except: ["10.9.0.0/16"] })), ["10.0.0.0/24"]);
  assert.deepEqual(formatPrefixes(ipBlockPrefixes({ cidr: "10.0.0.7/24", except: [] })), ["10.0.0.0/24"]);
  assert.deepEqual(formatPrefixes(ipBlockPrefixes({ cidr: "0.0.0.0/0", except: ["128.0.0.0/1"] })), ["0.0.0.0/1"]);
  assert.throws(() => ipBlockPrefixes({ cidr: "10.0.0.0", except: [] }), PolicyError);
  assert.throws(() => ipBlockPrefixes({ cidr: "10.0.0.0/33", except: [] }), PolicyError);
});

test("id pool: lowest free id reused", () => {
  const pool = new IdPool();
  assert.deepEqual([pool.allocate(), pool.allocate(), pool.allocate()], [1, 2, 3]);
  pool.release(2);
  pool.release(1);
  assert.equal(pool.allocate(), 1);
  assert.equal(pool.allocate(), 2);
  assert.equal(pool.allocate(), 4);
  assert.deepEqual(pool.inUse(), [1, 2, 3, 4]);
  assert.equal(pool.highWater(), 4);
});

test("id pool: release errors and exhaustion", () => {
  const pool = new IdPool({ max: 2 });
  pool.allocate();
  pool.allocate();
  assert.throws(() => pool.allocate(), (error: unknown) => error instanceof PolicyError && error.code === "POLICY_IDS_EXHAUSTED");
  pool.release(1);
  assert.throws(() => pool.release(1), (error: unknown) => error instanceof PolicyError && error.code === "POLICY_ID_NOT_ALLOCATED");
  assert.throws(() => pool.release(7), PolicyError);
  assert.equal(pool.allocate(), 1);
});
