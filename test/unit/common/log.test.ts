// errorMessage: the `error` log field, including the cause chain.
import assert from "node:assert/strict";
import { test } from "node:test";
import { errorMessage } from "../../../common/log/logger.ts";

test("errorMessage appends the cause", () => {
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" });
  assert.equal(errorMessage(new TypeError("fetch failed", { cause: refused })), "fetch failed: connect ECONNREFUSED 127.0.0.1:6443");
});

test("errorMessage skips a cause already quoted", () => {
  const inner = new Error("ENOENT: no such file or directory, open '/x'");
  assert.equal(errorMessage(new Error("cannot be read: ENOENT: no such file or directory, open '/x'", { cause: inner })), "cannot be read: ENOENT: no such file or directory, open '/x'");
});

test("errorMessage follows a chain once", () => {
  const first = new Error("a");
  const second = new Error("b", { cause: first });
  (first as { cause?: unknown }).cause = second;
  assert.equal(errorMessage(new Error("top", { cause: second })), "top: b: a");
});

test("errorMessage of a non-Error", () => {
  assert.equal(errorMessage("plain"), "plain");
  assert.equal(errorMessage(new Error("x", { cause: "string cause" })), "x: string cause");
});
