// Rejections: bad action text (checked against ovs-ofctl, which must reject it too),
// version-specific actions and instructions, and malformed bytes.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OpenFlowDecodeError } from "../../../openflow/wire/reader.ts";
import { BufferWriter } from "../../../openflow/wire/writer.ts";
import { OpenFlowVersion } from "../../../openflow/version.ts";
import {
  ActionError,
  decodeActionBytes,
  decodeInstructionBytes,
  encodeActions,
  encodeInstructions,
  formatActions,
  parseActions,
  parseInstructions,
  type ActionErrorCode,
} from "../../../openflow/actions/index.ts";
import { ovsParseFlowError } from "./actions-oracle.ts";

interface BadText {
  actions: string;
  code: ActionErrorCode;
  /** Text the message must contain: the bad value, and where useful the expected form. */
  mentions: string[];
}

// The action texts come from OVS 3.1's "action parsing errors" test; ovs-ofctl must reject each.
const BAD_TEXTS: BadText[] = [
  { actions: "xyzzy", code: "UNKNOWN_ACTION", mentions: ["xyzzy", "expected an action such as"] },
  { actions: "output(port=xyzzy,max_len=5)", code: "BAD_ARGUMENT", mentions: ["xyzzy"] },
  { actions: "output(port=all,max_len=64)", code: "BAD_ARGUMENT", mentions: ["port=all", "LOCAL or IN_PORT"] },
  { actions: "output(port=local,max_len=64,foo=bar)", code: "BAD_ARGUMENT", mentions: ["foo", "output(port=PORT,max_len=BYTES)"] },
  { actions: "output(port=local,max_len=5)", code: "BAD_ARGUMENT", mentions: ["max_len=5", "at least 14"] },
  { actions: "controller(reason=asdf)", code: "BAD_ARGUMENT", mentions: ["reason=asdf", "no_match"] },
  { actions: "controller(foo=bar)", code: "BAD_ARGUMENT", mentions: ["foo", "controller("] },
  { actions: "controller(userdata=123x456)", code: "BAD_ARGUMENT", mentions: ["123x456", "hex"] },
  { actions: "mod_vlan_vid:6000", code: "BAD_ARGUMENT", mentions: ["6000", "0 to 4095"] },
  { actions: "mod_vlan_pcp:8", code: "BAD_ARGUMENT", mentions: ["8", "0 to 7"] },
  { actions: "push_vlan(0x1234)", code: "BAD_ARGUMENT", mentions: ["0x1234", "0x8100"] },
  { actions: "mod_nw_tos(1)", code: "BAD_ARGUMENT", mentions: ["1", "multiple of 4"] },
  { actions: "mod_nw_ecn(5)", code: "BAD_ARGUMENT", mentions: ["5", "0 to 3"] },
  { actions: "set_field:1", code: "BAD_ARGUMENT", mentions: ['"1"', "->"] },
  { actions: "set_field:1->", code: "BAD_ARGUMENT", mentions: ["missing field name"] },
  { actions: "set_field:1->x", code: "BAD_ARGUMENT", mentions: ["x is not a valid"] },
  { actions: "set_field:1->eth_type", code: "BAD_ARGUMENT", mentions: ["eth_type is read-only"] },
  { actions: "set_field:1->eth_src", code: "BAD_ARGUMENT", mentions: ['"1"', "eth_src"] },
  { actions: "load:xyzzy->eth_src", code: "BAD_ARGUMENT", mentions: ["xyzzy", "load:0x1->NXM_NX_REG0[0..7]"] },
  { actions: "load:0xff->eth_src[1..5]", code: "BAD_ARGUMENT", mentions: ["0xff", "5 bits"] },
  { actions: "dec_ttl(,)", code: "BAD_ARGUMENT", mentions: ["at least one controller id"] },
  { actions: "resubmit(asdf)", code: "BAD_ARGUMENT", mentions: ["asdf", "unknown port"] },
  { actions: "resubmit(,asdf)", code: "BAD_ARGUMENT", mentions: ["asdf", "table number"] },
  { actions: "resubmit(1,2,xyzzy)", code: "BAD_ARGUMENT", mentions: ["xyzzy", '"ct"'] },
  { actions: "resubmit(in_port,255)", code: "BAD_ARGUMENT", mentions: ['"in_port" or "table"'] },
  { actions: "learn(foo)", code: "BAD_ARGUMENT", mentions: ["foo"] },
  { actions: "learn(table=foo)", code: "BAD_ARGUMENT", mentions: ["table=foo"] },
  { actions: "learn(table=255)", code: "BAD_ARGUMENT", mentions: ["table=255", "0 to 254"] },
  { actions: "learn(result_dst=tcp_flags)", code: "BAD_ARGUMENT", mentions: ["tcp_flags is read-only"] },
  { actions: "learn(result_dst=eth_dst)", code: "BAD_ARGUMENT", mentions: ["single bit"] },
  { actions: "learn(load:->)", code: "BAD_ARGUMENT", mentions: ["load:->"] },
  { actions: "learn(load:x)", code: "BAD_ARGUMENT", mentions: ["load:x"] },
  { actions: "learn(eth_type[0]=eth_type[1..2])", code: "BAD_ARGUMENT", mentions: ["bit widths"] },
  { actions: "conjunction(1, 1/1)", code: "BAD_ARGUMENT", mentions: ["at least 2 clauses"] },
  { actions: "conjunction(1, 1/65)", code: "BAD_ARGUMENT", mentions: ["at most 64 clauses"] },
  { actions: "conjunction(1, 0/2)", code: "BAD_ARGUMENT", mentions: ["positive"] },
  { actions: "conjunction(1, 3/2)", code: "BAD_ARGUMENT", mentions: ["less than or equal"] },
  { actions: "note:x", code: "BAD_ARGUMENT", mentions: ["bad hex digit"] },
  { actions: "ct(table=asdf)", code: "BAD_ARGUMENT", mentions: ["table=asdf"] },
  { actions: "ct(table=255)", code: "BAD_ARGUMENT", mentions: ["invalid table 0xff"] },
  { actions: "ct(foo=bar)", code: "BAD_ARGUMENT", mentions: ["foo", "ct(commit"] },
  { actions: "ct(force)", code: "BAD_ARGUMENT", mentions: ['"force" flag requires "commit"'] },
  { actions: "nat(src=1.2.3.4x)", code: "BAD_ARGUMENT", mentions: ["1.2.3.4x"] },
  { actions: "nat(src=1.2.3.4-0.1.2.3)", code: "BAD_ARGUMENT", mentions: ["1.2.3.4-0.1.2.3"] },
  { actions: "nat(foo=bar)", code: "BAD_ARGUMENT", mentions: ["foo"] },
  { actions: "nat(src=1.2.3.4,dst=2.3.4.5)", code: "BAD_ARGUMENT", mentions: ['one of "src" or "dst"'] },
  { actions: "nat(persistent)", code: "BAD_ARGUMENT", mentions: ['only with "src" or "dst"'] },
  { actions: "nat(src=1.2.3.4,hash,random)", code: "BAD_ARGUMENT", mentions: ['"hash" and "random"'] },
  { actions: "nat", code: "BAD_ARGUMENT", mentions: ["only allowed inside ct"] },
  { actions: "set_field:1234->ct_mark", code: "BAD_ARGUMENT", mentions: ["cannot set CT fields outside of ct action"] },
  { actions: "ct(commit,exec(push_vlan(0x8100)))", code: "BAD_ARGUMENT", mentions: ["nested action push_vlan"] },
  { actions: "ct(commit,exec(set_field:12:34:56:78:9a:bc->eth_dst))", code: "BAD_ARGUMENT", mentions: ["nested modification of eth_dst"] },
  { actions: "conjunction(1, 2/3),ct_clear", code: "BAD_INSTRUCTION_ORDER", mentions: ['"ct_clear"'] },
  { actions: "fin_timeout(foo=bar)", code: "BAD_ARGUMENT", mentions: ["foo", "fin_timeout(idle_timeout=N,hard_timeout=N)"] },
  { actions: "sample(probability=0)", code: "BAD_ARGUMENT", mentions: ["probability=0", "1 to 65535"] },
  { actions: "sample(sampling_port=asdf)", code: "BAD_ARGUMENT", mentions: ["sampling_port=asdf", "unknown port"] },
  { actions: "sample(foo=bar)", code: "BAD_ARGUMENT", mentions: ["foo", "sample(probability=N"] },
  { actions: "sample", code: "BAD_ARGUMENT", mentions: ['non-zero "probability"'] },
  { actions: "multipath(1,2,3,4)", code: "BAD_ARGUMENT", mentions: ["1,2,3,4", "6 arguments"] },
  { actions: "multipath(xyzzy,50,modulo_n,1,0,NXM_NX_REG0[])", code: "BAD_ARGUMENT", mentions: ['unknown fields "xyzzy"'] },
  { actions: "multipath(eth_src,50,fubar,1,0,NXM_NX_REG0[])", code: "BAD_ARGUMENT", mentions: ['unknown algorithm "fubar"'] },
  { actions: "multipath(eth_src,50,modulo_n,0,0,NXM_NX_REG0[])", code: "BAD_ARGUMENT", mentions: ["1 to 65536"] },
  { actions: "multipath(eth_src,50,modulo_n,1024,0,NXM_NX_REG0[0..7])", code: "BAD_ARGUMENT", mentions: ["8 bits", "1024 links"] },
  { actions: "bundle:123", code: "BAD_ARGUMENT", mentions: ["not enough arguments"] },
  { actions: "bundle(symmetric_l4,60,hrw,ofport,ports:1,2,3,4,5)", code: "BAD_ARGUMENT", mentions: ['member delimiter "members:"'] },
  { actions: "bundle(symmetric_l4,60,hrw,ofport,members:xyzzy,2,3,4,5)", code: "BAD_ARGUMENT", mentions: ["xyzzy", "bad port number"] },
  { actions: "bundle(asymmetric_l4,60,hrw,ofport,members:1,2,3,4,5)", code: "BAD_ARGUMENT", mentions: ['unknown fields "asymmetric_l4"'] },
  { actions: "bundle(symmetric_l4,60,hrt,ofport,members:1,2,3,4,5)", code: "BAD_ARGUMENT", mentions: ['unknown algorithm "hrt"'] },
  { actions: "bundle(symmetric_l4,60,hrw,odpport,members:1,2,3,4,5)", code: "BAD_ARGUMENT", mentions: ['unknown member_type "odpport"'] },
  { actions: "check_pkt_larger(1500)->reg0", code: "BAD_ARGUMENT", mentions: ["only a 1-bit destination"] },
  { actions: "enqueue:123", code: "BAD_ARGUMENT", mentions: ["enqueue:PORT:QUEUE"] },
  { actions: "enqueue:asdf:123", code: "BAD_ARGUMENT", mentions: ["asdf", "port"] },
  { actions: "goto_table:asdf", code: "BAD_ARGUMENT", mentions: ["asdf", "table number"] },
  { actions: "goto_table:5,goto_table:5", code: "BAD_INSTRUCTION_ORDER", mentions: ["duplicate goto_table"] },
  { actions: "goto_table:5,output:1", code: "BAD_INSTRUCTION_ORDER", mentions: ["apply_actions must appear before goto_table"] },
  { actions: "clear_actions,meter:3", code: "BAD_INSTRUCTION_ORDER", mentions: ["meter must appear before clear_actions"] },
  { actions: "apply_actions(output:1)", code: "BAD_ARGUMENT", mentions: ["apply_actions is the default instruction"] },
  { actions: "drop,3", code: "BAD_INSTRUCTION_ORDER", mentions: ['"drop" must not be accompanied'] },
];

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("bad action text", () => {
  for (const bad of BAD_TEXTS) {
    test(`rejects ${bad.actions}`, () => {
      assert.ok(ovsParseFlowError(`ip,actions=${bad.actions}`, "OpenFlow13") !== undefined, "ovs-ofctl accepts this text, so the case is wrong");

      const error = thrownBy(() => parseInstructions(bad.actions, { version: OpenFlowVersion.OF13 }));
      assert.ok(error instanceof ActionError, `expected an ActionError, got ${String(error)}`);
      assert.equal(error.code, bad.code, error.message);
      for (const text of bad.mentions) assert.ok(error.message.includes(text), `message "${error.message}" should mention ${text}`);
    });
  }

  test("mod_tp_src names the fix without a protocol", () => {
    const error = thrownBy(() => parseActions("mod_tp_src:80", { version: OpenFlowVersion.OF13 }));
    assert.ok(error instanceof ActionError);
    assert.equal(error.code, "BAD_ARGUMENT");
    assert.match(error.message, /set_field:80->tcp_src/);
  });

  test("instructions rejected in action lists", () => {
    for (const text of ["goto_table:1", "clear_actions", "write_metadata:0x1", "write_actions(output:1)"]) {
      const error = thrownBy(() => parseActions(text, { version: OpenFlowVersion.OF13 }));
      assert.ok(error instanceof ActionError, text);
      assert.equal(error.code, "BAD_INSTRUCTION_ORDER", text);
      assert.match(error.message, /is an instruction, not an action/);
    }
  });
});

describe("version-specific rejections", () => {
  test("meter instruction rejected in 1.5", () => {
    const error = thrownBy(() => encodeInstructions(new BufferWriter(), [{ type: "meter", meterId: 5 }], OpenFlowVersion.OF15));
    assert.ok(error instanceof ActionError);
    assert.equal(error.code, "UNSUPPORTED_IN_VERSION");
    assert.match(error.message, /meter action/);
  });

  test("meter action rejected in 1.3", () => {
    const error = thrownBy(() => encodeActions(new BufferWriter(), [{ type: "meter", meterId: 5 }], OpenFlowVersion.OF13));
    assert.ok(error instanceof ActionError);
    assert.equal(error.code, "UNSUPPORTED_IN_VERSION");
    assert.match(error.message, /meter instruction/);
  });

  test("meter text in 1.3 action list", () => {
    const error = thrownBy(() => parseActions("meter:5", { version: OpenFlowVersion.OF13 }));
    assert.ok(error instanceof ActionError);
    assert.match(error.message, /meter is an instruction/);
  });

  test("meter text is an action in 1.5", () => {
    // OFPAT_METER (29), length 8, meter id 5, inside apply_actions (4).
    const w = new BufferWriter();
    encodeInstructions(w, parseInstructions("meter:5", { version: OpenFlowVersion.OF15 }), OpenFlowVersion.OF15);
    assert.equal(w.toBuffer().toString("hex"), "0004001000000000" + "001d000800000005");
  });

  test("load becomes masked set_field in 1.5", () => {
    // OFPAT_SET_FIELD (25), length 16, NXM_NX_REG0 with mask (0001 01 08), value 1, mask 0xff.
    const w = new BufferWriter();
    encodeActions(w, parseActions("load:0x1->NXM_NX_REG0[0..7]", { version: OpenFlowVersion.OF15 }), OpenFlowVersion.OF15);
    assert.equal(w.toBuffer().toString("hex"), "00190010" + "00010108" + "00000001" + "000000ff");
  });

  test("masked set_field becomes load in 1.3", () => {
    // NXAST_REG_LOAD: vendor 0x2320, subtype 7, ofs_nbits (0 << 6 | 7), NXM_NX_REG0, value 1.
    const w = new BufferWriter();
    encodeActions(w, parseActions("set_field:0x1/0xff->reg0", { version: OpenFlowVersion.OF13 }), OpenFlowVersion.OF13);
    assert.equal(w.toBuffer().toString("hex"), "ffff0018" + "00002320" + "0007" + "0007" + "00010004" + "0000000000000001");
  });

  test("split mask becomes two loads in 1.3", () => {
    const w = new BufferWriter();
    encodeActions(w, parseActions("set_field:0xf00f/0xf00f->reg1", { version: OpenFlowVersion.OF13 }), OpenFlowVersion.OF13);
    const bytes = w.toBuffer();
    assert.equal(bytes.length, 48);
    // First run: bits 0..3 (ofs_nbits 0x0003), value 0xf; second: bits 12..15 (0x0303), value 0xf.
    assert.equal(bytes.subarray(10, 12).toString("hex"), "0003");
    assert.equal(bytes.subarray(34, 36).toString("hex"), "0303");
    assert.equal(formatActions(decodeActionBytes(bytes, OpenFlowVersion.OF13)), "load:0xf->NXM_NX_REG1[0..3],load:0xf->NXM_NX_REG1[12..15]");
  });

  test("reg_load bytes rejected in 1.5", () => {
    const bytes = Buffer.from("ffff0018" + "00002320" + "0007" + "0007" + "00010004" + "0000000000000001", "hex");
    assert.equal(formatActions(decodeActionBytes(bytes, OpenFlowVersion.OF13)), "load:0x1->NXM_NX_REG0[0..7]");
    assert.throws(() => decodeActionBytes(bytes, OpenFlowVersion.OF15), /not allowed in OpenFlow 1.5/);
  });

  test("masked set_field bytes rejected in 1.3", () => {
    // From OVS's OpenFlow 1.2 vector: OFPBAC_BAD_SET_MASK.
    const bytes = Buffer.from("00190018" + "8000090c" + "000000001234" + "00000000ffff" + "00000000", "hex");
    assert.throws(() => decodeActionBytes(bytes, OpenFlowVersion.OF13), /carries a mask/);
    assert.equal(formatActions(decodeActionBytes(bytes, OpenFlowVersion.OF15)), "set_field:00:00:00:00:12:34/00:00:00:00:ff:ff->eth_src");
  });

  test("meter instruction bytes rejected in 1.5", () => {
    assert.throws(() => decodeInstructionBytes(Buffer.from("0006000800000005", "hex"), OpenFlowVersion.OF15), OpenFlowDecodeError);
  });
});

describe("malformed bytes", () => {
  test("action length not a multiple of 8", () => {
    assert.throws(() => decodeActionBytes(Buffer.from("ffff0011000023200015000100000000000000000000000000", "hex"), OpenFlowVersion.OF13), /not a positive multiple of 8/);
  });

  test("action longer than the list", () => {
    assert.throws(() => decodeActionBytes(Buffer.from("000000f000000000", "hex"), OpenFlowVersion.OF13), /exceeds/);
  });

  test("truncated header", () => {
    assert.throws(() => decodeActionBytes(Buffer.from("0000", "hex"), OpenFlowVersion.OF13), OpenFlowDecodeError);
  });

  test("unknown action kept byte for byte", () => {
    // NXAST_ENCAP (46) for MPLS, which this codec does not model.
    const bytes = Buffer.from("ffff0010" + "00002320" + "002e" + "0000" + "00018847", "hex");
    const actions = decodeActionBytes(bytes, OpenFlowVersion.OF13);
    assert.deepEqual(actions, [{ type: "unknown", bytes }]);
    const w = new BufferWriter();
    encodeActions(w, parseActions(formatActions(actions), { version: OpenFlowVersion.OF13 }), OpenFlowVersion.OF13);
    assert.equal(w.toBuffer().toString("hex"), bytes.toString("hex"));
  });

  test("duplicate instruction", () => {
    assert.throws(() => decodeInstructionBytes(Buffer.from("0001000801000000" + "0001000802000000", "hex"), OpenFlowVersion.OF13), /appears twice/);
  });
});
