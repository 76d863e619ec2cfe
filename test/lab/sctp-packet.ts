// SCTP packets (RFC 9260) built and parsed byte by byte, for tests that need SCTP traffic on
// a kernel without SCTP sockets. A raw IPv4 socket of protocol 132 carries them: on sending
// (for example `socat IP4-SENDTO:HOST:132`) the kernel adds the IPv4 header, and on receiving
// it returns the header with the packet, which parseSctpDatagram() reads.
//
// Only the parts a policy test needs: the common header with its CRC32c checksum, and INIT
// and INIT ACK chunks with their parameters. No association state, no DATA chunks.
import { BufferReader, OpenFlowDecodeError } from "../../openflow/wire/reader.ts";
import { BufferWriter } from "../../openflow/wire/writer.ts";

/** IP protocol number of SCTP. */
export const IP_PROTOCOL_SCTP = 132;

/** Chunk types of RFC 9260 section 3.2 used here. */
export const SctpChunkType = {
  init: 1,
  initAck: 2,
  abort: 6,
} as const;

/** Parameter types of INIT and INIT ACK (RFC 9260 sections 3.3.2.1 and 3.3.3.1). */
export const SctpParameterType = {
  ipv4Address: 5,
  stateCookie: 7,
  supportedAddressTypes: 12,
} as const;

/** Error codes of SctpPacketError. */
export const SctpPacketErrorCode = {
  /** A field to encode is out of its range or violates an RFC 9260 rule. */
  invalidField: "SCTP_INVALID_FIELD",
  /** Bytes to decode end before a header or the length in a length field. */
  truncated: "SCTP_TRUNCATED",
  /** An IPv4 datagram to decode does not carry SCTP. */
  notSctp: "SCTP_NOT_SCTP",
} as const;

export type SctpPacketErrorCode = (typeof SctpPacketErrorCode)[keyof typeof SctpPacketErrorCode];

/** A packet that cannot be built or parsed. The message names the field and its value. */
export class SctpPacketError extends Error {
  readonly code: SctpPacketErrorCode;

  constructor(code: SctpPacketErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SctpPacketError";
    this.code = code;
  }
}

/** A chunk as it goes on the wire: type, flags and the value after the 4-byte chunk header. */
export interface SctpChunk {
  readonly type: number;
  readonly flags: number;
  readonly value: Uint8Array;
}

/** A TLV parameter of an INIT or INIT ACK chunk, whose `value` excludes the 4-byte header and padding. */
export interface SctpParameter {
  readonly type: number;
  readonly value: Uint8Array;
}

/** The fixed fields of an INIT or INIT ACK chunk (RFC 9260 sections 3.3.2 and 3.3.3). */
export interface InitChunkOptions {
  /** Verification tag the peer must put in every packet it sends back, from 1 to 2^32-1. */
  readonly initiateTag: number;
  /** Advertised receiver window credit (a_rwnd) in bytes. */
  readonly receiverWindow: number;
  /** Number of outbound streams, from 1 to 65535. */
  readonly outboundStreams: number;
  /** Maximum number of inbound streams, from 1 to 65535. */
  readonly inboundStreams: number;
  /** Initial TSN, any 32-bit value. */
  readonly initialTsn: number;
  /** Optional and variable-length parameters, in order. */
  readonly parameters?: readonly SctpParameter[];
}

/** Fields of a whole SCTP packet. */
export interface SctpPacketOptions {
  readonly sourcePort: number;
  readonly destinationPort: number;
  /** 0 in a packet carrying INIT (RFC 9260 section 8.5.1), otherwise the peer's initiate tag. */
  readonly verificationTag: number;
  readonly chunks: readonly SctpChunk[];
}

/** One chunk as parsed: its header fields and the unpadded value. */
export interface ParsedSctpChunk {
  readonly type: number;
  readonly flags: number;
  /** Chunk length field: header plus value, without padding. */
  readonly length: number;
  readonly value: Buffer;
}

/** An SCTP packet as parsed. */
export interface ParsedSctpPacket {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly verificationTag: number;
  /** The checksum field read least significant byte first, so it compares with crc32c(). */
  readonly checksum: number;
  /** True when the checksum field equals the CRC32c computed over the packet. */
  readonly checksumValid: boolean;
  readonly chunks: readonly ParsedSctpChunk[];
}

/** An IPv4 datagram carrying SCTP, as a raw IP socket receives it (header included). */
export interface ParsedSctpDatagram {
  /** Source address in dotted decimal. */
  readonly source: string;
  readonly destination: string;
  readonly sctp: ParsedSctpPacket;
}

const COMMON_HEADER_LENGTH = 12;
const CHECKSUM_OFFSET = 8;
const CHUNK_HEADER_LENGTH = 4;
const IPV4_MIN_HEADER_LENGTH = 20;

/** CRC32c (Castagnoli) polynomial 0x1EDC6F41 in reflected bit order. */
const CASTAGNOLI_REFLECTED = 0x82f63b78;

/**
 * Returns the CRC32c of `data`: Castagnoli polynomial, reflected input and output, initial
 * value and final XOR 0xFFFFFFFF, the CRC that SCTP uses since RFC 3309. 32 zero bytes give
 * 0x8A9136AA (RFC 3720 appendix B.4). Computed bit by bit without a table, because test
 * packets are short.
 */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) {
      crc = crc & 1 ? (crc >>> 1) ^ CASTAGNOLI_REFLECTED : crc >>> 1;
    }
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * Returns the CRC32c of a whole SCTP packet computed with its checksum field taken as zero.
 * The packet stores this value least significant byte first. Linux does the same
 * (`sctp_compute_cksum()` returns `cpu_to_le32` of the CRC), and RFC 3720 appendix B.4 lists
 * its CRC bytes in that order.
 */
export function sctpChecksum(packet: Uint8Array): number {
  if (packet.length < COMMON_HEADER_LENGTH) {
    throw new SctpPacketError(SctpPacketErrorCode.truncated, `SCTP packet of ${packet.length} bytes is shorter than the ${COMMON_HEADER_LENGTH}-byte common header`);
  }
  const copy = Buffer.from(packet);
  copy.writeUInt32LE(0, CHECKSUM_OFFSET);
  return crc32c(copy);
}

/**
 * Builds an SCTP packet: the common header, each chunk padded to 4 bytes, and the CRC32c
 * checksum. Pure. Raises SctpPacketError SCTP_INVALID_FIELD for a port, tag or chunk field
 * out of range, or for a packet without chunks.
 */
export function buildSctpPacket(options: SctpPacketOptions): Buffer {
  checkUint("sourcePort", options.sourcePort, 0xffff);
  checkUint("destinationPort", options.destinationPort, 0xffff);
  checkUint("verificationTag", options.verificationTag, 0xffffffff);
  if (options.chunks.length === 0) {
    throw new SctpPacketError(SctpPacketErrorCode.invalidField, "an SCTP packet needs at least one chunk; pass initChunk(...) or another chunk");
  }

  const writer = new BufferWriter(COMMON_HEADER_LENGTH + 64);
  writer.u16(options.sourcePort).u16(options.destinationPort).u32(options.verificationTag).u32(0);
  for (const chunk of options.chunks) writeChunk(writer, chunk);

  const packet = writer.toBuffer();
  packet.writeUInt32LE(crc32c(packet), CHECKSUM_OFFSET);
  return packet;
}

/**
 * Returns an INIT chunk (type 1). Raises SctpPacketError SCTP_INVALID_FIELD when a field
 * breaks RFC 9260 section 3.3.2: a zero initiate tag or a zero stream count.
 */
export function initChunk(options: InitChunkOptions): SctpChunk {
  return { type: SctpChunkType.init, flags: 0, value: initValue(options) };
}

/**
 * Returns an INIT ACK chunk (type 2) carrying `stateCookie` as its first parameter, which
 * RFC 9260 section 3.3.3 requires. Same field rules as initChunk().
 */
export function initAckChunk(options: InitChunkOptions & { readonly stateCookie: Uint8Array }): SctpChunk {
  const parameters = [{ type: SctpParameterType.stateCookie, value: options.stateCookie }, ...(options.parameters ?? [])];
  return { type: SctpChunkType.initAck, flags: 0, value: initValue({ ...options, parameters }) };
}

/** Returns an IPv4 Address parameter (type 5) for `address` in dotted decimal. */
export function ipv4AddressParameter(address: string): SctpParameter {
  return { type: SctpParameterType.ipv4Address, value: ipv4Bytes(address) };
}

/**
 * Parses an SCTP packet that starts at the common header. Checks the checksum but does not
 * reject a bad one: `checksumValid` reports it. Raises SctpPacketError SCTP_TRUNCATED when a
 * header or a chunk length runs past the end.
 */
export function parseSctpPacket(packet: Uint8Array): ParsedSctpPacket {
  const bytes = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  return decoding(() => {
    const reader = new BufferReader(bytes, "SCTP common header");
    const sourcePort = reader.u16("source port");
    const destinationPort = reader.u16("destination port");
    const verificationTag = reader.u32("verification tag");
    reader.skip(4, "checksum");
    const checksum = bytes.readUInt32LE(CHECKSUM_OFFSET);
    const chunks: ParsedSctpChunk[] = [];
    while (reader.remaining > 0) chunks.push(readChunk(reader));
    return { sourcePort, destinationPort, verificationTag, checksum, checksumValid: checksum === sctpChecksum(bytes), chunks };
  });
}

/**
 * Parses one IPv4 datagram carrying SCTP, as a Linux raw IPv4 socket receives it: the IPv4
 * header (with options, if any), then the SCTP packet. Bytes past the IPv4 total length are
 * ignored. Raises SctpPacketError SCTP_NOT_SCTP for another protocol or IP version, and
 * SCTP_TRUNCATED for a short datagram.
 */
export function parseSctpDatagram(datagram: Uint8Array): ParsedSctpDatagram {
  const { headerLength, totalLength } = ipv4Lengths(datagram);
  const bytes = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  const protocol = bytes.readUInt8(9);
  if (protocol !== IP_PROTOCOL_SCTP) {
    throw new SctpPacketError(SctpPacketErrorCode.notSctp, `IPv4 protocol is ${protocol}, not ${IP_PROTOCOL_SCTP} (SCTP)`);
  }
  return {
    source: formatIpv4(bytes.subarray(12, 16)),
    destination: formatIpv4(bytes.subarray(16, 20)),
    sctp: parseSctpPacket(bytes.subarray(headerLength, totalLength)),
  };
}

function initValue(options: InitChunkOptions): Buffer {
  checkUint("initiateTag", options.initiateTag, 0xffffffff, { min: 1 });
  checkUint("receiverWindow", options.receiverWindow, 0xffffffff);
  checkUint("outboundStreams", options.outboundStreams, 0xffff, { min: 1 });
  checkUint("inboundStreams", options.inboundStreams, 0xffff, { min: 1 });
  checkUint("initialTsn", options.initialTsn, 0xffffffff);

  const writer = new BufferWriter();
  writer.u32(options.initiateTag).u32(options.receiverWindow).u16(options.outboundStreams).u16(options.inboundStreams).u32(options.initialTsn);
  const parameters = options.parameters ?? [];
  return writeParameters(writer, parameters);
}

/**
 * Appends each parameter as type, length, value. RFC 9260 section 3.2.1: the length field
 * excludes padding, and every parameter but the last is padded to 4 bytes here. The last
 * one's padding is the chunk's padding, which writeChunk() adds after the chunk length.
 */
function writeParameters(writer: BufferWriter, parameters: readonly SctpParameter[]): Buffer {
  // The writer holds only the chunk value, so offset 0 is where its 4-byte alignment counts from.
  const start = 0;
  parameters.forEach((parameter, index) => {
    checkUint("parameter type", parameter.type, 0xffff);
    writer.u16(parameter.type);
    const mark = writer.beginLength(writer.length - 2);
    writer.bytes(parameter.value);
    writer.endLength(mark);
    if (index < parameters.length - 1) writer.padTo(4, start);
  });
  return writer.toBuffer();
}

function writeChunk(writer: BufferWriter, chunk: SctpChunk): void {
  checkUint("chunk type", chunk.type, 0xff);
  checkUint("chunk flags", chunk.flags, 0xff);
  const start = writer.length;
  writer.u8(chunk.type).u8(chunk.flags);
  const mark = writer.beginLength(start);
  writer.bytes(chunk.value);
  writer.endLength(mark);
  writer.padTo(4, start);
}

function readChunk(reader: BufferReader): ParsedSctpChunk {
  const offset = reader.position;
  const type = reader.u8("chunk type");
  const flags = reader.u8("chunk flags");
  const length = reader.u16("chunk length");
  if (length < CHUNK_HEADER_LENGTH) {
    throw new SctpPacketError(SctpPacketErrorCode.truncated, `chunk at offset ${offset} has length ${length}, less than its ${CHUNK_HEADER_LENGTH}-byte header`);
  }
  const value = reader.bytes(length - CHUNK_HEADER_LENGTH, `value of chunk type ${type}`);
  // Tolerates a last chunk without its padding: RFC 9260 section 3.2 requires the padding,
  // but a missing one does not hide the fields a test reads.
  reader.alignTo(4, 0);
  return { type, flags, length, value };
}

function ipv4Lengths(datagram: Uint8Array): { headerLength: number; totalLength: number } {
  if (datagram.length < IPV4_MIN_HEADER_LENGTH) {
    throw new SctpPacketError(SctpPacketErrorCode.truncated, `IPv4 datagram of ${datagram.length} bytes is shorter than the ${IPV4_MIN_HEADER_LENGTH}-byte header`);
  }
  const version = (datagram[0] ?? 0) >> 4;
  if (version !== 4) {
    throw new SctpPacketError(SctpPacketErrorCode.notSctp, `IP version is ${version}, not 4`);
  }
  const totalLength = ((datagram[2] ?? 0) << 8) | (datagram[3] ?? 0);
  const headerLength = ((datagram[0] ?? 0) & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER_LENGTH || totalLength < headerLength + COMMON_HEADER_LENGTH || totalLength > datagram.length) {
    throw new SctpPacketError(
      SctpPacketErrorCode.truncated,
      `IPv4 datagram has header length ${headerLength} and total length ${totalLength} but ${datagram.length} bytes are present; an SCTP datagram needs at least ${IPV4_MIN_HEADER_LENGTH + COMMON_HEADER_LENGTH}`,
    );
  }
  return { headerLength, totalLength };
}

/** Runs a decoder and turns the reader's bounds errors into SctpPacketError SCTP_TRUNCATED. */
function decoding<T>(decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof OpenFlowDecodeError) {
      throw new SctpPacketError(SctpPacketErrorCode.truncated, error.message.replace(/^cannot decode/, "truncated"), { cause: error });
    }
    throw error;
  }
}

function checkUint(name: string, value: number, max: number, options: { min?: number } = {}): void {
  const min = options.min ?? 0;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SctpPacketError(SctpPacketErrorCode.invalidField, `${name} ${value} is invalid; use an integer from ${min} to ${max}`);
  }
}

function ipv4Bytes(address: string): Buffer {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)) {
    throw new SctpPacketError(SctpPacketErrorCode.invalidField, `IPv4 address ${JSON.stringify(address)} is invalid; use dotted decimal like 10.244.1.11`);
  }
  return Buffer.from(parts);
}

function formatIpv4(bytes: Uint8Array): string {
  return [...bytes].join(".");
}
