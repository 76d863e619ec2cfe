// The distribution server and the agent client over real TLS on 127.0.0.1, with a slice
// source driven by the test instead of the policy computer.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { PolicyClient, type SliceChange } from "../../../agent/policyclient/client.ts";
import { ensureServerCredentials, issueClientCertificate } from "../../../controller/certs/openssl.ts";
import type { HelloMessage } from "../../../controller/distribution/protocol.ts";
import { DistributionServer } from "../../../controller/distribution/server.ts";
import { createSilentLogger } from "../../../common/log/logger.ts";
import { ControllerMetrics } from "../../../controller/metrics.ts";
import { applySliceEvents, emptySlice } from "../../../controller/networkpolicy/slice.ts";
import type { NodeSlice, SliceEvent } from "../../../controller/networkpolicy/types.ts";

/** The slice of one node, changed by the test, published like the computer does. */
class ScriptedSource {
  slice: NodeSlice = emptySlice("n1");
  server: DistributionServer | undefined;
  private next = 1;

  snapshot(node: string): NodeSlice {
    return node === "n1" ? this.slice : emptySlice(node);
  }

  /** Adds one address group per call, as one event. */
  addGroup(id: string): void {
    const event: SliceEvent = { type: "AddressGroupAdded", generation: this.next, group: { id, selector: { namespace: "a", namespaceSelector: null, podSelector: [] }, members: [] } };
    this.next += 1;
    this.slice = applySliceEvents(this.slice, [event]);
    this.server?.publish("n1", [event]);
  }

  /** Publishes an event whose generation skips ahead, as a buggy controller would. */
  jump(id: string, generation: number): void {
    const event: SliceEvent = { type: "AddressGroupAdded", generation, group: { id, selector: { namespace: "a", namespaceSelector: null, podSelector: [] }, members: [] } };
    this.slice = { ...this.slice, generation, addressGroups: [...this.slice.addressGroups, event.group] };
    this.next = generation + 1;
    this.server?.publish("n1", [event]);
  }
}

function call(options: { url: string; method: string; tls: { ca: Buffer; cert?: Buffer; key?: Buffer }; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(options.url, { ...options.tls, agent: false, method: options.method }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    request.on("error", reject);
    request.end(options.body);
  });
}

async function waitFor(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await delay(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("distribution server", () => {
  let dir: string;
  let source: ScriptedSource;
  let server: DistributionServer;
  let url: string;
  let node: { ca: Buffer; cert: Buffer; key: Buffer };
  const clients: PolicyClient[] = [];

  function client(): { client: PolicyClient; changes: SliceChange[]; hellos: HelloMessage[] } {
    const created = new PolicyClient({ nodeName: "n1", controllerUrl: url, tls: node, cacheFile: join(dir, "n1.json"), backoffInitialMs: 20, backoffMaxMs: 50, cacheWriteDelayMs: 1, logger: process.env.SYC_TEST_LOG === undefined ? undefined : console });
    const changes: SliceChange[] = [];
    const hellos: HelloMessage[] = [];
    created.on("change", (change) => changes.push(change));
    created.on("connected", (hello) => hellos.push(hello));
    clients.push(created);
    return { client: created, changes, hellos };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syc-dist-"));
    const tls = await ensureServerCredentials({ dir: join(dir, "tls"), serverNames: ["127.0.0.1"], caValidityDays: 1, certValidityDays: 1 });
    await issueClientCertificate({ caDir: join(dir, "tls"), outDir: join(dir, "n1"), role: "node", name: "n1", validityDays: 1 });
    node = { ca: tls.ca, cert: await readFile(join(dir, "n1", "client.crt")), key: await readFile(join(dir, "n1", "client.key")) };
    source = new ScriptedSource();
    server = new DistributionServer({
      source,
      tls,
      bindAddress: "127.0.0.1",
      port: 0,
      eventLogSize: 2,
      heartbeatMs: 200,
      maxBufferedBytes: 65536,
      instanceId: "instance-a",
      logger: createSilentLogger(),
      metrics: new ControllerMetrics({ processMetrics: false }),
    });
    source.server = server;
    url = `https://127.0.0.1:${await server.listen()}`;
  });

  after(async () => {
    for (const created of clients) await created.stop();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers health checks without a certificate", async () => {
    const response = await call({ url: `${url}/healthz`, method: "GET", tls: { ca: node.ca } });
    assert.deepEqual(response, { status: 200, body: "ok\n" });
  });

  it("rejects a request without a certificate", async () => {
    const response = await call({ url: `${url}/v1/slices/watch`, method: "GET", tls: { ca: node.ca } });
    assert.equal(response.status, 401);
    assert.equal(response.body, "no client certificate: present one issued by switchyard-controller issue-cert\n");
  });

  it("rejects a certificate of another CA", async () => {
    const otherCa = join(dir, "other-ca");
    await ensureServerCredentials({ dir: otherCa, serverNames: ["127.0.0.1"], caValidityDays: 1, certValidityDays: 1 });
    await issueClientCertificate({ caDir: otherCa, outDir: join(otherCa, "n1"), role: "node", name: "n1", validityDays: 1 });
    const forged = { ca: node.ca, cert: await readFile(join(otherCa, "n1", "client.crt")), key: await readFile(join(otherCa, "n1", "client.key")) };
    const response = await call({ url: `${url}/v1/slices/watch`, method: "GET", tls: forged });
    assert.equal(response.status, 401);
    assert.match(response.body, /^client certificate rejected: [A-Z_]+\n$/);
  });

  it("rejects a malformed generation", async () => {
    const response = await call({ url: `${url}/v1/slices/watch?instance=x&generation=-1`, method: "GET", tls: node });
    assert.equal(response.status, 400);
    assert.equal(response.body, 'invalid generation "-1": expected a non-negative integer\n');
  });

  it("returns 404 for an unknown path", async () => {
    const response = await call({ url: `${url}/v2/slices`, method: "GET", tls: node });
    assert.equal(response.status, 404);
  });

  it("rejects an invalid status report", async () => {
    const response = await call({ url: `${url}/v1/status`, method: "POST", tls: node, body: '{"generation":"7","realized":[]}' });
    assert.equal(response.status, 400);
    assert.match(response.body, /field generation must be a non-negative integer, got "7"/);
  });

  it("resyncs when the event log no longer covers the agent", async () => {
    source.addGroup("g1");
    const first = client();
    await first.client.start();
    await waitFor("first snapshot", () => first.client.generation === 1);
    await first.client.stop();
    source.addGroup("g2");
    source.addGroup("g3");
    source.addGroup("g4");
    const second = client();
    await second.client.start();
    await waitFor("second client at generation 4", () => second.client.generation === 4);
    assert.equal(second.hellos[0]?.mode, "snapshot");
    assert.equal(second.hellos[0]?.resyncReason, "log-truncated");
    assert.deepEqual(second.client.slice.addressGroups.map((g) => g.id), ["g1", "g2", "g3", "g4"]);
    assert.deepEqual(second.changes[1]?.events.map((e) => e.type), ["AddressGroupAdded", "AddressGroupAdded", "AddressGroupAdded"]);

    source.addGroup("g5");
    await waitFor("live event", () => second.client.generation === 5);
    assert.equal(second.changes.at(-1)?.source, "events");
    await second.client.stop();
  });

  it("fetches a snapshot after an event it cannot apply", async () => {
    const watcher = client();
    await watcher.client.start();
    await waitFor("connected at generation 5", () => watcher.hellos.length === 1 && watcher.client.generation === 5);
    assert.equal(watcher.hellos[0]?.mode, "resume");
    source.jump("g9", 9);
    await waitFor("resync after the gap", () => watcher.hellos.length === 2);
    assert.equal(watcher.hellos[1]?.mode, "snapshot");
    assert.equal(watcher.hellos[1]?.resyncReason, "initial");
    await waitFor("generation 9", () => watcher.client.generation === 9);
    assert.deepEqual(watcher.client.slice.addressGroups.map((g) => g.id), ["g1", "g2", "g3", "g4", "g5", "g9"]);
    await watcher.client.stop();
  });

  it("disconnects an agent that stops reading", async () => {
    const opened = new Promise<() => void>((resolve) => {
      const request = httpsRequest(`${url}/v1/slices/watch`, { ...node, agent: false }, (response) => {
        response.pause();
        resolve(() => request.destroy());
      });
      request.on("error", () => undefined);
      request.end();
    });
    const destroy = await opened;
    try {
      await waitFor("the stream to register", () => server.connectedAgents() === 1);
      const members = Array.from({ length: 5000 }, (_, i) => ({ ip: `10.${i >> 8}.${i & 255}.1`, namedPorts: [] }));
      const selector = { namespace: "a", namespaceSelector: null, podSelector: [] };
      let generation = source.slice.generation;
      // About 200 KB per event: far more than socket buffers and maxBufferedBytes together.
      for (let i = 0; i < 200 && server.connectedAgents() > 0; i++) {
        generation += 1;
        server.publish("n1", [{ type: "AddressGroupAdded", generation, group: { id: `big-${i}`, selector, members } }]);
        await delay(1);
      }
      await waitFor("the slow stream to close", () => server.connectedAgents() === 0);
    } finally {
      destroy();
    }
  });

  it("sends heartbeats on an idle stream", async () => {
    const text = await new Promise<string>((resolve) => {
      let received = "";
      const request = httpsRequest(`${url}/v1/slices/watch`, { ...node, agent: false }, (response) => {
        response.on("data", (chunk: Buffer) => (received += chunk.toString()));
        setTimeout(() => {
          request.destroy();
          resolve(received);
        }, 500);
      });
      request.end();
    });
    const types = text.trim().split("\n").map((line) => (JSON.parse(line) as { type: string }).type);
    assert.deepEqual(types.slice(0, 2), ["hello", "snapshot"]);
    assert.ok(types.filter((t) => t === "heartbeat").length >= 2, types.join(","));
  });
});
