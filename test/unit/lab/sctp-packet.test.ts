// SCTP packet builder and parser. Expected bytes are written from the specifications. The
// CRC32c values come from RFC 3720 appendix B.4, plus the standard check value of
// "123456789". The packet layouts follow RFC 9260 sections 3.1 to 3.3.3. Their checksum
// bytes were computed with Debian's python3-crcmod (`crcmod.predefined.mkCrcFun("crc-32c")`,
// stored least significant byte first), not by the code under test.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildSctpPacket,
  crc32c,
  initAckChunk,
  initChunk,
  ipv4AddressParameter,
  parseSctpDatagram,
  parseSctpPacket,
  sctpChecksum,
  SctpChunkType,
  SctpPacketError,
  SctpPacketErrorCode,
  SctpParameterType,
} from "../../lab/sctp-packet.ts";

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ""), "hex");
}

function isSctpError(code: SctpPacketErrorCode): (error: unknown) => boolean {
  return (error: unknown) => error instanceof SctpPacketError && error.code === code;
}

/** INIT from 40000 to 80 with an IPv4 Address and a Supported Address Types parameter. */
const INIT_PACKET = hex(
  "9c40 0050" + // source port 40000, destination port 80
    "00000000" + // verification tag 0, as a packet carrying INIT requires
    "83208718" + // CRC32c 0x18872083, least significant byte first
    "01 00 0022" + // chunk type 1 (INIT), flags 0, length 34: 4 + 16 + 8 + 6, without the final padding
    "01020304 00010000" + // initiate tag, a_rwnd 65536
    "000a ffff 11223344" + // 10 outbound streams, 65535 inbound streams, initial TSN
    "0005 0008 0af4010b" + // IPv4 Address 10.244.1.11
    "000c 0006 0005" + // Supported Address Types: IPv4 (5)
    "0000", // chunk padding to a multiple of 4 bytes, not counted in the chunk length
);

const INIT_OPTIONS = {
  initiateTag: 0x01020304,
  receiverWindow: 65536,
  outboundStreams: 10,
  inboundStreams: 65535,
  initialTsn: 0x11223344,
  parameters: [ipv4AddressParameter("10.244.1.11"), { type: SctpParameterType.supportedAddressTypes, value: hex("0005") }],
};

/** INIT ACK from 80 to 40000 with a 5-byte State Cookie (padded inside the chunk) and an IPv4 Address. */
const INIT_ACK_PACKET = hex(
  "0050 9c40" + // source port 80, destination port 40000
    "01020304" + // verification tag: the INIT's initiate tag
    "57b1f48f" + // CRC32c
    "02 00 0028" + // chunk type 2 (INIT ACK), flags 0, length 40: 4 + 16 + 12 + 8
    "0a0b0c0d 00001000 0001 0001 00000000" + // initiate tag, a_rwnd 4096, 1 and 1 streams, TSN 0
    "0007 0009 deadbeef01 000000" + // State Cookie, length 9, 3 padding bytes counted in the chunk length
    "0005 0008 0af4010c", // IPv4 Address 10.244.1.12
);

test("crc32c: RFC 3720 B.4 vectors", () => {
  const ascending = Buffer.from(Array.from({ length: 32 }, (_, index) => index));
  const descending = Buffer.from(Array.from({ length: 32 }, (_, index) => 31 - index));
  assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa, "32 bytes of zeros");
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43, "32 bytes of 0xff");
  assert.equal(crc32c(ascending), 0x46dd794e, "bytes 0 to 31");
  assert.equal(crc32c(descending), 0x113fdb5c, "bytes 31 to 0");
  assert.equal(crc32c(Buffer.from("123456789", "ascii")), 0xe3069283, "check value");
  assert.equal(crc32c(Buffer.alloc(0)), 0, "empty input");
});

test("checksum: ignores the stored field", () => {
  // The literal stores 83 20 87 18: the CRC32c 0x18872083 least significant byte first, the
  // order in which RFC 3720 B.4 lists the CRC of 32 zero bytes (aa 36 91 8a for 0x8A9136AA).
  assert.equal(sctpChecksum(INIT_PACKET), 0x18872083);
  const overwritten = Buffer.from(INIT_PACKET);
  overwritten.writeUInt32BE(0xffffffff, 8);
  assert.equal(sctpChecksum(overwritten), 0x18872083, "the field is taken as zero");
  assert.throws(() => sctpChecksum(INIT_PACKET.subarray(0, 11)), isSctpError(SctpPacketErrorCode.truncated));
});

test("INIT packet: RFC 9260 layout", () => {
  const packet = buildSctpPacket({ sourcePort: 40000, destinationPort: 80, verificationTag: 0, chunks: [initChunk(INIT_OPTIONS)] });
  assert.equal(INIT_PACKET.length, 48, "the literal itself is 48 bytes");
  assert.equal(packet.toString("hex"), INIT_PACKET.toString("hex"));
});

test("INIT ACK packet: cookie padding", () => {
  const chunk = initAckChunk({
    initiateTag: 0x0a0b0c0d,
    receiverWindow: 4096,
    outboundStreams: 1,
    inboundStreams: 1,
    initialTsn: 0,
    stateCookie: hex("deadbeef01"),
    parameters: [ipv4AddressParameter("10.244.1.12")],
  });
  const packet = buildSctpPacket({ sourcePort: 80, destinationPort: 40000, verificationTag: 0x01020304, chunks: [chunk] });
  assert.equal(packet.toString("hex"), INIT_ACK_PACKET.toString("hex"));
});

test("ABORT packet: empty chunk value", () => {
  const packet = buildSctpPacket({ sourcePort: 80, destinationPort: 40000, verificationTag: 0x0a0b0c0d, chunks: [{ type: SctpChunkType.abort, flags: 1, value: Buffer.alloc(0) }] });
  assert.equal(packet.toString("hex"), "00509c400a0b0c0dc44693260601" + "0004");
});

test("parse: INIT fields and checksum", () => {
  const parsed = parseSctpPacket(INIT_PACKET);
  assert.equal(parsed.sourcePort, 40000);
  assert.equal(parsed.destinationPort, 80);
  assert.equal(parsed.verificationTag, 0);
  assert.equal(parsed.checksum, 0x18872083);
  assert.equal(parsed.checksumValid, true);
  assert.equal(parsed.chunks.length, 1);
  assert.equal(parsed.chunks[0]?.type, SctpChunkType.init);
  assert.equal(parsed.chunks[0]?.length, 34);
  assert.equal(parsed.chunks[0]?.value.toString("hex"), INIT_PACKET.subarray(16, 46).toString("hex"));
});

test("parse: flipped byte fails checksum", () => {
  for (const offset of [0, 8, 20, 47]) {
    const damaged = Buffer.from(INIT_PACKET);
    damaged[offset] = (damaged[offset] ?? 0) ^ 0x01;
    assert.equal(parseSctpPacket(damaged).checksumValid, false, `byte ${offset} flipped`);
  }
});

test("parse: two chunks in one packet", () => {
  const init = initChunk(INIT_OPTIONS);
  const abort = { type: SctpChunkType.abort, flags: 0, value: hex("00ff") };
  const parsed = parseSctpPacket(buildSctpPacket({ sourcePort: 5, destinationPort: 6, verificationTag: 7, chunks: [init, abort] }));
  assert.deepEqual(
    parsed.chunks.map((chunk) => [chunk.type, chunk.length, chunk.value.toString("hex")]),
    [
      [SctpChunkType.init, 34, INIT_PACKET.subarray(16, 46).toString("hex")],
      [SctpChunkType.abort, 6, "00ff"],
    ],
  );
  assert.equal(parsed.checksumValid, true);
});

test("parse: truncated input rejected", () => {
  assert.throws(() => parseSctpPacket(INIT_PACKET.subarray(0, 11)), isSctpError(SctpPacketErrorCode.truncated), "shorter than the common header");
  assert.throws(() => parseSctpPacket(INIT_PACKET.subarray(0, 40)), isSctpError(SctpPacketErrorCode.truncated), "chunk length past the end");
  const badLength = Buffer.from(INIT_PACKET);
  badLength.writeUInt16BE(2, 14);
  assert.throws(() => parseSctpPacket(badLength), isSctpError(SctpPacketErrorCode.truncated), "chunk length below 4");
});

/** IPv4 header, 20 bytes: total length 68, protocol 132, 10.244.1.11 to 10.244.1.12 (header checksum not checked). */
const IPV4_HEADER = hex("4500 0044 0000 4000 40 84 0000 0af4010b 0af4010c");

test("datagram: IPv4 header then SCTP", () => {
  const datagram = parseSctpDatagram(Buffer.concat([IPV4_HEADER, INIT_PACKET]));
  assert.equal(datagram.source, "10.244.1.11");
  assert.equal(datagram.destination, "10.244.1.12");
  assert.equal(datagram.sctp.destinationPort, 80);
  assert.equal(datagram.sctp.checksumValid, true);
});

test("datagram: IPv4 options skipped", () => {
  // IHL 6: one 4-byte option (NOP NOP NOP End of Options List), total length 72.
  const header = hex("4600 0048 0000 4000 40 84 0000 0af4010b 0af4010c 01010100");
  const datagram = parseSctpDatagram(Buffer.concat([header, INIT_PACKET]));
  assert.equal(datagram.sctp.sourcePort, 40000);
  assert.equal(datagram.sctp.checksumValid, true);
});

test("datagram: other protocol rejected", () => {
  const udp = Buffer.from(IPV4_HEADER);
  udp[9] = 17;
  assert.throws(() => parseSctpDatagram(Buffer.concat([udp, INIT_PACKET])), isSctpError(SctpPacketErrorCode.notSctp));
  assert.throws(() => parseSctpDatagram(Buffer.concat([IPV4_HEADER, INIT_PACKET.subarray(0, 40)])), isSctpError(SctpPacketErrorCode.truncated), "total length past the end");
  assert.throws(() => parseSctpDatagram(IPV4_HEADER.subarray(0, 19)), isSctpError(SctpPacketErrorCode.truncated), "short header");
  const ipv6 = Buffer.concat([IPV4_HEADER, INIT_PACKET]);
  ipv6[0] = 0x60;
  assert.throws(() => parseSctpDatagram(ipv6), isSctpError(SctpPacketErrorCode.notSctp), "IPv6 is not IPv4");
});

test("build: invalid fields rejected", () => {
  const valid = { sourcePort: 1, destinationPort: 2, verificationTag: 0, chunks: [initChunk(INIT_OPTIONS)] };
  for (const [name, build] of [
    ["port above 65535", () => buildSctpPacket({ ...valid, destinationPort: 65536 })],
    ["negative port", () => buildSctpPacket({ ...valid, sourcePort: -1 })],
    ["tag above 2^32-1", () => buildSctpPacket({ ...valid, verificationTag: 2 ** 32 })],
    ["no chunks", () => buildSctpPacket({ ...valid, chunks: [] })],
    ["initiate tag 0", () => initChunk({ ...INIT_OPTIONS, initiateTag: 0 })],
    ["zero outbound streams", () => initChunk({ ...INIT_OPTIONS, outboundStreams: 0 })],
    ["zero inbound streams", () => initChunk({ ...INIT_OPTIONS, inboundStreams: 0 })],
    ["fractional TSN", () => initChunk({ ...INIT_OPTIONS, initialTsn: 1.5 })],
    ["bad IPv4 address", () => ipv4AddressParameter("10.244.1")],
    ["chunk type above 255", () => buildSctpPacket({ ...valid, chunks: [{ type: 256, flags: 0, value: Buffer.alloc(0) }] })],
  ] as const) {
    assert.throws(build, isSctpError(SctpPacketErrorCode.invalidField), name);
  }
  assert.throws(() => initChunk({ ...INIT_OPTIONS, initiateTag: 0 }), /initiateTag 0 is invalid; use an integer from 1 to 4294967295/);
});
