// Reject replies built from denied packets. The TCP reset of a SYN is compared with bytes
// worked out by hand from the IPv4 and TCP header layouts, checksums summed by hand. Other
// replies are checked field by field, and their checksums by the Internet checksum's rule
// that the one's-complement sum over a block including its checksum is 0xffff.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildRejectReply, RejectResponder } from "../../../agent/policy/reject.ts";
import { MatchBuilder } from "../../../openflow/match/index.ts";
import type { MessageBody, PacketOutMessage } from "../../../openflow/messages/types.ts";

const hex = (...parts: string[]): Buffer => Buffer.from(parts.join(""), "hex");

/** A TCP SYN from 10.244.2.7:40000 to 10.244.1.5:80, sequence number 0. */
const SYN = hex("0a5800f40105", "0a5800f40207", "0800", "450000280000400040060000", "0af40207", "0af40105", "9c400050", "00000000", "00000000", "5002ffff", "00000000");

/** A UDP datagram from 10.244.2.7:5000 to 10.244.1.5:53 with 4 bytes of data. */
const UDP = hex("0a5800f40105", "0a5800f40207", "0800", "450000200001000040110000", "0af40207", "0af40105", "13880035000c0000", "deadbeef");

function onesComplementSum(data: Buffer): number {
  let sum = 0;
  for (let offset = 0; offset + 1 < data.length; offset += 2) sum += data.readUInt16BE(offset);
  if (data.length % 2 === 1) sum += (data[data.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

test("reject: TCP SYN gets RST+ACK", () => {
  assert.deepEqual(
    buildRejectReply(SYN),
    hex(
      "0a5800f40207", "0a5800f40105", "0800",
      // IPv4: length 40, DF, TTL 64, TCP, checksum 0x21dd, from 10.244.1.5 to 10.244.2.7.
      "45000028", "00004000", "400621dd", "0af40105", "0af40207",
      // TCP: 80 -> 40000, seq 0, ack 1 (the SYN), offset 5, RST+ACK, window 0, checksum 0xfa4b.
      "00509c40", "00000000", "00000001", "50140000", "fa4b0000",
    ),
  );
});

test("reject: TCP ACK gets RST at its ack", () => {
  const segment = Buffer.from(SYN);
  segment.writeUInt32BE(0x11223344, 14 + 20 + 8);
  segment[14 + 20 + 13] = 0x10;
  const reply = buildRejectReply(segment);
  assert.ok(reply !== undefined);
  assert.equal(reply.readUInt32BE(14 + 20 + 4), 0x11223344, "sequence number is the segment's ack");
  assert.equal(reply[14 + 20 + 13], 0x04, "RST alone");
  const pseudo = Buffer.concat([reply.subarray(26, 34), Buffer.from([0, 6, 0, 20])]);
  assert.equal(onesComplementSum(Buffer.concat([pseudo, reply.subarray(34)])), 0xffff, "TCP checksum");
});

test("reject: UDP gets ICMP prohibited", () => {
  const reply = buildRejectReply(UDP);
  assert.ok(reply !== undefined);
  assert.deepEqual(reply.subarray(0, 14), hex("0a5800f40207", "0a5800f40105", "0800"));
  const ip = reply.subarray(14, 34);
  assert.equal(ip.readUInt16BE(2), 20 + 8 + 28, "IPv4 total length: ICMP header and the quoted 28 bytes");
  assert.equal(ip[9], 1, "protocol ICMP");
  assert.deepEqual(ip.subarray(12, 20), hex("0af40105", "0af40207"));
  assert.equal(onesComplementSum(ip), 0xffff, "IPv4 checksum");
  const icmp = reply.subarray(34);
  assert.equal(icmp[0], 3, "type destination unreachable");
  assert.equal(icmp[1], 13, "code administratively prohibited");
  assert.deepEqual(icmp.subarray(8), UDP.subarray(14, 14 + 28), "quotes the IP header and 8 bytes");
  assert.equal(onesComplementSum(icmp), 0xffff, "ICMP checksum");
});

test("reject: no reply cases", () => {
  const reset = Buffer.from(SYN);
  reset[14 + 20 + 13] = 0x04;
  assert.equal(buildRejectReply(reset), undefined, "TCP reset");
  const icmpError = hex("0a5800f40105", "0a5800f40207", "0800", "4500001c0000400040010000", "0af40207", "0af40105", "0301000000000000");
  assert.equal(buildRejectReply(icmpError), undefined, "ICMP error");
  const fragment = Buffer.from(UDP);
  fragment.writeUInt16BE(0x0010, 14 + 6);
  assert.equal(buildRejectReply(fragment), undefined, "later fragment");
  const arp = Buffer.from(SYN);
  arp.writeUInt16BE(0x0806, 12);
  assert.equal(buildRejectReply(arp), undefined, "ARP");
  assert.equal(buildRejectReply(SYN.subarray(0, 40)), undefined, "truncated TCP header");
});

test("reject responder: packet-out to in_port", async () => {
  const sent: MessageBody<PacketOutMessage>[] = [];
  const responder = new RejectResponder({ sender: { post: (body) => Promise.resolve(void sent.push(body)) } });
  const metadata = new MatchBuilder();
  metadata.setCanonical("in_port", 11n);
  const packetIn = (flags: number) => ({ kind: "nx_packet_in2" as const, version: 6, xid: 0, data: SYN, userdata: Buffer.from([0, 0, 0, 2, flags]), metadata: metadata.build() });

  assert.equal(await responder.handlePacketIn(packetIn(0x01)), false, "audit only");
  assert.equal(await responder.handlePacketIn(packetIn(0x03)), true);
  assert.equal(sent.length, 1);
  assert.equal(sent[0]?.inPort, 0xfffffffd, "in_port CONTROLLER");
  assert.deepEqual(sent[0]?.actions, [{ type: "output", port: 11, maxLen: 0 }]);
  assert.deepEqual(sent[0]?.data, buildRejectReply(SYN));
});
