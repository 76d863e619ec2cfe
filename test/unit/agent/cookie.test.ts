import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CookieCategory, CookieError, decodeCookie, describeCookie, encodeCookie, nextRound, ownerHash, roundCookieMask } from "../../../agent/pipeline/cookie.ts";

test("encodeCookie: layout round/category/owner", () => {
  // Round 3 in bits 63..48, category 2 in bits 47..40, owner 5 in bits 31..0.
  assert.equal(encodeCookie({ round: 3, category: CookieCategory.pod, owner: 5 }), 0x0003_0200_0000_0005n);
  assert.equal(encodeCookie({ round: 0xffff, category: CookieCategory.node, owner: 0xffff_ffff }), 0xffff_0300_ffff_ffffn);
});

test("decodeCookie: reads what dump-flows prints", () => {
  assert.deepEqual(decodeCookie(0x3020000000005n), { round: 3, category: 2, categoryName: "pod", owner: 5 });
  assert.equal(decodeCookie(0x1_7700_0000_0000n).categoryName, "unknown");
});

test("cookie round trip: any valid parts", () => {
  const categories = Object.values(CookieCategory);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 0xffff }), fc.constantFrom(...categories), fc.integer({ min: 0, max: 0xffff_ffff }), (round, category, owner) => {
      const decoded = decodeCookie(encodeCookie({ round, category, owner }));
      assert.equal(decoded.round, round);
      assert.equal(decoded.category, category);
      assert.equal(decoded.owner, owner);
    }),
  );
});

test("encodeCookie: rejects out-of-range parts", () => {
  assert.throws(() => encodeCookie({ round: 0, category: CookieCategory.pod, owner: 1 }), CookieError);
  assert.throws(() => encodeCookie({ round: 65536, category: CookieCategory.pod, owner: 1 }), CookieError);
  assert.throws(() => encodeCookie({ round: 1, category: 99 as CookieCategory, owner: 1 }), CookieError);
  assert.throws(() => encodeCookie({ round: 1, category: CookieCategory.pod, owner: 2 ** 32 }), CookieError);
});

test("roundCookieMask: selects one round", () => {
  assert.deepEqual(roundCookieMask(7), { cookie: 0x0007_0000_0000_0000n, mask: 0xffff_0000_0000_0000n });
});

test("nextRound: wraps to 1", () => {
  assert.equal(nextRound(1), 2);
  assert.equal(nextRound(65535), 1);
  assert.equal(nextRound(0), 1);
});

test("ownerHash: FNV-1a 32 vectors", () => {
  // Reference values of the FNV-1a 32-bit hash: "" -> 0x811c9dc5, "a" -> 0xe40c292c, "foobar" -> 0xbf9cf968.
  assert.equal(ownerHash(""), 0x811c9dc5);
  assert.equal(ownerHash("a"), 0xe40c292c);
  assert.equal(ownerHash("foobar"), 0xbf9cf968);
});

test("describeCookie: names pod and node owners", () => {
  assert.equal(describeCookie(0x3020000000005n, { pods: new Map([[5, "default/web-1"]]) }), "round 3, pod, ofport 5 (default/web-1)");
  const nodeCookie = encodeCookie({ round: 2, category: CookieCategory.node, owner: ownerHash("node-b") });
  assert.match(describeCookie(nodeCookie, { names: ["node-a", "node-b"] }), /^round 2, node, owner 0x[0-9a-f]+ \(node-b\)$/);
});

test("describeCookie: policy ids and shared flows", () => {
  assert.equal(describeCookie(0x1050000000007n), "round 1, policy, id 7");
  assert.equal(describeCookie(0x1050000000000n), "round 1, policy, shared");
});
