// The switch connection against a scripted fake switch: negotiation, xid correlation,
// multipart reassembly, errors tied to their request, bundles, keepalive, reconnection,
// back-pressure and packet-in events.
import assert from "node:assert/strict";
import { once } from "node:events";
import type { Socket } from "node:net";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { OpenFlowConnection } from "../../../openflow/connection/connection.ts";
import { OpenFlowBundleError, OpenFlowConnectionError, OpenFlowError } from "../../../openflow/connection/errors.ts";
import { traceEnabled } from "../../../openflow/connection/trace.ts";
import { flowModFromText } from "../../../openflow/messages/flow-mod-text.ts";
import { OpenFlowVersion } from "../../../openflow/version.ts";
import { ofpMessage, startFakeSwitch } from "./messages-fake-switch.ts";
import type { FakeSwitchOptions, ReceivedMessage } from "./messages-fake-switch.ts";

async function withFake(
  options: FakeSwitchOptions,
  run: (fake: Awaited<ReturnType<typeof startFakeSwitch>>) => Promise<void>,
): Promise<void> {
  const fake = await startFakeSwitch(options);
  try {
    await run(fake);
  } finally {
    await fake.close();
  }
}

/** Builds an OFPT_ERROR reply from the specification: type, code, then the offending bytes. */
function errorReply(request: ReceivedMessage, type: number, code: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt16BE(type, 0);
  body.writeUInt16BE(code, 2);
  return ofpMessage(request.version, 1, request.xid, Buffer.concat([body, request.bytes.subarray(0, 64)]));
}

/** Two OpenFlow 1.5 flow stats entries (from Open vSwitch's tests/ofp-print.at). */
const FLOW_STATS_15 = Buffer.from(
  "0078000000008000000000000005000000000000000000000001000c8000000400000002000000000000003480020008000000c40b06e04080020208000000c40000000080020808000000000000000280020a08000000000000008000000000000400180000000000000010fffffffa00000000000000000078000000000fa0000000000005000000000000000000000001000c8000000400000003000000000000003480020008000000b32540be4080020208000000b30000000080020808000000000000000280020a08000000000000008000000000000400180000000000000010fffffffa0000000000000000",
  "hex",
);

function flowStatsPart(request: ReceivedMessage, entries: Buffer, more: boolean): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16BE(1, 0);
  header.writeUInt16BE(more ? 1 : 0, 2);
  return ofpMessage(request.version, 19, request.xid, Buffer.concat([header, entries]));
}

const addFlow = (text: string) => flowModFromText(text, { version: OpenFlowVersion.OF15 });

describe("negotiation", () => {
  test("highest common version is chosen", async () => {
    await withFake({ versions: [4, 6] }, async (fake) => {
      const connection = await OpenFlowConnection.connect({ address: `unix:${fake.path}`, reconnect: false });
      assert.equal(connection.version, OpenFlowVersion.OF15);
      assert.equal(connection.datapathId, 0x505400000001n);
      await connection.close();
    });
  });

  test("switch with only 1.3", async () => {
    await withFake({ versions: [4] }, async (fake) => {
      const connection = await OpenFlowConnection.connect({ address: fake.path, reconnect: false });
      assert.equal(connection.version, OpenFlowVersion.OF13);
      await connection.close();
    });
  });

  test("configured versions limit the choice", async () => {
    await withFake({ versions: [4, 6] }, async (fake) => {
      const connection = await OpenFlowConnection.connect({ address: fake.path, versions: [OpenFlowVersion.OF13], reconnect: false });
      assert.equal(connection.version, OpenFlowVersion.OF13);
      await connection.close();
    });
  });

  test("no common version rejects and sends HELLO_FAILED", async () => {
    await withFake({ versions: [1] }, async (fake) => {
      await assert.rejects(
        OpenFlowConnection.connect({ address: fake.path, reconnect: false }),
        (error: unknown) => error instanceof OpenFlowConnectionError && error.code === "ERR_OPENFLOW_NEGOTIATION",
      );
      await sleep(20);
      const failure = fake.received.find((m) => m.type === 1);
      assert.ok(failure, "an OFPT_ERROR was sent");
      assert.equal(failure.bytes.readUInt16BE(8), 0, "type OFPET_HELLO_FAILED");
    });
  });

  test("TCP address on loopback", async () => {
    await withFake({ listen: "tcp" }, async (fake) => {
      assert.match(fake.address, /^tcp:127\.0\.0\.1:\d+$/);
      const connection = await OpenFlowConnection.connect({ address: fake.address, reconnect: false });
      assert.equal(connection.version, OpenFlowVersion.OF15);
      await connection.barrier();
      assert.ok(fake.received.some((m) => m.type === 20), "barrier reached the switch over TCP");
      await connection.close();
    });
  });

  test("unreachable socket rejects with CONNECT", async () => {
    await assert.rejects(
      OpenFlowConnection.connect({ address: "unix:/nonexistent/syo.mgmt", reconnect: false }),
      (error: unknown) => error instanceof OpenFlowConnectionError && error.code === "ERR_OPENFLOW_CONNECT",
    );
  });
});

describe("requests", () => {
  test("replies answered out of order reach their requests", async () => {
    const heldRequests: { message: ReceivedMessage; socket: Socket }[] = [];
    await withFake(
      {
        respond: (message, socket) => {
          if (message.type !== 2 || message.bytes.length === 8) return undefined;
          heldRequests.push({ message, socket });
          if (heldRequests.length === 3) {
            for (const { message: m, socket: s } of [...heldRequests].reverse()) s.write(ofpMessage(m.version, 3, m.xid, m.bytes.subarray(8)));
          }
          return [];
        },
      },
      async (fake) => {
        const connection = await OpenFlowConnection.connect({ address: fake.path, reconnect: false, echoIntervalMs: 0 });
        const replies = await Promise.all(
          ["a", "bb", "ccc"].map((payload) => connection.request({ kind: "echo_request", data: Buffer.from(payload) })),
        );
        assert.deepEqual(
          replies.map((r) => (r.kind === "echo_reply" ? r.data.toString() : "")),
          ["a", "bb", "ccc"],
        );
        await connection.close();
      },
    );
  });

  test("multipart parts with MORE are merged", async () => {
    const first = FLOW_STATS_15.subarray(0, 0x78);
    const second = FLOW_STATS_15.subarray(0x78);
    await withFake(
      {
        respond: (message) =>
          message.type === 18 && message.bytes.readUInt16BE(8) === 1
            ? [flowStatsPart(message, first, true), flowStatsPart(message, second, false)]
            : undefined,
      },
      async (fake) => {
        const connection = await OpenFlowConnection.connect({ address: fake.path, reconnect: false });
        const flows = await connection.dumpFlows();
        assert.deepEqual(
          flows.map((f) => [f.priority, f.packetCount, f.durationSec]),
          [
            [0x8000, 2n, 196],
            [4000, 2n, 179],
          ],
        );
        await connection.close();
      },
    );
  });

  test("switch error rejects the request that caused it", async () => {
    await withFake(
      { respond: (message) => (message.type === 14 ? [errorReply(message, 5, 3)] : undefined) },
      async (fake) => {
        const connection = await OpenFlowConnection.connect({ address: fake.path, reconnect: false });
        const good = connection.post({ kind: "barrier_request" });
        const bad = connection.post(addFlow("priority=100,ip,actions=drop"));
        await good;
        await assert.rejects(bad, (error: unknown) => {
          assert.ok(error instanceof OpenFlowError);
          assert.equal(error.codeName, "OFPFMFC_OVERLAP");
          assert.equal(error.typeName, "OFPET_FLOW_MOD_FAILED");
          assert.match(error.requestText, /OFPT_FLOW_MOD \(OF1\.5\) \(xid=0x[0-9a-f]+\): ADD priority=100,ip actions=drop/);
          assert.equal(error.xid, fake.received.find((m) => m.type === 14)?.xid);
          return true;
        });
        await connection.close();
      },
    );
  });

  test("posted messages resolve after the barrier", async () => {
    await withFake({}, async (fake) => {
      const connection = await OpenFlowConnection.connect({ address: fake.path, reconnect: false });
      await Promise.all([connection.post(addFlow("priority=1,actions=drop")), connection.post(addFlow("priority=2,actions=drop"))]);
      const types = fake.received.map((m) => m.type).filter((t) => t === 14 || t === 20);
      assert.deepEqual(types.slice(-3), [14, 14, 20], "two flow_mods then one barrier");
      await connection.close();
    });
  });
});

describe("bundles", () => {
  test("all messages are added, then committed", async () => {
    await withFake({}, async (fake) => {
      const connection = await OpenFlowConnection.connect({ address: fake.path, reconnect: false });
      const flows = Array.from({ length: 5000 }, (_, i) => addFlow(`priority=${i + 1},ip,nw_src=10.0.${i >> 8}.${i & 255},actions=drop`));
      await connection.bundle(flows);
      const bundleTypes = fake.received.filter((m) => m.type === 33 || m.type === 34);
      assert.equal(bundleTypes.filter((m) => m.type === 34).length, 5000);
      const controls = bundleTypes.filter((m) => m.type === 33).map((m) => m.bytes.readUInt16BE(12));
      assert.deepEqual(controls, [0, 4], "open then commit");
      await connection.close();
    });
  });

  test("a failing message rejects the commit and is named", async () => {
    let adds = 0;
    await withFake(
      {
        respond: (message) => {
          if (message.type === 34) {
            adds += 1;
            return adds === 2 ? [errorReply(message, 4, 9)] : [];
          }
          return undefined;
        },
      },
      async (fake) => {
        const connection = await OpenFlowConnection.connect({ address: fake.path, reconnect: false });
        const flows = [addFlow("priority=1,actions=drop"), addFlow("priority=2,ip,actions=drop"), addFlow("priority=3,actions=drop")];
        await assert.rejects(connection.bundle(flows), (error: unknown) => {
          assert.ok(error instanceof OpenFlowBundleError);
          assert.equal(error.failedIndex, 1);
          assert.match(error.message, /message 1 failed with OFPBMC_BAD_PREREQ: .*ADD priority=2,ip actions=drop/);
          return true;
        });
        const controls = fake.received.filter((m) => m.type === 33).map((m) => m.bytes.readUInt16BE(12));
        assert.deepEqual(controls, [0, 6], "open then discard, no commit");
        await connection.close();
      },
    );
  });

  test("OpenFlow 1.3 bundles use ONF experimenter messages", async () => {
    await withFake({ versions: [4] }, async (fake) => {
      const connection = await OpenFlowConnection.connect({ address: fake.path, reconnect: false });
      await connection.bundle([flowModFromText("priority=1,actions=drop", { version: OpenFlowVersion.OF13 })]);
      const experimenter = fake.received.filter((m) => m.type === 4).map((m) => m.bytes.readUInt32BE(12));
      assert.deepEqual(experimenter, [2300, 2301, 2300]);
      await connection.close();
    });
  });
});

describe("liveness", () => {
  test("silent switch is declared dead", async () => {
    await withFake({ respond: (message) => (message.type === 2 ? [] : undefined) }, async (fake) => {
      const connection = await OpenFlowConnection.connect({
        address: fake.path,
        reconnect: false,
        echoIntervalMs: 40,
        deadPeerTimeoutMs: 200,
      });
      const started = Date.now();
      await once(connection, "disconnected");
      assert.ok(Date.now() - started >= 150, "not before the dead-peer timeout");
      assert.ok(fake.received.some((m) => m.type === 2), "echo requests were sent");
      await connection.close();
    });
  });

  test("reconnect fires after the switch drops the connection", async () => {
    await withFake({}, async (fake) => {
      const connection = await OpenFlowConnection.connect({ address: fake.path, reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
      const reconnected = once(connection, "reconnected");
      const pending = connection.request({ kind: "echo_request", data: Buffer.alloc(0) }).catch((error: unknown) => error);
      for (const socket of fake.sockets) socket.destroy();
      const [event] = (await reconnected) as [{ version: number }];
      assert.equal(event.version, OpenFlowVersion.OF15);
      assert.ok(connection.isConnected);
      const outcome = await pending;
      assert.ok(outcome instanceof Error || (outcome as { kind?: string }).kind === "echo_reply");
      await connection.close();
    });
  });
});

describe("packet-in", () => {
  test("setup messages and NXT_PACKET_IN2 event with userdata", async () => {
    await withFake({}, async (fake) => {
      const connection = await OpenFlowConnection.connect({ address: fake.path, reconnect: false, packetIn: { missSendLen: 128 } });
      const setConfig = fake.received.find((m) => m.type === 9);
      assert.equal(setConfig?.bytes.readUInt16BE(10), 128, "SET_CONFIG miss_send_len");
      const format = fake.received.find((m) => m.type === 4 && m.bytes.readUInt32BE(12) === 16);
      assert.equal(format?.bytes.readUInt32BE(16), 2, "NXT_SET_PACKET_IN_FORMAT = nxt_packet_in2");

      // NXT_PACKET_IN2 from Open vSwitch's tests/ofp-print.at, with the version set to 1.5.
      const packetIn = Buffer.from(
        "06040098000000000000232000000" +
          "01e0000003482828282828280818181818181000050080045000028000000000006320553535353545454540055005600000000000000000000000100080000004000020008000001140003000507000000000400100000000" +
          "0fedcba98765432100005000501000000000600108000040" +
          "85a5a5a5a5a5a5a5a000700090102030405000000000000000",
        "hex",
      );
      const event = once(connection, "packetIn");
      for (const socket of fake.sockets) socket.write(packetIn);
      const [message] = (await event) as [{ kind: string; userdata?: Buffer; tableId?: number; totalLen?: number }];
      assert.equal(message.kind, "nx_packet_in2");
      assert.equal(message.userdata?.toString("hex"), "0102030405");
      assert.equal(message.tableId, 7);
      assert.equal(message.totalLen, 64);
      await connection.close();
    });
  });
});

describe("flow control and tracing", () => {
  test("outstanding requests are bounded", async () => {
    const waiting: { message: ReceivedMessage; socket: Socket }[] = [];
    let releasing = false;
    const reply = (m: ReceivedMessage, s: Socket): void => {
      s.write(ofpMessage(m.version, 3, m.xid, m.bytes.subarray(8)));
    };
    await withFake(
      {
        respond: (message, socket) => {
          if (message.type !== 2 || message.bytes.length === 8) return undefined;
          if (releasing) reply(message, socket);
          else waiting.push({ message, socket });
          return [];
        },
      },
      async (fake) => {
        const connection = await OpenFlowConnection.connect({
          address: fake.path,
          reconnect: false,
          echoIntervalMs: 0,
          maxOutstandingRequests: 2,
        });
        const requests = Array.from({ length: 5 }, (_, i) => connection.request({ kind: "echo_request", data: Buffer.from([i]) }));
        await sleep(100);
        assert.equal(waiting.length, 2, "only two requests reach the switch before replies");
        releasing = true;
        for (const { message, socket } of waiting) reply(message, socket);
        const replies = await Promise.all(requests);
        assert.deepEqual(
          replies.map((r) => (r.kind === "echo_reply" ? r.data[0] : -1)),
          [0, 1, 2, 3, 4],
        );
        await connection.close();
      },
    );
  });

  test("trace sink receives messages with hex", async () => {
    await withFake({}, async (fake) => {
      const lines: string[] = [];
      const connection = await OpenFlowConnection.connect({ address: fake.path, reconnect: false, trace: (line) => lines.push(line) });
      await connection.barrier();
      assert.ok(lines.some((line) => line.startsWith("openflow send") && line.includes("OFPT_BARRIER_REQUEST")));
      assert.ok(lines.some((line) => line.startsWith("openflow recv") && line.includes("OFPT_BARRIER_REPLY")));
      assert.ok(lines.some((line) => /00000000 {2}06 14 00 08/.test(line)), "hex dump of the barrier request");
      await connection.close();
    });
  });

  test("SWITCHYARD_TRACE selects tracers by name", () => {
    assert.equal(traceEnabled("openflow", { SWITCHYARD_TRACE: "ovsdb,openflow" }), true);
    assert.equal(traceEnabled("openflow", { SWITCHYARD_TRACE: "all" }), true);
    assert.equal(traceEnabled("openflow", { SWITCHYARD_TRACE: "ovsdb" }), false);
    assert.equal(traceEnabled("openflow", {}), false);
  });
});

describe("API misuse", () => {
  test("request() rejects messages without replies", async () => {
    await withFake({}, async (fake) => {
      const connection = await OpenFlowConnection.connect({ address: fake.path, reconnect: false });
      await assert.rejects(connection.request(addFlow("priority=1,actions=drop")), /send it with post\(\)/);
      await connection.close();
    });
  });
});
