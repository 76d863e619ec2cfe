// Generated malformed invocations: each must produce the specification's error object
// and must never reach the agent, so no state changes.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { runCni } from "../../../cni/plugin.ts";
import { captureIo, startRecordingAgent } from "./recording-agent.ts";
import type { RecordingAgent } from "./recording-agent.ts";

let agent: RecordingAgent;
let invocations = 0;
before(async () => {
  agent = await startRecordingAgent(() => ({ ok: true }));
});
after(() => agent.close());

const VALID_ENV = { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c1", CNI_NETNS: "/run/netns/p", CNI_IFNAME: "eth0", CNI_PATH: "/opt/cni/bin" };
const validConfig = (): Record<string, unknown> => ({ cniVersion: "1.1.0", name: "net", type: "switchyard", socketPath: agent.socketPath, logFile: "/dev/null" });

/** Runs one invocation and checks the error object; returns its code. */
async function expectSpecError(env: Record<string, string>, stdin: string | Buffer, codes: readonly number[]): Promise<void> {
  invocations++;
  const before = agent.requests.length;
  const { io, out } = captureIo(env, stdin);
  const exitCode = await runCni(io);
  assert.equal(exitCode, 1, `exit code for ${out()}`);
  const lines = out().split("\n").filter((line) => line !== "");
  assert.equal(lines.length, 1, "stdout holds exactly one JSON document");
  const error = JSON.parse(lines[0] ?? "") as { cniVersion: unknown; code: unknown; msg: unknown };
  assert.ok(["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"].includes(String(error.cniVersion)), `cniVersion ${String(error.cniVersion)}`);
  assert.ok(codes.includes(Number(error.code)), `code ${String(error.code)} not in ${codes.join(",")}: ${String(error.msg)}`);
  assert.equal(typeof error.msg, "string");
  assert.notEqual(error.msg, "");
  assert.equal(agent.requests.length, before, "the agent was contacted");
}

/** Independent restatement of the container ID rule in the specification. */
const isValidContainerId = (value: string): boolean => /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value);
/** Independent restatement of the Linux interface name rule (dev_valid_name, IFNAMSIZ 16). */
const isValidIfName = (value: string): boolean =>
  // eslint-disable-next-line no-control-regex
  value !== "" && Buffer.byteLength(value) <= 15 && value !== "." && value !== ".." && !/[/:\s\u0000-\u001f\u007f]/u.test(value);
const SUPPORTED = new Set(["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]);

test("bad stdin bytes give code 6", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string().filter((text) => !isJsonObject(text)),
        fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString("latin1")).filter((text) => !isJsonObject(text)),
        fc.jsonValue().filter((value) => typeof value !== "object" || value === null || Array.isArray(value)).map((value) => JSON.stringify(value)),
      ),
      async (stdin) => expectSpecError(VALID_ENV, stdin, [6]),
    ),
    { numRuns: 250 },
  );
});

test("unsupported cniVersion gives code 1 or 7", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.string().filter((version) => !SUPPORTED.has(version)), fc.integer(), fc.constant(null), fc.array(fc.string())),
      async (version) => expectSpecError(VALID_ENV, JSON.stringify({ ...validConfig(), cniVersion: version }), typeof version === "string" ? [1] : [7]),
    ),
    { numRuns: 150 },
  );
});

test("bad configuration fields give code 7", async () => {
  const badField = fc.oneof(
    fc.record({ key: fc.constant("name"), value: fc.oneof(fc.string().filter((name) => !isValidContainerId(name)), fc.integer(), fc.constant(null)) }),
    fc.record({ key: fc.constant("type"), value: fc.oneof(fc.constant(""), fc.integer(), fc.boolean(), fc.constant(null)) }),
    fc.record({ key: fc.constant("mtu"), value: fc.oneof(fc.integer({ max: 67 }), fc.integer({ min: 65536 }), fc.double({ noInteger: true }), fc.string()) }),
    fc.record({ key: fc.constant("ipam"), value: fc.oneof(fc.string(), fc.array(fc.integer()), fc.integer()) }),
    fc.record({ key: fc.constant("dns"), value: fc.oneof(fc.string(), fc.record({ nameservers: fc.array(fc.integer(), { minLength: 1 }) })) }),
    fc.record({ key: fc.constant("prevResult"), value: fc.oneof(fc.string(), fc.array(fc.anything())) }),
    fc.record({ key: fc.constant("capabilities"), value: fc.dictionary(fc.string(), fc.oneof(fc.integer(), fc.string()), { minKeys: 1 }) }),
    fc.record({ key: fc.constant("socketPath"), value: fc.oneof(fc.string().filter((path) => !path.startsWith("/")), fc.integer()) }),
  );
  await fc.assert(
    fc.asyncProperty(badField, async ({ key, value }) => {
      const config = { ...validConfig(), [key]: value };
      await expectSpecError(VALID_ENV, JSON.stringify(config), [7]);
    }),
    { numRuns: 250 },
  );
});

test("missing required fields give code 7", async () => {
  await fc.assert(
    fc.asyncProperty(fc.subarray(["name", "type", "cniVersion"], { minLength: 1 }), async (missing) => {
      const config = validConfig();
      for (const key of missing) delete config[key];
      await expectSpecError(VALID_ENV, JSON.stringify(config), [7]);
    }),
    { numRuns: 30 },
  );
});

test("bad environment gives code 4", async () => {
  const badEnv = fc.oneof(
    fc.record({ key: fc.constant("CNI_CONTAINERID"), value: fc.string({ minLength: 1 }).filter((id) => !isValidContainerId(id) && !id.includes("\0")) }),
    fc.record({ key: fc.constant("CNI_IFNAME"), value: fc.string({ minLength: 1, unit: "binary" }).filter((name) => !isValidIfName(name) && !name.includes("\0")) }),
    fc.record({ key: fc.constant("CNI_COMMAND"), value: fc.string({ minLength: 1 }).filter((command) => !["ADD", "DEL", "CHECK", "VERSION", "STATUS", "GC"].includes(command)) }),
    fc.record({ key: fc.constant("CNI_NETNS"), value: fc.string({ minLength: 1 }).filter((path) => !path.startsWith("/")) }),
    fc.record({
      key: fc.constant("CNI_ARGS"),
      value: fc
        .array(fc.tuple(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/), fc.stringMatching(/^[a-z0-9]{0,8}$/)), { minLength: 1, maxLength: 4 })
        .filter((pairs) => pairs.some(([key]) => !["K8S_POD_NAMESPACE", "K8S_POD_NAME", "K8S_POD_UID", "K8S_POD_INFRA_CONTAINER_ID", "IgnoreUnknown"].includes(key)))
        .map((pairs) => pairs.map(([key, value]) => `${key}=${value}`).join(";")),
    }),
    fc.record({ key: fc.constant("CNI_ARGS"), value: fc.stringMatching(/^[A-Za-z0-9]{1,10}$/) }),
  );
  await fc.assert(
    fc.asyncProperty(badEnv, async ({ key, value }) => {
      await expectSpecError({ ...VALID_ENV, [key]: value }, JSON.stringify(validConfig()), [4]);
    }),
    { numRuns: 300 },
  );
});

test("missing environment variables give code 4", async () => {
  const required: Record<string, string[]> = { ADD: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"], CHECK: ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"], DEL: ["CNI_CONTAINERID", "CNI_IFNAME"], GC: ["CNI_PATH"] };
  await fc.assert(
    fc.asyncProperty(fc.constantFrom("ADD", "CHECK", "DEL", "GC"), fc.boolean(), async (command, empty) => {
      const names = required[command] ?? [];
      for (const name of names) {
        const env: Record<string, string> = { ...VALID_ENV, CNI_COMMAND: command };
        if (empty) env[name] = "";
        else delete env[name];
        await expectSpecError(env, JSON.stringify(validConfig()), [4]);
      }
    }),
    { numRuns: 20 },
  );
});

test("oversized values give code 4 or 6", async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom("stdin", "CNI_ARGS", "CNI_NETNS", "CNI_CONTAINERID"), fc.integer({ min: 1, max: 3 }), async (where, factor) => {
      if (where === "stdin") {
        const padding = " ".repeat(1024 * 1024 * factor);
        await expectSpecError(VALID_ENV, JSON.stringify(validConfig()) + padding, [6]);
        return;
      }
      let long = "a".repeat(5000 * factor);
      if (where === "CNI_NETNS") long = "/" + long;
      if (where === "CNI_ARGS") long = "K8S_POD_NAME=" + long;
      await expectSpecError({ ...VALID_ENV, [where]: long }, JSON.stringify(validConfig()), [4]);
    }),
    { numRuns: 20 },
  );
});

test("bad input covers at least 1000 invocations", () => {
  console.log(`bad-input invocations: ${invocations}`);
  assert.ok(invocations >= 1000, `only ${invocations} invocations ran`);
});

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
