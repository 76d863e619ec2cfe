import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeConfig, parseConfig, DEFAULT_LOG_FILE, DEFAULT_SOCKET_PATH, MAX_CONFIG_BYTES } from "../../../cni/config.ts";
import { CniError } from "../../../cni/errors.ts";

const BASE = { cniVersion: "1.1.0", name: "k8s-pod-network", type: "switchyard" };

function codeOf(action: () => unknown): number | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof CniError, `expected CniError, got ${String(error)}`);
    return error.code;
  }
}

test("config defaults", () => {
  const config = parseConfig({ ...BASE });
  assert.equal(config.socketPath, DEFAULT_SOCKET_PATH);
  assert.equal(config.logFile, DEFAULT_LOG_FILE);
  assert.equal(config.validAttachments, undefined);
  assert.equal(DEFAULT_SOCKET_PATH, "/var/run/switchyard/cni.sock");
});

test("config decode errors are code 6", () => {
  assert.equal(codeOf(() => decodeConfig(Buffer.from("{"))), 6);
  assert.equal(codeOf(() => decodeConfig(Buffer.from(""))), 6);
  assert.equal(codeOf(() => decodeConfig(Buffer.from("[]"))), 6);
  assert.equal(codeOf(() => decodeConfig(Buffer.from("null"))), 6);
  assert.equal(codeOf(() => decodeConfig(Buffer.from("42"))), 6);
  assert.equal(codeOf(() => decodeConfig(Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x20))), 6);
});

// Version rules: code 1 for versions this plugin lacks, code 7 for a malformed field.
const VERSION_CASES: [unknown, number | undefined][] = [
  ["0.3.0", undefined],
  ["0.3.1", undefined],
  ["0.4.0", undefined],
  ["1.0.0", undefined],
  ["1.1.0", undefined],
  ["0.2.0", 1],
  ["0.1.0", 1],
  ["1.2.0", 1],
  ["2.0.0", 1],
  ["1.1", 1],
  ["", 1],
  [110, 7],
  [null, 7],
  [undefined, 7],
];
for (const [version, code] of VERSION_CASES) {
  test(`config cniVersion ${JSON.stringify(version)}`, () => {
    const raw: Record<string, unknown> = { ...BASE, cniVersion: version };
    if (version === undefined) delete raw.cniVersion;
    assert.equal(codeOf(() => parseConfig(raw)), code);
  });
}

const FIELD_CASES: [string, Record<string, unknown>, number | undefined][] = [
  ["name missing", { name: undefined }, 7],
  ["name with space", { name: "a b" }, 7],
  ["name starting with dash", { name: "-a" }, 7],
  ["name number", { name: 5 }, 7],
  ["type missing", { type: undefined }, 7],
  ["type empty", { type: "" }, 7],
  ["mtu string", { mtu: "1500" }, 7],
  ["mtu too small", { mtu: 67 }, 7],
  ["mtu too large", { mtu: 65536 }, 7],
  ["mtu fraction", { mtu: 1400.5 }, 7],
  ["mtu 68", { mtu: 68 }, undefined],
  ["ipam list", { ipam: [] }, 7],
  ["ipam object", { ipam: { type: "host-local" } }, undefined],
  ["dns not object", { dns: "8.8.8.8" }, 7],
  ["dns nameservers number", { dns: { nameservers: [1] } }, 7],
  ["dns domain number", { dns: { domain: 1 } }, 7],
  ["capabilities non-boolean", { capabilities: { portMappings: "yes" } }, 7],
  ["prevResult list", { prevResult: [] }, 7],
  ["runtimeConfig string", { runtimeConfig: "x" }, 7],
  ["socketPath relative", { socketPath: "cni.sock" }, 7],
  ["logFile number", { logFile: 3 }, 7],
  ["valid-attachments object", { "cni.dev/valid-attachments": {} }, 7],
  ["valid-attachments entry lacks ifname", { "cni.dev/valid-attachments": [{ containerID: "a" }] }, 7],
];
for (const [name, change, code] of FIELD_CASES) {
  test(`config ${name}`, () => {
    const raw: Record<string, unknown> = { ...BASE, ...change };
    for (const [key, value] of Object.entries(change)) if (value === undefined) delete raw[key];
    assert.equal(codeOf(() => parseConfig(raw)), code);
  });
}

test("config reads both GC attachment keys", () => {
  const current = parseConfig({ ...BASE, "cni.dev/valid-attachments": [{ containerID: "c1", ifname: "eth0" }] });
  assert.deepEqual(current.validAttachments, [{ containerId: "c1", ifName: "eth0" }]);
  const older = parseConfig({ ...BASE, "cni.dev/attachments": [{ containerID: "c2", ifname: "net1" }] });
  assert.deepEqual(older.validAttachments, [{ containerId: "c2", ifName: "net1" }]);
  const empty = parseConfig({ ...BASE, "cni.dev/valid-attachments": [] });
  assert.deepEqual(empty.validAttachments, []);
});

test("config error names the field and value", () => {
  assert.throws(() => parseConfig({ ...BASE, mtu: 12 }), /mtu number 12/);
  assert.throws(() => parseConfig({ ...BASE, cniVersion: "0.2.0" }), /"0\.2\.0"/);
});
