// Round-robin node choice and the names derived from a pod.
import assert from "node:assert/strict";
import { test } from "node:test";

import { netnsPath, podNetnsName, sandboxId } from "../../cluster/names.ts";
import { nextNode } from "../../cluster/scheduler.ts";

test("round-robin cycles through nodes", () => {
  const chosen: string[] = [];
  let cursor = 0;
  for (let i = 0; i < 7; i += 1) {
    const next = nextNode(["node1", "node2", "node3"], cursor);
    chosen.push(next.node);
    cursor = next.cursor;
  }
  assert.deepEqual(chosen, ["node1", "node2", "node3", "node1", "node2", "node3", "node1"]);
});

test("round-robin with one node and none", () => {
  assert.deepEqual(nextNode(["only"], 5), { node: "only", cursor: 0 });
  assert.throws(() => nextNode([], 0), { code: "INVALID_OPTION" });
});

test("pod namespace name uses uid hash", () => {
  // sha256("0b6f5c7e-1d2a-4c1b-9a55-3f2d7e8c9a10") starts with dee35a81 (python3 hashlib).
  assert.equal(podNetnsName({ prefix: "syr-p-", namespace: "default", name: "web", uid: "0b6f5c7e-1d2a-4c1b-9a55-3f2d7e8c9a10" }), "syr-p-default-web-dee35a81");
  assert.equal(netnsPath("syr-p-x"), "/run/netns/syr-p-x");
});

test("long pod names keep the name short", () => {
  const name = podNetnsName({ prefix: "p-", namespace: "n".repeat(63), name: "x".repeat(253), uid: "u" });
  assert.ok(name.length <= 2 + 180 + 9, `length ${name.length}`);
  assert.match(name, /-[0-9a-f]{8}$/);
});

test("sandbox id is 64 hex digits", () => {
  // sha256("sandbox:0b6f5c7e-1d2a-4c1b-9a55-3f2d7e8c9a10") from python3 hashlib.
  assert.equal(sandboxId("0b6f5c7e-1d2a-4c1b-9a55-3f2d7e8c9a10"), "bc3058791407aaccbd5f5bb334c2e9d8219a521e887f2da6b4b5bf7a060b0e7a");
});
