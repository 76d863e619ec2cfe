// Error cases of match text: each must raise a MatchError with a stable code and a message
// naming the bad input and the fix. Where ovs-ofctl also rejects the text, that is checked
// too, so we never reject what OVS accepts for the same reason.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { parseSubfield } from "../../../openflow/match/fields.ts";
import { MatchError, MatchErrorCode, parseMatch } from "../../../openflow/match/index.ts";
import type { MatchErrorCode as Code } from "../../../openflow/match/index.ts";
import { ovsOfctl } from "./match-oracle.ts";

interface ErrorCase {
  text: string;
  code: Code;
  /** Substrings the message must contain. */
  mentions: string[];
}

function expectMatchError(run: () => unknown, expected: ErrorCase): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof MatchError, `expected MatchError, got ${String(error)}`);
    assert.equal(error.code, expected.code, error.message);
    for (const mention of expected.mentions) assert.ok(error.message.includes(mention), `"${error.message}" should mention "${mention}"`);
    return true;
  });
}

function ovsRejects(flow: string): boolean {
  try {
    ovsOfctl(["-O", "OpenFlow15", "parse-flow", `${flow},actions=drop`]);
    return false;
  } catch {
    return true;
  }
}

/** Errors that ovs-ofctl 3.1 also reports. */
const REJECTED_BY_BOTH: ErrorCase[] = [
  { text: "nw_srcc=1", code: MatchErrorCode.UNKNOWN_FIELD, mentions: ["nw_srcc", '"nw_src"'] },
  { text: "tcp,tp_dstt=80", code: MatchErrorCode.UNKNOWN_FIELD, mentions: ["tp_dstt", '"tp_dst"'] },
  { text: "ct_stat=+trk", code: MatchErrorCode.UNKNOWN_FIELD, mentions: ["ct_stat", '"ct_state"'] },
  { text: "frobnicate=1", code: MatchErrorCode.UNKNOWN_FIELD, mentions: ["frobnicate"] },
  { text: "Reg0=1", code: MatchErrorCode.UNKNOWN_FIELD, mentions: ["Reg0", '"reg0"'] },
  { text: "NXM_NX_REG0=5", code: MatchErrorCode.UNKNOWN_FIELD, mentions: ["NXM_NX_REG0", "reg0=VALUE"] },
  { text: "OXM_OF_IN_PORT=3", code: MatchErrorCode.UNKNOWN_FIELD, mentions: ["in_port_oxm=VALUE"] },
  { text: "ip,nw_src=10.0.0", code: MatchErrorCode.BAD_VALUE, mentions: ["10.0.0", "nw_src", "IPv4"] },
  { text: "ip,nw_src=10.0.0.0/33", code: MatchErrorCode.BAD_VALUE, mentions: ["10.0.0.0/33", "prefix"] },
  { text: "ipv6,ipv6_src=fe80:::1", code: MatchErrorCode.BAD_VALUE, mentions: ["fe80:::1"] },
  { text: "dl_src=00:11:22", code: MatchErrorCode.BAD_VALUE, mentions: ["00:11:22", "Ethernet"] },
  { text: "in_port=0x5", code: MatchErrorCode.BAD_VALUE, mentions: ["0x5", "port"] },
  { text: "in_port=1/1", code: MatchErrorCode.BAD_VALUE, mentions: ["1/1"] },
  { text: "tcp,tcp_flags=+syn+foo", code: MatchErrorCode.BAD_VALUE, mentions: ['"foo"', "tcp_flags"] },
  { text: "ct_state=+trk+new-trk", code: MatchErrorCode.BAD_VALUE, mentions: ['"trk"', "more than once"] },
  { text: "ct_state=+trk/0x20", code: MatchErrorCode.BAD_VALUE, mentions: ["trk/0x20"] },
  { text: "ip,nw_frag=maybe", code: MatchErrorCode.BAD_VALUE, mentions: ["maybe", "later"] },
  { text: "reg0=zero", code: MatchErrorCode.BAD_VALUE, mentions: ["zero", "reg0"] },
  { text: "ct_zone=1/1", code: MatchErrorCode.MASK_NOT_ALLOWED, mentions: ["ct_zone", "1/1"] },
  { text: "conj_id=1/1", code: MatchErrorCode.MASK_NOT_ALLOWED, mentions: ["conj_id"] },
  { text: "ip,nw_ttl=5/1", code: MatchErrorCode.MASK_NOT_ALLOWED, mentions: ["nw_ttl"] },
  { text: "reg0=0x100000000", code: MatchErrorCode.VALUE_TOO_WIDE, mentions: ["0x100000000", "reg0", "4-byte"] },
  { text: "reg0=-1", code: MatchErrorCode.VALUE_TOO_WIDE, mentions: ["-1", "reg0"] },
  { text: "icmp,icmp_type=300", code: MatchErrorCode.VALUE_TOO_WIDE, mentions: ["300", "icmp_type"] },
  { text: "tcp,tp_dst=65536", code: MatchErrorCode.VALUE_TOO_WIDE, mentions: ["65536"] },
  { text: "tun_id=0x10000000000000000", code: MatchErrorCode.VALUE_TOO_WIDE, mentions: ["tun_id"] },
  { text: "ct_state=0x121", code: MatchErrorCode.VALUE_TOO_WIDE, mentions: ["0x121", "ct_state"] },
];

/**
 * Errors where ovs-ofctl 3.1 accepts the text but silently drops the field or the bits from
 * the flow it sends. We reject them instead, so a typo cannot widen a flow.
 */
const REJECTED_ONLY_BY_US: ErrorCase[] = [
  { text: "nw_src=10.0.0.1", code: MatchErrorCode.MISSING_PREREQUISITE, mentions: ["nw_src requires ip", "add 'ip,' before it"] },
  { text: "ipv6_src=::1", code: MatchErrorCode.MISSING_PREREQUISITE, mentions: ["ipv6_src requires ipv6", "'ipv6,'"] },
  { text: "tp_dst=80", code: MatchErrorCode.MISSING_PREREQUISITE, mentions: ["tp_dst requires tcp", "'tcp,'"] },
  { text: "ip,tp_dst=80", code: MatchErrorCode.MISSING_PREREQUISITE, mentions: ["tp_dst requires tcp"] },
  { text: "udp,tcp_src=5", code: MatchErrorCode.MISSING_PREREQUISITE, mentions: ["tcp_src requires tcp"] },
  { text: "nw_tos=4", code: MatchErrorCode.MISSING_PREREQUISITE, mentions: ["nw_tos requires ip or ipv6"] },
  { text: "arp_op=1", code: MatchErrorCode.MISSING_PREREQUISITE, mentions: ["arp_op requires arp or rarp", "'arp,'"] },
  { text: "icmp_type=8", code: MatchErrorCode.MISSING_PREREQUISITE, mentions: ["icmp_type requires icmp"] },
  { text: "nd_target=::1", code: MatchErrorCode.MISSING_PREREQUISITE, mentions: ["nd_target requires icmp6"] },
  { text: "icmp6,icmp_type=136,nd_sll=00:00:00:00:00:01", code: MatchErrorCode.MISSING_PREREQUISITE, mentions: ["nd_sll", "135"] },
  { text: "ip,tcp_flags=+syn", code: MatchErrorCode.MISSING_PREREQUISITE, mentions: ["tcp_flags requires tcp"] },
  { text: "mpls_label=5", code: MatchErrorCode.MISSING_PREREQUISITE, mentions: ["mpls_label requires mpls"] },
  { text: "ct_nw_src=1.1.1.1", code: MatchErrorCode.MISSING_PREREQUISITE, mentions: ["ct_nw_src requires ip and a valid conntrack state"] },
  { text: "ip,ct_state=+trk,ct_nw_src=1.1.1.1", code: MatchErrorCode.MISSING_PREREQUISITE, mentions: ["ct_nw_src", "+est"] },
  { text: "ct_state=+est+trk,ct_tp_src=80", code: MatchErrorCode.MISSING_PREREQUISITE, mentions: ["ct_tp_src requires ct_nw_proto"] },
  { text: "ip,nw_tos=3", code: MatchErrorCode.BAD_VALUE, mentions: ["nw_tos", "multiple of 4", "nw_ecn"] },
  { text: "ip,ip_dscp=64", code: MatchErrorCode.VALUE_TOO_WIDE, mentions: ["ip_dscp", "6 significant bits"] },
  { text: "ip,nw_ecn=4", code: MatchErrorCode.VALUE_TOO_WIDE, mentions: ["nw_ecn"] },
];

describe("match errors shared with ovs-ofctl", () => {
  for (const errorCase of REJECTED_BY_BOTH) {
    test(`rejects ${errorCase.text}`, () => {
      expectMatchError(() => parseMatch(errorCase.text), errorCase);
      assert.ok(ovsRejects(errorCase.text), `ovs-ofctl accepts ${errorCase.text}`);
    });
  }
});

describe("match errors stricter than ovs-ofctl", () => {
  for (const errorCase of REJECTED_ONLY_BY_US) {
    test(`rejects ${errorCase.text}`, () => {
      expectMatchError(() => parseMatch(errorCase.text), errorCase);
    });
  }
});

describe("subfield errors", () => {
  const cases: ErrorCase[] = [
    { text: "reg0[32]", code: MatchErrorCode.BAD_SUBFIELD, mentions: ["bit 32", "0..31"] },
    { text: "reg0[5..3]", code: MatchErrorCode.BAD_SUBFIELD, mentions: ["before"] },
    { text: "reg0[0..", code: MatchErrorCode.BAD_SUBFIELD, mentions: ["FIELD[START..END]"] },
    { text: "regx[0..3]", code: MatchErrorCode.UNKNOWN_FIELD, mentions: ["regx"] },
    { text: "dl_vlan[]", code: MatchErrorCode.BAD_SUBFIELD, mentions: ["no NXM or OXM header"] },
  ];
  for (const errorCase of cases) {
    test(`rejects ${errorCase.text}`, () => {
      expectMatchError(() => parseSubfield(errorCase.text), errorCase);
    });
  }

  test("bit-range value too wide", () => {
    expectMatchError(() => parseMatch("tcp,tp_src[5]=2"), { text: "", code: MatchErrorCode.VALUE_TOO_WIDE, mentions: ["1 bits"] });
  });
});
