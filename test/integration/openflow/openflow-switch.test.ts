// The codec and connection against a real ovs-vswitchd (userspace datapath) in a private
// namespace: bundles, read-back through ovs-ofctl and our multipart requests, packet-out to
// packet-in with userdata, atomic failure, reconnection after a restart, and yardctl.
import assert from "node:assert/strict";
import { once } from "node:events";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import { runYardctl } from "../../../openflow/cli/yardctl.ts";
import { OpenFlowConnection } from "../../../openflow/connection/connection.ts";
import { OpenFlowBundleError } from "../../../openflow/connection/errors.ts";
import { flowModFromText } from "../../../openflow/messages/flow-mod-text.ts";
import type { GroupModMessage, MessageBody, MeterModMessage, OpenFlowMessage } from "../../../openflow/messages/types.ts";
import { parseActions } from "../../../openflow/actions/index.ts";
import { formatFlowStats, formatGroup, formatMessage } from "../../../openflow/print/ofp-print.ts";
import { OpenFlowVersion } from "../../../openflow/version.ts";
import { sandboxAvailable, startOvsSandbox } from "./ovs-sandbox.ts";
import type { OvsSandbox } from "./ovs-sandbox.ts";

const V = OpenFlowVersion.OF15;

const FLOWS = [
  "table=0,priority=100,ip,nw_src=10.0.0.1,actions=drop",
  "table=0,priority=90,tcp,nw_dst=10.0.0.2,tp_dst=80,actions=set_field:0x5->reg0,resubmit(,1)",
  "table=0,priority=80,ip,actions=group:1",
  "table=1,priority=10,ip,reg0=0x5,actions=ct(commit,zone=7),output:LOCAL",
  "table=1,priority=5,ip,nw_src=192.168.1.0/24,actions=conjunction(3,1/2)",
  "table=1,priority=5,tcp,tp_dst=443,actions=conjunction(3,2/2)",
  "table=1,priority=5,conj_id=3,ip,actions=meter:1,output:LOCAL",
];

const GROUPS: MessageBody<GroupModMessage>[] = [
  {
    kind: "group_mod",
    command: 0,
    groupType: 0,
    groupId: 1,
    buckets: [
      { weight: 0, watchPort: 0xffffffff, watchGroup: 0xffffffff, actions: parseActions("output:LOCAL", { version: V }) },
    ],
  },
  {
    kind: "group_mod",
    command: 0,
    groupType: 1,
    groupId: 2,
    buckets: [
      { weight: 10, watchPort: 0xffffffff, watchGroup: 0xffffffff, actions: parseActions("output:LOCAL", { version: V }) },
      { weight: 20, watchPort: 0xffffffff, watchGroup: 0xffffffff, actions: parseActions("drop", { version: V }) },
    ],
  },
];

const METER: MessageBody<MeterModMessage> = {
  kind: "meter_mod",
  command: 0,
  flags: 0x1 | 0x4 | 0x8,
  meterId: 1,
  bands: [{ type: 1, rate: 1000, burstSize: 100 }],
};

/** Removes the fields that change between two dumps (durations, ages) and the header line. */
function stableFlowLines(text: string): string[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith(" cookie="))
    .map((line) => line.replace(/duration=[0-9.]+s, /, "").replace(/idle_age=\d+, /, "").replace(/hard_age=\d+, /, ""))
    .sort();
}

function withoutHeader(text: string): string {
  return text.split("\n").slice(1).join("\n");
}

let sandbox: OvsSandbox;
let connection: OpenFlowConnection;

describe("OpenFlow against ovs-vswitchd", { skip: !sandboxAvailable() && "needs root and Open vSwitch" }, () => {
  before(async () => {
    sandbox = await startOvsSandbox({ tag: "i" });
    connection = await OpenFlowConnection.connect({
      address: sandbox.mgmt,
      packetIn: { missSendLen: 0xffff },
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
    });
  });

  after(async () => {
    await connection?.close();
    sandbox?.stop();
  });

  test("meter, then groups and flows in one bundle", async () => {
    await connection.post(METER);
    await connection.bundle([...GROUPS, ...FLOWS.map((text) => flowModFromText(text, { version: V }))]);

    const ovsFlows = sandbox.ofctl(["-O", "OpenFlow15", "dump-flows", sandbox.mgmt]);
    const ours = (await connection.dumpFlows()).map((flow) => ` ${formatFlowStats(flow)}`).join("\n");
    assert.equal(stableFlowLines(ovsFlows).length, FLOWS.length);
    assert.deepEqual(stableFlowLines(ours), stableFlowLines(ovsFlows));

    const ovsGroups = sandbox.ofctl(["-O", "OpenFlow15", "dump-groups", sandbox.mgmt]);
    const groups = await connection.dumpGroups();
    const ourGroups = groups.map((g) => ` ${formatGroup({ version: V, ...g })}`).join("\n");
    assert.equal(ourGroups, withoutHeader(ovsGroups).trimEnd());

    const ovsMeters = sandbox.ofctl(["-O", "OpenFlow15", "dump-meters", sandbox.mgmt]);
    const meterReply = await connection.request({ kind: "multipart_request", flags: 0, body: { stat: "meter_config", meterId: 0xffffffff } });
    assert.equal(withoutHeader(formatMessage(meterReply)), withoutHeader(ovsMeters));
  });

  test("meter_mod in a bundle is rejected by OVS", async () => {
    // Open vSwitch 3.1 accepts flow, group and port mods and packet-outs in bundles, not
    // meter mods, so meters are installed with post() before the bundle that uses them.
    const meter = { ...METER, meterId: 2 };
    await assert.rejects(connection.bundle([meter]), (error: unknown) => {
      assert.ok(error instanceof OpenFlowBundleError);
      assert.match(error.message, /OFPBFC_MSG_UNSUP/);
      return true;
    });
  });

  test("failing bundle installs nothing", async () => {
    const before = stableFlowLines(sandbox.ofctl(["-O", "OpenFlow15", "dump-flows", sandbox.mgmt]));
    const batch = [
      flowModFromText("table=2,priority=1,ip,actions=drop", { version: V }),
      flowModFromText("table=2,priority=2,ip,actions=group:999", { version: V }),
      flowModFromText("table=2,priority=3,ip,actions=drop", { version: V }),
    ];
    await assert.rejects(connection.bundle(batch), (error: unknown) => {
      assert.ok(error instanceof OpenFlowBundleError);
      assert.equal(error.failedIndex, 1);
      assert.match(error.message, /group:999/);
      return true;
    });
    const afterFailure = stableFlowLines(sandbox.ofctl(["-O", "OpenFlow15", "dump-flows", sandbox.mgmt]));
    assert.deepEqual(afterFailure, before);
  });

  test("OpenFlow 1.3 bundle: failure named, success installed", async () => {
    const v13 = await OpenFlowConnection.connect({ address: sandbox.mgmt, versions: [OpenFlowVersion.OF13], reconnect: false });
    try {
      assert.equal(v13.version, OpenFlowVersion.OF13);
      const failing = [
        flowModFromText("table=3,priority=1,ip,actions=drop", { version: OpenFlowVersion.OF13 }),
        flowModFromText("table=3,priority=2,ip,actions=group:998", { version: OpenFlowVersion.OF13 }),
      ];
      await assert.rejects(v13.bundle(failing), (error: unknown) => error instanceof OpenFlowBundleError && error.failedIndex === 1);
      assert.deepEqual(stableFlowLines(sandbox.ofctl(["-O", "OpenFlow13", "dump-flows", sandbox.mgmt, "table=3"])), []);

      await v13.bundle([flowModFromText("table=3,priority=4,ip,nw_src=10.3.3.3,actions=drop", { version: OpenFlowVersion.OF13 })]);
      assert.deepEqual(stableFlowLines(sandbox.ofctl(["-O", "OpenFlow13", "dump-flows", sandbox.mgmt, "table=3"])), [
        " cookie=0x0, table=3, n_packets=0, n_bytes=0, priority=4,ip,nw_src=10.3.3.3 actions=drop",
      ]);
    } finally {
      await v13.close();
    }
  });

  test("packet-out comes back as NXT_PACKET_IN2 with userdata", async () => {
    await connection.bundle([flowModFromText("table=0,priority=300,dl_type=0x88b5,actions=controller(userdata=de.ad.be.ef)", { version: V })]);
    const frame = Buffer.from("ffffffffffff0200000000aa88b5" + "00".repeat(46), "hex");
    const received = once(connection, "packetIn");
    await connection.post({ kind: "packet_out", bufferId: 0xffffffff, inPort: 0xfffffffd, actions: parseActions("resubmit(,0)", { version: V }), data: frame });
    const [packetIn] = (await received) as [OpenFlowMessage];
    assert.equal(packetIn.kind, "nx_packet_in2");
    if (packetIn.kind !== "nx_packet_in2") return;
    assert.equal(packetIn.userdata?.toString("hex"), "deadbeef");
    assert.equal(packetIn.data.toString("hex"), frame.toString("hex"));
  });

  test("yardctl dump-flows and dump-groups print as ovs-ofctl", async () => {
    const run = async (argv: string[]): Promise<string> => {
      const stdout = new PassThrough();
      const chunks: Buffer[] = [];
      stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
      const status = await runYardctl({ argv, stdin: new PassThrough(), stdout, stderr: new PassThrough() });
      assert.equal(status, 0, `yardctl ${argv.join(" ")}`);
      return Buffer.concat(chunks).toString("utf8");
    };
    const flows = await run(["ofp", "dump-flows", sandbox.mgmt, "--table", "1"]);
    const ovsFlows = sandbox.ofctl(["-O", "OpenFlow15", "dump-flows", sandbox.mgmt, "table=1"]);
    assert.deepEqual(stableFlowLines(flows), stableFlowLines(ovsFlows));
    const flows13 = await run(["ofp", "dump-flows", sandbox.mgmt, "-O", "OpenFlow13"]);
    assert.match(flows13, /^OFPST_FLOW reply \(OF1\.3\)/);
    assert.deepEqual(stableFlowLines(flows13), stableFlowLines(sandbox.ofctl(["-O", "OpenFlow13", "dump-flows", sandbox.mgmt])));
    const groups = await run(["ofp", "dump-groups", sandbox.mgmt]);
    assert.equal(withoutHeader(groups), withoutHeader(sandbox.ofctl(["-O", "OpenFlow15", "dump-groups", sandbox.mgmt])));
  });

  test("adding a port emits PORT_STATUS", async () => {
    const port = `syop${process.pid % 100000}`;
    const status = once(connection, "portStatus");
    sandbox.vsctl(["add-port", sandbox.bridge, port, "--", "set", "interface", port, "type=internal"]);
    const [message] = (await status) as [OpenFlowMessage];
    assert.equal(message.kind, "port_status");
    if (message.kind !== "port_status") return;
    assert.equal(message.reason, 0, "OFPPR_ADD");
    assert.equal(message.port.name, port);
    const ofport = Number(sandbox.vsctl(["get", "interface", port, "ofport"]).trim());
    assert.equal(message.port.portNo, ofport);
  });

  test("reconnect after ovs-vswitchd restart, flows replayed", async () => {
    const replay = [flowModFromText("table=5,priority=7,ip,nw_dst=10.9.9.9,actions=drop", { version: V })];
    const reconnected = once(connection, "reconnected");
    await sandbox.restartSwitch();
    await reconnected;
    await connection.bundle(replay);
    const table5 = sandbox.ofctl(["-O", "OpenFlow15", "dump-flows", sandbox.mgmt, "table=5"]);
    assert.deepEqual(stableFlowLines(table5), [" cookie=0x0, table=5, n_packets=0, n_bytes=0, priority=7,ip,nw_dst=10.9.9.9 actions=drop"]);
  });
});
