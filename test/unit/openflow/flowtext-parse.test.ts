// Whole-flow text tests: flow keys and match parsed by parseFlow are compared with the
// flow_mod ovs-ofctl 3.1 builds from the same line, field by field.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { encodeInstructions } from "../../../openflow/actions/index.ts";
import { FlowTextError, FlowTextErrorCode, formatFlowBody, parseFlow } from "../../../openflow/flow-text/index.ts";
import type { ParsedFlow } from "../../../openflow/flow-text/index.ts";
import { encodeMatch, MatchError } from "../../../openflow/match/index.ts";
import { BufferWriter } from "../../../openflow/wire/writer.ts";
import { flowModMatchBytes, OF13, OF15, parseFlowsWithOvs, printedMatchText } from "./match-oracle.ts";

/** Flow-mod flag bits from the OpenFlow 1.3/1.5 specification (ofp_flow_mod_flags). */
const FLAG_BITS: Record<string, number> = {
  send_flow_rem: 1 << 0,
  check_overlap: 1 << 1,
  reset_counts: 1 << 2,
  no_packet_counts: 1 << 3,
  no_byte_counts: 1 << 4,
};

/** Fixed fields of ofp_flow_mod as laid out in OpenFlow 1.3 and 1.5. */
function flowModFields(bytes: Buffer): { cookie: bigint; table: number; idle: number; hard: number; priority: number; flags: number; importance: number } {
  return {
    cookie: bytes.readBigUInt64BE(8),
    table: bytes.readUInt8(24),
    idle: bytes.readUInt16BE(26),
    hard: bytes.readUInt16BE(28),
    priority: bytes.readUInt16BE(30),
    flags: bytes.readUInt16BE(44),
    importance: bytes.readUInt16BE(46),
  };
}

function flagBits(flow: ParsedFlow): number {
  return flow.flags.reduce((bits, flag) => bits | (FLAG_BITS[flag] ?? 0), 0);
}

const FLOWS: readonly string[] = [
  "actions=drop",
  "priority=100,ip,nw_src=10.0.0.0/24 actions=output:1",
  "table=3,priority=9,cookie=0x5,idle_timeout=10,hard_timeout=20,ip actions=drop",
  "cookie=0x123456789abcdef hard_timeout=10 priority=60000 actions=drop",
  "table=253,priority=0,actions=goto_table:254",
  "send_flow_rem,check_overlap,reset_counts,no_packet_counts,no_byte_counts,tcp,tp_dst=80 actions=drop",
  "no_byte_counts,send_flow_rem,udp actions=drop",
  "importance=7,priority=1,arp actions=drop",
  "in_port=LOCAL dl_vlan=9 dl_src=00:0A:E4:25:6B:B0 actions=drop",
  "priority=200,ct_state=+trk+est,ip,reg0=0x1/0xffff actions=goto_table:2",
  "duration=5s,n_packets=4,n_bytes=5,idle_age=3,ip,actions=drop",
  "tcp,tp_src[5]=1,actions=drop",
  "tcp,tp_src[6..10]=19,actions=drop",
  "reg0[0..7]=5,reg0[16..23]=0x7f,actions=drop",
  "priority=10 , ip , actions=output:1,output:2",
  "priority:5,ip,nw_src:10.0.0.1,dl_src:00:11:22:33:44:55,actions=drop",
  "tcp,tp_dst(80),action=drop",
  "dl_vlan=5 actions=mod_vlan_vid:7",
  "actions=mod_vlan_vid:7",
  "vlan_tci=0x1000/0x1000 actions=mod_vlan_vid:9",
  "udp,actions=mod_tp_dst:53",
];

function priorityOption(flow: ParsedFlow): { priority?: number } {
  return flow.priority === undefined ? {} : { priority: flow.priority };
}

for (const version of [OF13, OF15]) {
  describe(`parseFlow against ovs-ofctl, OpenFlow ${version === OF13 ? "1.3" : "1.5"}`, () => {
    const printed = parseFlowsWithOvs(FLOWS, version);

    test("flow keys equal the flow_mod", () => {
      FLOWS.forEach((text, index) => {
        const message = printed[index];
        assert.ok(message);
        const theirs = flowModFields(message.bytes);
        const ours = parseFlow(text, { version });
        assert.equal(ours.cookie ?? 0n, theirs.cookie, `cookie of ${text}`);
        assert.equal(ours.tableId ?? 0, theirs.table, `table of ${text}`);
        assert.equal(ours.idleTimeout ?? 0, theirs.idle, `idle_timeout of ${text}`);
        assert.equal(ours.hardTimeout ?? 0, theirs.hard, `hard_timeout of ${text}`);
        assert.equal(ours.priority ?? 0x8000, theirs.priority, `priority of ${text}`);
        assert.equal(flagBits(ours), theirs.flags, `flags of ${text}`);
        if (version === OF15) assert.equal(ours.importance ?? 0, theirs.importance, `importance of ${text}`);
      });
    });

    test("match equals the flow_mod", () => {
      FLOWS.forEach((text, index) => {
        const message = printed[index];
        assert.ok(message);
        const writer = new BufferWriter();
        encodeMatch(writer, parseFlow(text, { version }).match, version);
        assert.equal(writer.toBuffer().toString("hex"), flowModMatchBytes(message.bytes).toString("hex"), text);
      });
    });

    test("body prints as ovs-ofctl", () => {
      FLOWS.forEach((text, index) => {
        const message = printed[index];
        assert.ok(message);
        const flow = parseFlow(text, { version });
        const expected = printedMatchText(message.text).replace(/^table:\d+ /, "").split(" ")[0] ?? "";
        const body = formatFlowBody(flow.match, priorityOption(flow));
        assert.equal(body, expected.startsWith("cookie:") || expected.startsWith("idle:") ? "" : expected, text);
      });
    });

    test("instructions equal the flow_mod", () => {
      FLOWS.forEach((text, index) => {
        const message = printed[index];
        assert.ok(message);
        const matchEnd = 48 + flowModMatchBytes(message.bytes).length;
        const writer = new BufferWriter();
        encodeInstructions(writer, parseFlow(text, { version }).instructions, version);
        assert.equal(writer.toBuffer().toString("hex"), message.bytes.subarray(matchEnd).toString("hex"), text);
      });
    });
  });
}

describe("flow keys for modify and delete", () => {
  test("cookie mask on delete", () => {
    const flow = parseFlow("cookie=0x5/0xff,ip", { version: OF13, command: "delete" });
    assert.equal(flow.cookie, 5n);
    assert.equal(flow.cookieMask, 0xffn);
  });

  test("out_port and out_group", () => {
    const flow = parseFlow("out_port=LOCAL,out_group=any", { version: OF15, command: "delete_strict" });
    // OFPP_LOCAL and OFPG_ANY in OpenFlow 1.1+.
    assert.equal(flow.outPort, 0xfffffffe);
    assert.equal(flow.outGroup, 0xffffffff);
    const numbered = parseFlow("out_port=7,out_group=3 actions=drop", { version: OF15, command: "modify" });
    assert.equal(numbered.outPort, 7);
    assert.equal(numbered.outGroup, 3);
  });

  test("delete needs no actions", () => {
    const flow = parseFlow("tcp,tp_dst=80", { version: OF13, command: "delete" });
    assert.equal(flow.instructions.length, 0);
    assert.equal(formatFlowBody(flow.match), "tcp,tp_dst=80");
  });

  test("table names", () => {
    const tableNames = new Map([["ingress", 0], ["egress", 40]]);
    assert.equal(parseFlow("table=egress,actions=drop", { version: OF13, tableNames }).tableId, 40);
    assert.equal(parseFlow("table=12,actions=drop", { version: OF13, tableNames }).tableId, 12);
  });

  test("port names", () => {
    const portNames = { byName: new Map([["uplink", 5]]), byNumber: new Map([[5, "uplink"]]) };
    const flow = parseFlow("in_port=uplink,actions=drop", { version: OF13, portNames });
    assert.equal(formatFlowBody(flow.match), "in_port=5");
    assert.equal(formatFlowBody(flow.match, { portNames }), "in_port=uplink");
  });

  test("port names in actions", () => {
    const portNames = { byName: new Map([["uplink", 5]]), byNumber: new Map([[5, "uplink"]]) };
    const flow = parseFlow("ip,actions=output:uplink", { version: OF13, portNames });
    assert.deepEqual(flow.instructions, parseFlow("ip,actions=output:5", { version: OF13 }).instructions);
  });
});

describe("flow text errors", () => {
  const cases: [string, Parameters<typeof parseFlow>[1], string, string[]][] = [
    ["priority=5,ip", { version: OF13 }, FlowTextErrorCode.MISSING_ACTIONS, ["actions=drop"]],
    ["cookie=0x5/0xff,actions=drop", { version: OF13 }, FlowTextErrorCode.NOT_ALLOWED, ["cookie mask", "adding"]],
    ["out_port=2,actions=drop", { version: OF13 }, FlowTextErrorCode.NOT_ALLOWED, ["out_port", "modifying or deleting"]],
    ["priority=70000,actions=drop", { version: OF13 }, FlowTextErrorCode.BAD_VALUE, ["70000", "0 to 65535"]],
    ["table=foo,actions=drop", { version: OF13 }, FlowTextErrorCode.BAD_VALUE, ['"foo"', "table map"]],
    ["table=256,actions=drop", { version: OF13 }, FlowTextErrorCode.BAD_VALUE, ["256"]],
    ["idle_timeout=x,actions=drop", { version: OF13 }, FlowTextErrorCode.BAD_VALUE, ["idle_timeout", '"x"']],
    ["ipp,actions=drop", { version: OF13 }, FlowTextErrorCode.UNKNOWN_KEYWORD, ['"ipp"']],
    ["TCP,actions=drop", { version: OF13 }, FlowTextErrorCode.UNKNOWN_KEYWORD, ["lowercase: tcp"]],
    ["reg0,actions=drop", { version: OF13 }, FlowTextErrorCode.BAD_VALUE, ["reg0=VALUE"]],
    ["table=5,actions=goto_table:5", { version: OF13 }, FlowTextErrorCode.NOT_ALLOWED, ["goto_table:5", "6 or above"]],
  ];
  for (const [text, options, code, mentions] of cases) {
    test(`rejects ${text}`, () => {
      assert.throws(
        () => parseFlow(text, options),
        (error: unknown) => {
          assert.ok(error instanceof FlowTextError, String(error));
          assert.equal(error.code, code);
          for (const mention of mentions) assert.ok(error.message.includes(mention), `"${error.message}" should mention "${mention}"`);
          return true;
        },
      );
    });
  }

  test("match errors pass through", () => {
    assert.throws(() => parseFlow("nw_src=1.1.1.1,actions=drop", { version: OF13 }), MatchError);
  });
});
