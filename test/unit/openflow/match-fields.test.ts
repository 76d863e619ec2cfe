// Field registry tests: header numbers written from the OpenFlow and Open vSwitch
// specifications, and every registered NXM/OXM name checked against `ovs-ofctl parse-oxm`.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  bigintToBuffer,
  bufferToBigint,
  FIELDS,
  fieldByHeader,
  formatFieldValue,
  formatSubfield,
  lookupField,
  OxmExperimenter,
  oxmFormFor,
  parseFieldValue,
  parseSubfield,
} from "../../../openflow/match/fields.ts";
import type { FieldInfo, Prerequisite } from "../../../openflow/match/fields.ts";
import { encodeMatch, MatchBuilder, wireEntries } from "../../../openflow/match/index.ts";
import { BufferWriter } from "../../../openflow/wire/writer.ts";
import { OF13, OF15, parseFlowsWithOvs, parseOxmWithOvs } from "./match-oracle.ts";

function field(name: string): FieldInfo {
  const found = lookupField(name);
  assert.ok(found, `field ${name} is registered`);
  return found;
}

describe("field headers from the specification", () => {
  const cases: [string, number][] = [
    ["ct_state", 0x0001d204],
    ["ct_zone", 0x0001d402],
    ["ct_mark", 0x0001d604],
    ["ct_label", 0x0001d810],
    ["reg0", 0x00010004],
    ["reg3", 0x00010604],
    ["reg15", 0x00011e04],
    ["tun_dst", 0x00014004],
    ["conj_id", 0x00014a04],
    ["in_port", 0x00000002],
    ["eth_dst", 0x00000206],
    ["ip_src", 0x00000e04],
    ["tun_id", 0x00012008],
    ["xxreg0", 0x0001de10],
    ["xreg0", 0x80010008],
    ["metadata", 0x80000408],
  ];
  for (const [name, header] of cases) {
    test(`${name} header`, () => {
      assert.equal(field(name).header, header);
    });
  }

  test("OXM forms by version", () => {
    assert.deepEqual(oxmFormFor(field("tcp_flags"), OF13), {
      name: "ONFOXM_ET_TCP_FLAGS",
      header: 0xffff5406,
      experimenter: OxmExperimenter.ONF,
    });
    assert.deepEqual(oxmFormFor(field("tcp_flags"), OF15), { name: "OXM_OF_TCP_FLAGS", header: 0x80005402 });
    assert.deepEqual(oxmFormFor(field("ip_src"), OF13), { name: "OXM_OF_IPV4_SRC", header: 0x80001604 });
    assert.deepEqual(oxmFormFor(field("in_port_oxm"), OF13), { name: "OXM_OF_IN_PORT", header: 0x80000004 });
    assert.deepEqual(oxmFormFor(field("reg1"), OF15), { name: "NXM_NX_REG1", header: 0x00010204 });
  });

  test("lookup by header ignores mask", () => {
    assert.equal(fieldByHeader(0x0001d308)?.name, "ct_state");
    assert.equal(fieldByHeader(0x80010110)?.name, "xreg0");
    assert.equal(fieldByHeader(0xffff5508, OxmExperimenter.ONF)?.name, "tcp_flags");
    assert.equal(fieldByHeader(0xffff5508, OxmExperimenter.NICIRA), undefined);
    assert.equal(fieldByHeader(0x7fff0004), undefined);
  });

  test("aliases and wire names", () => {
    assert.equal(lookupField("nw_src")?.name, "ip_src");
    assert.equal(lookupField("tp_dst")?.name, "tcp_dst");
    assert.equal(lookupField("tunnel_id")?.name, "tun_id");
    assert.equal(lookupField("dl_type")?.name, "eth_type");
    assert.equal(lookupField("NXM_NX_REG0")?.name, "reg0");
    assert.equal(lookupField("OXM_OF_IN_PORT")?.name, "in_port_oxm");
    assert.equal(lookupField("NXM_OF_IN_PORT")?.name, "in_port");
    assert.equal(lookupField("OXM_OF_PKT_REG2")?.name, "xreg2");
    assert.equal(lookupField("NXM_NX_CT_STATE")?.name, "ct_state");
    assert.equal(lookupField("no_such_field"), undefined);
  });
});

/** OXM text that satisfies each prerequisite in `ovs-ofctl parse-oxm`. */
const PREREQUISITE_OXMS: Readonly<Record<Prerequisite, string[]>> = {
  none: [],
  vlan: [],
  mpls: ["OXM_OF_ETH_TYPE(8847)"],
  ip: ["OXM_OF_ETH_TYPE(0800)"],
  ipv6: ["OXM_OF_ETH_TYPE(86dd)"],
  ip_any: ["OXM_OF_ETH_TYPE(0800)"],
  arp: ["OXM_OF_ETH_TYPE(0806)"],
  tcp: ["OXM_OF_ETH_TYPE(0800)", "OXM_OF_IP_PROTO(06)"],
  udp: ["OXM_OF_ETH_TYPE(0800)", "OXM_OF_IP_PROTO(11)"],
  sctp: ["OXM_OF_ETH_TYPE(0800)", "OXM_OF_IP_PROTO(84)"],
  icmp: ["OXM_OF_ETH_TYPE(0800)", "OXM_OF_IP_PROTO(01)"],
  icmp6: ["OXM_OF_ETH_TYPE(86dd)", "OXM_OF_IP_PROTO(3a)"],
  nd: ["OXM_OF_ETH_TYPE(86dd)", "OXM_OF_IP_PROTO(3a)", "OXM_OF_ICMPV6_TYPE(87)"],
  nd_solicit: ["OXM_OF_ETH_TYPE(86dd)", "OXM_OF_IP_PROTO(3a)", "OXM_OF_ICMPV6_TYPE(87)"],
  nd_advert: ["OXM_OF_ETH_TYPE(86dd)", "OXM_OF_IP_PROTO(3a)", "OXM_OF_ICMPV6_TYPE(88)"],
  ct: ["NXM_NX_CT_STATE_W(00000022/00000022)"],
  ct_ip: ["NXM_NX_CT_STATE_W(00000022/00000022)", "OXM_OF_ETH_TYPE(0800)"],
  ct_ipv6: ["NXM_NX_CT_STATE_W(00000022/00000022)", "OXM_OF_ETH_TYPE(86dd)"],
  ct_tp: ["NXM_NX_CT_STATE_W(00000022/00000022)", "NXM_NX_CT_NW_PROTO(06)"],
};

/** Returns a small valid value for each field: 1 in the last byte, or 4 for nw_tos (DSCP 1). */
function sampleValue(target: FieldInfo): Buffer {
  const value = Buffer.alloc(target.bytes);
  value[target.bytes - 1] = target.name === "nw_tos" ? 4 : 1;
  return value;
}

interface OxmCase {
  name: string;
  target: FieldInfo;
  masked: boolean;
}

function oxmCases(): OxmCase[] {
  const cases: OxmCase[] = [];
  for (const target of FIELDS) {
    if (target.header === 0 || target.name === "packet_type" || target.name === "actset_output") continue;
    const names = [target.nxmHeader === undefined ? undefined : target.nxmName, ...target.oxm.map((form) => form.name)];
    for (const name of names) {
      if (name === undefined) continue;
      cases.push({ name, target, masked: false });
      if (target.maskable) cases.push({ name, target, masked: true });
    }
  }
  return cases;
}

function oxmText(oxmCase: OxmCase): string {
  const value = sampleValue(oxmCase.target).toString("hex");
  const entry = oxmCase.masked ? `${oxmCase.name}_W(${value}/${value})` : `${oxmCase.name}(${value})`;
  return [...PREREQUISITE_OXMS[oxmCase.target.prerequisites], entry].join(" ");
}

function ourMatchBytes(oxmCase: OxmCase, version: number): { bytes: Buffer; names: string[] } {
  const builder = new MatchBuilder();
  for (const prerequisite of PREREQUISITE_OXMS[oxmCase.target.prerequisites]) {
    const parsed = /^(\w+?)(_W)?\((\w+)(?:\/(\w+))?\)$/.exec(prerequisite);
    assert.ok(parsed, prerequisite);
    const prerequisiteField = field(parsed[1] ?? "");
    builder.setField(prerequisiteField, Buffer.from(parsed[3] ?? "", "hex"), parsed[4] ? Buffer.from(parsed[4], "hex") : undefined);
  }
  const value = sampleValue(oxmCase.target);
  builder.setField(oxmCase.target, value, oxmCase.masked ? value : undefined);
  const match = builder.build();
  const writer = new BufferWriter();
  encodeMatch(writer, match, version);
  const names = wireEntries(match, version).map((entry) => {
    const form = oxmFormFor(entry.field, version);
    return `${form?.name ?? "?"}${entry.mask ? "_W" : ""}`;
  });
  return { bytes: writer.toBuffer(), names };
}

for (const version of [OF13, OF15]) {
  describe(`field names against ovs-ofctl parse-oxm, OpenFlow ${version === OF13 ? "1.3" : "1.5"}`, () => {
    const cases = oxmCases();
    const printed = parseOxmWithOvs(cases.map(oxmText), version);

    test("one result per field name", () => {
      assert.equal(printed.length, cases.length);
      assert.ok(cases.length > 150, `only ${cases.length} cases`);
    });

    test("encoded match equals ovs-ofctl", () => {
      cases.forEach((oxmCase, index) => {
        const theirs = printed[index];
        assert.ok(theirs);
        const ours = ourMatchBytes(oxmCase, version);
        assert.equal(ours.bytes.toString("hex"), theirs.bytes.toString("hex"), `${oxmText(oxmCase)} printed as ${theirs.text}`);
      });
    });

    test("OXM names equal ovs-ofctl", () => {
      cases.forEach((oxmCase, index) => {
        const theirs = printed[index];
        assert.ok(theirs);
        const names = theirs.text.split(", ").map((entry) => entry.replace(/\(.*$/, ""));
        assert.deepEqual(ourMatchBytes(oxmCase, version).names, names, oxmText(oxmCase));
      });
    });
  });
}

describe("field values", () => {
  const cases: [string, string, string, string | undefined, string][] = [
    // field, text, value hex, mask hex, printed as ovs-ofctl prints set_field values
    ["reg0", "0x1/0xffff", "00000001", "0000ffff", "0x1/0xffff"],
    ["reg0", "0", "00000000", undefined, "0"],
    ["reg0", "010", "00000008", undefined, "0x8"],
    ["reg1", "0x10/0xff0", "00000010", "00000ff0", "0x10/0xff0"],
    ["ip_src", "10.0.0.0/24", "0a000000", "ffffff00", "10.0.0.0/24"],
    ["ip_src", "10.0.0.0/255.255.0.0", "0a000000", "ffff0000", "10.0.0.0/16"],
    ["ip_src", "10.0.0.1/32", "0a000001", undefined, "10.0.0.1"],
    ["ipv6_src", "fe80::1", "fe800000000000000000000000000001", undefined, "fe80::1"],
    ["ipv6_src", "fe80::/64", "fe800000000000000000000000000000", "ffffffffffffffff0000000000000000", "fe80::/64"],
    ["eth_src", "00:11:22:00:00:00/ff:ff:ff:00:00:00", "001122000000", "ffffff000000", "00:11:22:00:00:00/ff:ff:ff:00:00:00"],
    ["in_port", "LOCAL", "fffe", undefined, "LOCAL"],
    ["in_port", "local", "fffe", undefined, "LOCAL"],
    ["in_port", "65528", "fff8", undefined, "IN_PORT"],
    ["in_port", "4294967294", "fffe", undefined, "LOCAL"],
    ["in_port_oxm", "CONTROLLER", "fffffffd", undefined, "CONTROLLER"],
    ["tcp_dst", "80", "0050", undefined, "80"],
    ["tcp_src", "1/3", "0001", "0003", "1/0x3"],
    ["tcp_flags", "+syn-ack", "0002", "0012", "+syn-ack"],
    ["ct_state", "+trk-new", "00000020", "00000021", "-new+trk"],
    ["tun_flags", "oam", "0001", "0001", "oam"],
    ["tun_id", "0", "0000000000000000", undefined, "0"],
    ["ct_label", "0x00010000000000000000000000000000", "00010000000000000000000000000000", undefined, "0x10000000000000000000000000000"],
    ["pkt_mark", "5/7", "00000005", "00000007", "0x5/0x7"],
    ["ip_frag", "later", "03", undefined, "later"],
    ["ip_frag", "not_later", "00", "02", "not_later"],
  ];
  for (const [name, text, valueHex, maskHex, printed] of cases) {
    test(`${name}=${text}`, () => {
      const target = field(name);
      const parsed = parseFieldValue(target, text);
      assert.equal(parsed.value.toString("hex"), valueHex);
      assert.equal(parsed.mask?.toString("hex"), maskHex);
      assert.equal(formatFieldValue(target, parsed.value, parsed.mask), printed);
    });
  }

  test("zero mask prints ANY", () => {
    assert.equal(formatFieldValue(field("reg0"), Buffer.alloc(4), Buffer.alloc(4)), "ANY");
  });
});

describe("values printed like ovs-ofctl set_field", () => {
  // [match prerequisite, field as typed, value text]; ovs-ofctl prints each set_field action
  // with OVS's field name and mf_format() spelling of the value.
  const cases: [string, string, string][] = [
    ["", "reg0", "0"],
    ["", "reg0", "0xffff/0xffff"],
    ["", "reg1", "0/0xff"],
    ["", "reg2", "0x10/0xff0"],
    ["", "xreg1", "0x100000002"],
    ["", "xxreg0", "0x1/0x1"],
    ["", "metadata", "0x1"],
    ["", "pkt_mark", "5/7"],
    ["", "tun_id", "0"],
    ["", "tunnel_id", "0x5/0xff"],
    ["", "tun_src", "10.0.0.1"],
    ["", "tun_dst", "10.0.0.0/255.255.0.0"],
    ["", "tun_ipv6_dst", "::1"],
    ["", "tun_flags", "1"],
    ["", "tun_flags", "oam"],
    ["", "tun_gbp_id", "5"],
    ["", "in_port", "3"],
    ["", "in_port", "LOCAL"],
    ["", "eth_src", "00:11:22:33:44:55"],
    ["", "dl_dst", "01:00:00:00:00:00/01:00:00:00:00:00"],
    ["dl_vlan=1,", "vlan_vid", "4097"],
    ["dl_vlan=1,", "vlan_pcp", "5"],
    ["dl_vlan=1,", "vlan_tci", "0x1005"],
    ["ip,", "nw_src", "10.1.1.2"],
    ["ip,", "ip_dst", "192.168.0.0/16"],
    ["ip,", "ip_dscp", "46"],
    ["ip,", "nw_ecn", "2"],
    ["ip,", "nw_ttl", "9"],
    ["ipv6,", "ipv6_src", "fe80::1"],
    ["ipv6,", "ipv6_dst", "fe80::/64"],
    ["ipv6,", "ipv6_label", "0x5/0xff"],
    ["tcp,", "tcp_dst", "80"],
    ["tcp,", "tp_src", "1/3"],
    ["udp,", "udp_src", "1111"],
    ["sctp,", "sctp_dst", "4445"],
    ["icmp,", "icmp_type", "8"],
    ["icmp6,", "icmpv6_code", "4"],
    ["arp,", "arp_op", "2"],
    ["arp,", "arp_spa", "10.0.0.1"],
    ["arp,", "arp_tha", "66:77:88:99:aa:bb"],
    ["icmp6,icmp_type=135,", "nd_target", "fe80::1"],
    ["icmp6,icmp_type=135,", "nd_sll", "00:00:00:00:00:01"],
    ["mpls,", "mpls_label", "5"],
    ["mpls,", "mpls_ttl", "64"],
  ];

  test("value and name equal ovs-ofctl", () => {
    const flows = cases.map(([prefix, name, value]) => `${prefix}actions=set_field:${value}->${name}`);
    const printed = parseFlowsWithOvs(flows, OF15);
    cases.forEach(([, name, valueText], index) => {
      const line = printed[index]?.text ?? "";
      const found = /set_field:(.+)->(\w+)$/.exec(line);
      assert.ok(found, `ovs-ofctl printed ${line}`);
      const target = field(name);
      const parsed = parseFieldValue(target, valueText);
      assert.equal(formatFieldValue(target, parsed.value, parsed.mask), found[1], `${name}=${valueText}`);
      assert.equal(target.name, found[2], `canonical name of ${name}`);
    });
  });
});

describe("integer buffers", () => {
  test("round trip at every width", () => {
    for (let bytes = 1; bytes <= 16; bytes++) {
      const max = (1n << BigInt(bytes * 8)) - 1n;
      for (const value of [0n, 1n, 0x80n, max >> 1n, max]) {
        const hex = value.toString(16).padStart(bytes * 2, "0");
        assert.equal(bigintToBuffer(value, bytes).toString("hex"), hex, `${value} in ${bytes} bytes`);
        assert.equal(bufferToBigint(Buffer.from(hex, "hex")), value, `${hex}`);
      }
    }
  });
});

describe("subfields", () => {
  const cases: [string, string, number, number][] = [
    ["NXM_NX_REG0[0..15]", "NXM_NX_REG0[0..15]", 0, 16],
    ["reg0[0..15]", "NXM_NX_REG0[0..15]", 0, 16],
    ["reg0[3]", "NXM_NX_REG0[3]", 3, 1],
    ["reg0[]", "NXM_NX_REG0[]", 0, 32],
    ["reg0", "NXM_NX_REG0[]", 0, 32],
    ["eth_src[]", "NXM_OF_ETH_SRC[]", 0, 48],
    ["metadata[0..31]", "OXM_OF_METADATA[0..31]", 0, 32],
    ["xreg1[0..15]", "OXM_OF_PKT_REG1[0..15]", 0, 16],
    ["vlan_vid[]", "OXM_OF_VLAN_VID[]", 0, 12],
    ["nw_tos[]", "NXM_OF_IP_TOS[]", 0, 8],
    ["ip_dscp[]", "OXM_OF_IP_DSCP[]", 0, 6],
    ["in_port[]", "NXM_OF_IN_PORT[]", 0, 16],
    ["ct_label[64..127]", "NXM_NX_CT_LABEL[64..127]", 64, 64],
    ["tun_id[0..31]", "NXM_NX_TUN_ID[0..31]", 0, 32],
  ];
  for (const [text, printed, offset, nBits] of cases) {
    test(`subfield ${text}`, () => {
      const subfield = parseSubfield(text);
      assert.equal(subfield.offset, offset);
      assert.equal(subfield.nBits, nBits);
      assert.equal(formatSubfield(subfield), printed);
    });
  }

  test("subfields print as ovs-ofctl move does", () => {
    const flows = cases.map(([text]) => {
      const subfield = parseSubfield(text);
      const prefix = subfield.field.prerequisites === "none" ? "" : "ip,";
      return `${prefix}actions=move:${text}->xxreg3[0..${subfield.nBits - 1}]`;
    });
    const printed = parseFlowsWithOvs(flows, OF13);
    cases.forEach(([text, expected], index) => {
      const line = printed[index]?.text ?? "";
      const source = /move:(\S+?)->/.exec(line)?.[1];
      assert.equal(source, expected, `ovs-ofctl printed ${line} for ${text}`);
    });
  });
});
