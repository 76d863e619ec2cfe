import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sendToAgent } from "../../../cni/client.ts";
import type { AgentRequest } from "../../../cni/protocol.ts";
import { IpamError } from "../../../agent/ipam/allocator.ts";
import type { PodAttacher } from "../../../agent/cniserver/attacher.ts";
import { CniServer, errorBody } from "../../../agent/cniserver/server.ts";
import { silentLogger } from "../../../agent/cniserver/logger.ts";

type Call = { containerId: string; event: "start" | "end" };

/** Builds an attacher whose ADD takes `delayMs` and records when each call starts and ends. */
function slowAttacher(delayMs: number, calls: Call[]): PodAttacher {
  const fake = {
    async add(request: { containerId: string }) {
      calls.push({ containerId: request.containerId, event: "start" });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      calls.push({ containerId: request.containerId, event: "end" });
      return { ips: [] };
    },
    async del() {},
    async check() {},
    async gc() {
      return 0;
    },
  };
  return fake as unknown as PodAttacher;
}

async function withServer(options: { attacher: PodAttacher; isReady?: () => boolean }, body: (socketPath: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "syn-cniserver-"));
  const socketPath = join(dir, "run", "cni.sock");
  const server = await CniServer.listen({ socketPath, attacher: options.attacher, logger: silentLogger, ...(options.isReady === undefined ? {} : { isReady: options.isReady }) });
  try {
    await body(socketPath);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function addRequest(containerId: string): AgentRequest {
  return { protocol: 1, command: "ADD", network: "n", containerId, netns: "/run/netns/x", ifName: "eth0", args: {} };
}

test("server socket has mode 0600", async () => {
  await withServer({ attacher: slowAttacher(0, []) }, async (socketPath) => {
    assert.equal(statSync(socketPath).mode & 0o777, 0o600);
  });
});

test("server serialises one container", async () => {
  const calls: Call[] = [];
  await withServer({ attacher: slowAttacher(30, calls) }, async (socketPath) => {
    await Promise.all([sendToAgent(addRequest("c1"), { socketPath, timeoutMs: 5000 }), sendToAgent(addRequest("c1"), { socketPath, timeoutMs: 5000 })]);
  });
  assert.deepEqual(
    calls.map((call) => call.event),
    ["start", "end", "start", "end"],
  );
});

test("server runs containers in parallel", async () => {
  const calls: Call[] = [];
  await withServer({ attacher: slowAttacher(30, calls) }, async (socketPath) => {
    await Promise.all([sendToAgent(addRequest("c1"), { socketPath, timeoutMs: 5000 }), sendToAgent(addRequest("c2"), { socketPath, timeoutMs: 5000 })]);
  });
  assert.deepEqual(
    calls.map((call) => call.event),
    ["start", "start", "end", "end"],
  );
});

test("server rejects another protocol", async () => {
  await withServer({ attacher: slowAttacher(0, []) }, async (socketPath) => {
    const reply = await sendToAgent({ ...addRequest("c1"), protocol: 2 as 1 }, { socketPath, timeoutMs: 5000 });
    assert.equal(reply.ok, false);
    assert.equal(reply.ok ? 0 : reply.error.code, 1);
  });
});

test("server validates attachment fields", async () => {
  const calls: Call[] = [];
  await withServer({ attacher: slowAttacher(0, calls) }, async (socketPath) => {
    const cases: [Partial<AgentRequest>, number][] = [
      [{ containerId: "a/b" }, 4],
      [{ ifName: "eth0/1" }, 4],
      [{ ifName: "a234567890123456" }, 4],
      [{ network: "bad name" }, 7],
      [{ netns: "relative" }, 4],
    ];
    for (const [change, code] of cases) {
      const reply = await sendToAgent({ ...addRequest("c1"), ...change } as AgentRequest, { socketPath, timeoutMs: 5000 });
      assert.equal(reply.ok ? 0 : reply.error.code, code, JSON.stringify(change));
    }
  });
  assert.equal(calls.length, 0, "no invalid request reached the attacher");
});

test("server not ready: ADD 11, STATUS 50", async () => {
  await withServer({ attacher: slowAttacher(0, []), isReady: () => false }, async (socketPath) => {
    const add = await sendToAgent(addRequest("c1"), { socketPath, timeoutMs: 5000 });
    assert.equal(add.ok ? 0 : add.error.code, 11);
    const status = await sendToAgent({ protocol: 1, command: "STATUS", network: "n", args: {} }, { socketPath, timeoutMs: 5000 });
    assert.equal(status.ok ? 0 : status.error.code, 50);
  });
});

test("error mapping to CNI codes", () => {
  assert.equal(errorBody(new IpamError("IPAM_EXHAUSTED", "pod CIDR 10.0.0.0/30 has no free address")).code, 101);
  assert.equal(errorBody(new Error("boom")).code, 102);
  assert.equal(errorBody(Object.assign(new Error("timed out"), { code: "OVSDB_TIMEOUT" })).details, "OVSDB_TIMEOUT");
});

test("server reports each request once", async () => {
  const dir = mkdtempSync(join(tmpdir(), "syw-cniserver-"));
  const socketPath = join(dir, "cni.sock");
  const events: { command: string; result: string; seconds: number }[] = [];
  const lines: string[] = [];
  const server = await CniServer.listen({ socketPath, attacher: slowAttacher(0, []), logger: silentLogger, isReady: () => true, onRequest: (event) => events.push(event), trace: (line) => lines.push(line) });
  try {
    await sendToAgent(addRequest("c1"), { socketPath, timeoutMs: 5000 });
    // A request from a binary of another protocol version, which the server rejects before parsing the rest.
    const otherVersion = { ...addRequest("c2"), protocol: 99 } as unknown as AgentRequest;
    await sendToAgent(otherVersion, { socketPath, timeoutMs: 5000 }).catch(() => undefined);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(events.length, 2);
  assert.equal(events[0]?.command, "ADD");
  assert.equal(events[0]?.result, "success");
  assert.ok((events[0]?.seconds ?? -1) >= 0);
  // Code 1 is "incompatible CNI version" in the CNI specification's table of error codes.
  assert.equal(events[1]?.command, "unknown");
  assert.equal(events[1]?.result, "1");
  assert.equal(lines.filter((line) => line.startsWith("request ")).length, 2);
  assert.equal(lines.filter((line) => line.startsWith("reply ")).length, 2);
  assert.ok(lines.some((line) => line.includes('"containerId":"c1"')), "the request is traced in full");
});
