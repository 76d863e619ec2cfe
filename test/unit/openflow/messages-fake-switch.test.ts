// Messages ovs-ofctl cannot encode offline (meter_mod, packet_out, bundles): ovs-ofctl sends
// them to a fake switch on a unix socket, which records them, and each recorded message must
// equal our encoding of the same request.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { parseActions } from "../../../openflow/actions/index.ts";
import { decodeMessage, encodeMessage } from "../../../openflow/messages/codec.ts";
import { flowModFromText } from "../../../openflow/messages/flow-mod-text.ts";
import type { OpenFlowMessage } from "../../../openflow/messages/types.ts";
import { OpenFlowVersion } from "../../../openflow/version.ts";
import { startFakeSwitch } from "./messages-fake-switch.ts";
import type { FakeSwitch, ReceivedMessage } from "./messages-fake-switch.ts";

const run = promisify(execFile);

const VERSIONS = [
  { version: OpenFlowVersion.OF13, name: "OpenFlow13" },
  { version: OpenFlowVersion.OF15, name: "OpenFlow15" },
] as const;

let fake: FakeSwitch;
let dir: string;

before(async () => {
  fake = await startFakeSwitch();
  dir = mkdtempSync(join(tmpdir(), "syo-ofctl-"));
});

after(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs ovs-ofctl against the fake switch and returns the messages it sent, HELLO excluded. */
async function capture(args: readonly string[]): Promise<ReceivedMessage[]> {
  fake.received.length = 0;
  await run("ovs-ofctl", ["--no-names", ...args], { timeout: 10_000 });
  return fake.received.filter((m) => m.type !== 0);
}

function only(messages: readonly ReceivedMessage[], type: number): ReceivedMessage {
  const found = messages.filter((m) => m.type === type);
  assert.equal(found.length, 1, `expected one message of type ${type}, got types ${messages.map((m) => m.type).join(",")}`);
  return found[0] as ReceivedMessage;
}

function encodeAs(body: object, sent: ReceivedMessage): string {
  return encodeMessage({ ...body, version: sent.version, xid: sent.xid } as OpenFlowMessage).toString("hex");
}

describe("METER_MOD sent by ovs-ofctl add-meter", () => {
  for (const { version, name } of VERSIONS) {
    test(name, async () => {
      const sent = only(
        await capture(["-O", name, "add-meter", `unix:${fake.path}`, "meter=7,kbps,burst,stats,bands=type=drop,rate=1000,burst_size=100"]),
        29,
      );
      assert.equal(sent.version, version);
      const ours = encodeAs(
        { kind: "meter_mod", command: 0, flags: 0x1 | 0x4 | 0x8, meterId: 7, bands: [{ type: 1, rate: 1000, burstSize: 100 }] },
        sent,
      );
      assert.equal(ours, sent.bytes.toString("hex"));
    });
  }
});

describe("PACKET_OUT sent by ovs-ofctl packet-out", () => {
  const packet = "ffffffffffff00000000000108060001080006040001000000000001c0a80001000000000000c0a80002";
  for (const { version, name } of VERSIONS) {
    test(name, async () => {
      const sent = only(
        await capture(["-O", name, "packet-out", `unix:${fake.path}`, `in_port=1 packet=${packet} actions=output:2`]),
        13,
      );
      const ours = encodeAs(
        {
          kind: "packet_out",
          bufferId: 0xffffffff,
          inPort: 1,
          actions: parseActions("output:2", { version }),
          data: Buffer.from(packet, "hex"),
        },
        sent,
      );
      assert.equal(ours, sent.bytes.toString("hex"));
      const decoded = decodeMessage(sent.bytes);
      assert.equal(decoded.kind, "packet_out");
      assert.equal(encodeMessage(decoded).toString("hex"), sent.bytes.toString("hex"));
    });
  }
});

describe("bundle sent by ovs-ofctl --bundle add-flows", () => {
  const flows = ["priority=10,ip,nw_src=10.0.0.1,actions=drop", "priority=20,tcp,tp_dst=80,actions=output:3"];
  for (const { version, name } of VERSIONS) {
    test(name, async () => {
      const file = join(dir, `flows-${name}.txt`);
      writeFileSync(file, flows.join("\n") + "\n");
      const sent = await capture(["-O", name, "--bundle", "add-flows", `unix:${fake.path}`, file]);
      const bundleMessages = sent.map((m) => decodeMessage(m.bytes)).filter((m) => m.kind === "bundle_control" || m.kind === "bundle_add");
      const controls = bundleMessages.filter((m) => m.kind === "bundle_control");
      const adds = sent.filter((m) => decodeMessage(m.bytes).kind === "bundle_add");
      assert.deepEqual(
        controls.map((m) => (m.kind === "bundle_control" ? [m.controlType, m.flags] : [])),
        [
          [0, 3],
          [4, 3],
        ],
        "open and commit, both atomic|ordered",
      );
      assert.equal(adds.length, flows.length);
      adds.forEach((add, index) => {
        const decoded = decodeMessage(add.bytes);
        assert.equal(decoded.kind, "bundle_add");
        if (decoded.kind !== "bundle_add") return;
        const inner = { ...flowModFromText(flows[index] ?? "", { version }), version, xid: add.xid };
        const ours = encodeAs({ kind: "bundle_add", bundleId: decoded.bundleId, flags: 3, message: inner }, add);
        assert.equal(ours, add.bytes.toString("hex"), `bundle add ${index}`);
        assert.equal(decoded.message.xid, add.xid, "inner xid equals outer xid");
      });
    });
  }
});
