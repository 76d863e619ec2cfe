import assert from "node:assert/strict";
import { test } from "node:test";

import { LabError, LabErrorCode } from "../../lab/errors.ts";
import { labNetns, maxNodes, nodeName, validateLabName, validateNodeCount, validateSubnetCount } from "../../lab/names.ts";

function isInvalidOption(error: unknown): boolean {
  return error instanceof LabError && error.code === LabErrorCode.InvalidOption;
}

for (const name of ["lab", "a", "ci-2", "syl-7-b", "x".repeat(20)]) {
  test(`lab name ${JSON.stringify(name)} is valid`, () => {
    assert.doesNotThrow(() => validateLabName(name));
  });
}

for (const name of ["", "Lab", "2lab", "-lab", "lab-", "la--b", "lab_1", "lab.1", "lab/x", "x".repeat(21), "lab name"]) {
  test(`lab name ${JSON.stringify(name)} is rejected`, () => {
    assert.throws(
      () => validateLabName(name),
      (error: unknown) => isInvalidOption(error) && (error as Error).message.includes(JSON.stringify(name)),
    );
  });
}

test("node count bounds", () => {
  assert.doesNotThrow(() => validateNodeCount(1));
  assert.doesNotThrow(() => validateNodeCount(maxNodes));
  for (const bad of [0, -1, maxNodes + 1, 1.5, Number.NaN]) {
    assert.throws(() => validateNodeCount(bad), isInvalidOption, `node count ${bad}`);
  }
});

test("subnet count is 1 or 2", () => {
  assert.doesNotThrow(() => validateSubnetCount(1));
  assert.doesNotThrow(() => validateSubnetCount(2));
  assert.throws(() => validateSubnetCount(3), isInvalidOption);
});

test("namespace and node names carry the lab name", () => {
  assert.equal(labNetns.node("lab", 3), "lab-n3");
  assert.equal(labNetns.underlay("ci"), "ci-ul");
  assert.equal(labNetns.router("ci"), "ci-rt");
  assert.equal(labNetns.outside("ci"), "ci-out");
  assert.equal(nodeName(12), "node12");
});
