import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCni } from "../../../cni/plugin.ts";
import type { CniResult } from "../../../cni/result.ts";
import { captureIo, startRecordingAgent } from "./recording-agent.ts";

const RESULT: CniResult = {
  interfaces: [{ name: "pod-00000001" }, { name: "eth0", mac: "02:00:00:00:00:01", mtu: 1450, sandbox: "/run/netns/p" }],
  ips: [{ address: "10.1.0.2/24", gateway: "10.1.0.1", interface: 1 }],
  routes: [{ dst: "0.0.0.0/0", gw: "10.1.0.1" }],
};

function attachEnv(command: string): Record<string, string> {
  return { CNI_COMMAND: command, CNI_CONTAINERID: "c1", CNI_NETNS: "/run/netns/p", CNI_IFNAME: "eth0", CNI_PATH: "/opt/cni/bin", CNI_ARGS: "K8S_POD_NAME=web;K8S_POD_NAMESPACE=ns1" };
}

test("VERSION prints supported versions", async () => {
  const { io, out } = captureIo({ CNI_COMMAND: "VERSION" }, '{"cniVersion":"0.4.0"}');
  assert.equal(await runCni(io), 0);
  assert.deepEqual(JSON.parse(out()), { cniVersion: "1.1.0", supportedVersions: ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] });
});

test("VERSION works with empty stdin", async () => {
  const { io, out } = captureIo({ CNI_COMMAND: "VERSION" }, "");
  assert.equal(await runCni(io), 0);
  assert.equal(JSON.parse(out()).cniVersion, "1.1.0");
});

test("ADD forwards the request and converts the result", async (t) => {
  const agent = await startRecordingAgent(() => ({ ok: true, result: RESULT }));
  const logDir = mkdtempSync(join(tmpdir(), "syn-cni-log-"));
  t.after(async () => {
    await agent.close();
    rmSync(logDir, { recursive: true, force: true });
  });
  const config = { cniVersion: "0.4.0", name: "net1", type: "switchyard", mtu: 1400, socketPath: agent.socketPath, logFile: join(logDir, "cni.log"), dns: { nameservers: ["10.96.0.10"] } };
  const { io, out, err } = captureIo(attachEnv("ADD"), JSON.stringify(config));
  assert.equal(await runCni(io), 0, err());

  assert.deepEqual(JSON.parse(out()), {
    cniVersion: "0.4.0",
    interfaces: [{ name: "pod-00000001" }, { name: "eth0", mac: "02:00:00:00:00:01", sandbox: "/run/netns/p" }],
    ips: [{ version: "4", address: "10.1.0.2/24", gateway: "10.1.0.1", interface: 1 }],
    routes: [{ dst: "0.0.0.0/0", gw: "10.1.0.1" }],
    dns: {},
  });

  assert.equal(agent.requests.length, 1);
  assert.deepEqual(agent.requests[0], {
    protocol: 1,
    command: "ADD",
    network: "net1",
    containerId: "c1",
    netns: "/run/netns/p",
    ifName: "eth0",
    args: { podName: "web", podNamespace: "ns1" },
    mtu: 1400,
    dns: { nameservers: ["10.96.0.10"] },
  });

  const logLines = readFileSync(join(logDir, "cni.log"), "utf8").trim().split("\n");
  assert.equal(logLines.length, 1);
  assert.equal(JSON.parse(logLines[0] ?? "{}").outcome, "ok");
});

test("agent error reaches stdout with its code", async (t) => {
  const agent = await startRecordingAgent(() => ({ ok: false, error: { code: 101, msg: "pod CIDR 10.1.0.0/30 has no free address", details: "IPAM_EXHAUSTED" } }));
  t.after(() => agent.close());
  const { io, out } = captureIo(attachEnv("ADD"), JSON.stringify({ cniVersion: "1.0.0", name: "n", type: "switchyard", socketPath: agent.socketPath, logFile: "/dev/null" }));
  assert.equal(await runCni(io), 1);
  assert.deepEqual(JSON.parse(out()), { cniVersion: "1.0.0", code: 101, msg: "pod CIDR 10.1.0.0/30 has no free address", details: "IPAM_EXHAUSTED" });
});

test("DEL, CHECK, STATUS and GC print nothing on success", async (t) => {
  const agent = await startRecordingAgent(() => ({ ok: true }));
  t.after(() => agent.close());
  for (const command of ["DEL", "CHECK", "STATUS", "GC"]) {
    const config = { cniVersion: "1.1.0", name: "n", type: "switchyard", socketPath: agent.socketPath, logFile: "/dev/null", "cni.dev/valid-attachments": [{ containerID: "c9", ifname: "eth0" }] };
    const { io, out, err } = captureIo(attachEnv(command), JSON.stringify(config));
    assert.equal(await runCni(io), 0, `${command}: ${err()}`);
    assert.equal(out(), "", command);
  }
  assert.deepEqual(agent.requests.map((request) => request.command), ["DEL", "CHECK", "STATUS", "GC"]);
  assert.deepEqual(agent.requests[3]?.validAttachments, [{ containerId: "c9", ifName: "eth0" }]);
});

test("agent down gives code 11, STATUS code 50", async () => {
  const config = { cniVersion: "1.1.0", name: "n", type: "switchyard", socketPath: "/nonexistent/syn-cni.sock", logFile: "/dev/null" };
  const add = captureIo(attachEnv("ADD"), JSON.stringify(config));
  assert.equal(await runCni(add.io), 1);
  assert.equal(JSON.parse(add.out()).code, 11);
  assert.match(JSON.parse(add.out()).msg, /\/nonexistent\/syn-cni\.sock/);
  const status = captureIo({ CNI_COMMAND: "STATUS" }, JSON.stringify(config));
  assert.equal(await runCni(status.io), 1);
  assert.equal(JSON.parse(status.out()).code, 50);
});

// Operations that a configuration's version does not define fail with code 1.
const VERSION_GATES: [string, string, number][] = [
  ["CHECK", "0.3.0", 1],
  ["CHECK", "0.3.1", 1],
  ["STATUS", "1.0.0", 1],
  ["GC", "1.0.0", 1],
  ["GC", "0.4.0", 1],
];
for (const [command, version, code] of VERSION_GATES) {
  test(`${command} refused at ${version}`, async (t) => {
    const agent = await startRecordingAgent(() => ({ ok: true }));
    t.after(() => agent.close());
    const { io, out } = captureIo(attachEnv(command), JSON.stringify({ cniVersion: version, name: "n", type: "switchyard", socketPath: agent.socketPath, logFile: "/dev/null" }));
    assert.equal(await runCni(io), 1);
    const error = JSON.parse(out());
    assert.equal(error.code, code);
    assert.equal(error.cniVersion, version);
    assert.equal(agent.requests.length, 0);
  });
}

test("error output is a single JSON line", async () => {
  const { io, out } = captureIo(attachEnv("ADD"), "{not json");
  assert.equal(await runCni(io), 1);
  assert.equal(out().split("\n").filter((line) => line !== "").length, 1);
  assert.deepEqual(Object.keys(JSON.parse(out())).sort(), ["cniVersion", "code", "msg"]);
  assert.equal(JSON.parse(out()).code, 6);
});
