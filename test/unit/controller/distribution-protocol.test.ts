import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeEventLog, planResume } from "../../../controller/distribution/event-log.ts";
import { LineDecoder, ProtocolError, decodeMessage, encodeMessage } from "../../../controller/distribution/protocol.ts";
import type { SliceEvent } from "../../../controller/networkpolicy/types.ts";

function removed(generation: number): SliceEvent {
  return { type: "PolicyRemoved", generation, policyId: `ns/p${generation}` };
}

describe("watch line framing", () => {
  // Written by hand from the protocol description: one JSON object per line.
  const wire =
    '{"type":"hello","protocol":1,"node":"n\u00e9","controllerInstance":"i-1","mode":"resume","generation":7,"heartbeatMs":1000}\n' +
    '{"type":"events","events":[{"type":"PolicyRemoved","generation":8,"policyId":"ns/\u00fc"}]}\n' +
    '{"type":"heartbeat","generation":8}\n';
  const bytes = Buffer.from(wire, "utf8");

  it("decodes a stream split at every byte", () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const decoder = new LineDecoder();
      const lines = [...decoder.push(bytes.subarray(0, cut)), ...decoder.push(bytes.subarray(cut))];
      assert.deepEqual(lines, wire.split("\n").slice(0, 3), `split at byte ${cut}`);
    }
  });

  it("decodes one byte at a time", () => {
    const decoder = new LineDecoder();
    const lines: string[] = [];
    for (const byte of bytes) lines.push(...decoder.push(Buffer.from([byte])));
    assert.equal(lines.length, 3);
    assert.equal(decodeMessage(lines[1] ?? "").type, "events");
  });

  it("encodes a message as one line", () => {
    const line = encodeMessage({ type: "heartbeat", generation: 8 });
    assert.equal(line, '{"type":"heartbeat","generation":8}\n');
  });

  it("round-trips each message type", () => {
    for (const line of wire.split("\n").slice(0, 3)) {
      assert.equal(encodeMessage(decodeMessage(line)), `${line}\n`);
    }
  });

  it("rejects a line over the limit", () => {
    const decoder = new LineDecoder({ maxLineLength: 10 });
    assert.deepEqual(decoder.push(Buffer.from("12345")), []);
    assert.throws(() => decoder.push(Buffer.from("678901")), (error: unknown) => error instanceof ProtocolError && error.code === "PROTOCOL_LINE_TOO_LONG");
  });

  const invalid: [string, string, RegExp][] = [
    ["not JSON", "{oops", /watch line is not JSON/],
    ["not an object", "[1]", /unknown watch message type undefined/],
    ["unknown type", '{"type":"bye"}', /unknown watch message type "bye"/],
    ["hello without instance", '{"type":"hello","protocol":1,"node":"n","mode":"resume","generation":1,"heartbeatMs":5}', /field controllerInstance is missing/],
    ["hello with bad mode", '{"type":"hello","protocol":1,"node":"n","controllerInstance":"i","mode":"x","generation":1,"heartbeatMs":5}', /mode "x"/],
    ["snapshot without slice", '{"type":"snapshot","generation":1}', /field slice is missing/],
    ["events not a list", '{"type":"events","events":{}}', /events is not a list/],
    ["event without generation", '{"type":"events","events":[{"type":"PolicyRemoved"}]}', /an event has no numeric generation/],
  ];
  for (const [name, line, pattern] of invalid) {
    it(`rejects ${name}`, () => {
      assert.throws(() => decodeMessage(line), (error: unknown) => error instanceof ProtocolError && pattern.test(error.message));
    });
  }
});

describe("node event log", () => {
  it("returns events after a generation", () => {
    const log = new NodeEventLog({ capacity: 10 });
    log.append([removed(1), removed(2), removed(3)]);
    assert.deepEqual(log.since(1)?.map((e) => e.generation), [2, 3]);
    assert.deepEqual(log.since(3), []);
    assert.deepEqual(log.since(0)?.map((e) => e.generation), [1, 2, 3]);
    assert.equal(log.since(4), undefined);
  });

  it("drops the oldest events beyond capacity", () => {
    const log = new NodeEventLog({ capacity: 3 });
    log.append([1, 2, 3, 4, 5].map(removed));
    assert.equal(log.floor, 2);
    assert.equal(log.latest, 5);
    assert.equal(log.size, 3);
    assert.equal(log.since(1), undefined);
    assert.deepEqual(log.since(2)?.map((e) => e.generation), [3, 4, 5]);
  });

  it("restarts after a generation gap", () => {
    const log = new NodeEventLog({ capacity: 5 });
    log.append([removed(1), removed(2), removed(9)]);
    assert.equal(log.floor, 8);
    assert.equal(log.since(2), undefined);
    assert.deepEqual(log.since(8)?.map((e) => e.generation), [9]);
  });
});

describe("resume plan", () => {
  const log = new NodeEventLog({ capacity: 3 });
  log.append([1, 2, 3, 4, 5].map(removed));
  const base = { instance: "i-1", currentGeneration: 5, log };

  const cases: { name: string; request: { instance?: string; generation?: number }; mode: string; detail: unknown }[] = [
    { name: "first connection", request: {}, mode: "snapshot", detail: "initial" },
    { name: "generation without instance", request: { generation: 3 }, mode: "snapshot", detail: "initial" },
    { name: "controller restarted", request: { instance: "i-0", generation: 5 }, mode: "snapshot", detail: "instance-changed" },
    { name: "agent ahead", request: { instance: "i-1", generation: 6 }, mode: "snapshot", detail: "generation-ahead" },
    { name: "log truncated", request: { instance: "i-1", generation: 1 }, mode: "snapshot", detail: "log-truncated" },
    { name: "resume from floor", request: { instance: "i-1", generation: 2 }, mode: "resume", detail: [3, 4, 5] },
    { name: "resume recent", request: { instance: "i-1", generation: 4 }, mode: "resume", detail: [5] },
    { name: "up to date", request: { instance: "i-1", generation: 5 }, mode: "resume", detail: [] },
  ];
  for (const { name, request, mode, detail } of cases) {
    it(name, () => {
      const plan = planResume({ ...base, request });
      assert.equal(plan.mode, mode);
      if (plan.mode === "snapshot") assert.equal(plan.reason, detail);
      else assert.deepEqual(plan.events.map((e) => e.generation), detail);
    });
  }

  it("resyncs a node without a log", () => {
    const plan = planResume({ instance: "i-1", currentGeneration: 4, log: undefined, request: { instance: "i-1", generation: 2 } });
    assert.deepEqual(plan, { mode: "snapshot", reason: "log-truncated" });
  });
});
