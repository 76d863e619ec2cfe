import { test } from "node:test";
import assert from "node:assert/strict";
import { BIT_RANGES, rangeValueMask, spaceWidth, subfieldText, OUTPUT_RESOLVED, PACKET_SOURCE, TARGET_OFPORT, CT_SOURCE } from "../../../agent/pipeline/registers.ts";

test("register ranges: no two ranges overlap", () => {
  for (let i = 0; i < BIT_RANGES.length; i++) {
    for (let j = i + 1; j < BIT_RANGES.length; j++) {
      const a = BIT_RANGES[i];
      const b = BIT_RANGES[j];
      assert.ok(a !== undefined);
      assert.ok(b !== undefined);
      if (a.space !== b.space) continue;
      const overlaps = a.start <= b.end && b.start <= a.end;
      assert.equal(overlaps, false, `${a.name} ${a.space}[${a.start}..${a.end}] overlaps ${b.name} ${b.space}[${b.start}..${b.end}]`);
    }
  }
});

test("register ranges: inside their space", () => {
  for (const range of BIT_RANGES) {
    assert.ok(range.start >= 0, range.name);
    assert.ok(range.end >= range.start, range.name);
    assert.ok(range.end < spaceWidth(range.space), `${range.name} ends at bit ${range.end}`);
    assert.ok(range.meaning.length > 0, range.name);
  }
});

test("register ranges: names are unique", () => {
  const names = BIT_RANGES.map((range) => range.name);
  assert.equal(new Set(names).size, names.length);
});

test("subfieldText: ovs-ofctl notation", () => {
  assert.equal(subfieldText(PACKET_SOURCE), "NXM_NX_REG0[0..3]");
  assert.equal(subfieldText(OUTPUT_RESOLVED), "NXM_NX_REG0[8]");
  assert.equal(subfieldText(TARGET_OFPORT), "NXM_NX_REG1[]");
  assert.equal(subfieldText(CT_SOURCE), "NXM_NX_CT_MARK[0..3]");
});

test("rangeValueMask: shifts value into place", () => {
  assert.deepEqual(rangeValueMask(PACKET_SOURCE, 3), { value: 0x3n, mask: 0xfn });
  assert.deepEqual(rangeValueMask(OUTPUT_RESOLVED, 1), { value: 0x100n, mask: 0x100n });
  assert.throws(() => rangeValueMask(PACKET_SOURCE, 16), RangeError);
});
