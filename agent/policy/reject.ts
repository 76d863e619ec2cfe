// Reject as a policy action: instead of dropping silently, the agent replies to a denied
// packet so the client fails at once. A denied TCP segment gets a TCP reset. Any other IPv4
// packet gets ICMP destination unreachable, code 13 "communication administratively
// prohibited" (defined in RFC 1812). The drop flow sends the packet to the controller through
// a meter, so a flood of denied packets produces replies at the meter's rate at most.
import { getNumber } from "../../openflow/match/index.ts";
import { NO_BUFFER, OFPP } from "../../openflow/messages/constants.ts";
import type { MessageBody, PacketIn2Message, PacketInMessage, PacketOutMessage } from "../../openflow/messages/types.ts";
import { PacketInFlag } from "./policy-flows.ts";

const ETHERNET_HEADER = 14;
const IPV4_HEADER = 20;
const TCP_HEADER = 20;
const PROTOCOL_ICMP = 1;
const PROTOCOL_TCP = 6;
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;
/** ICMP types that report errors. An ICMP error is never sent in reply to one of these, so no error loops arise. */
const ICMP_ERROR_TYPES = new Set([3, 4, 5, 11, 12]);
const REPLY_TTL = 64;

/**
 * Returns the Ethernet frame that rejects `frame`: a TCP reset for TCP, ICMP type 3 code 13
 * for other IPv4 packets. Returns undefined for frames that get no reply (non-IPv4,
 * VLAN-tagged, fragments after the first, TCP resets, ICMP errors) or that are truncated
 * before the headers the reply needs.
 */
export function buildRejectReply(frame: Buffer): Buffer | undefined {
  if (frame.length < ETHERNET_HEADER + IPV4_HEADER || frame.readUInt16BE(12) !== 0x0800) return undefined;
  const ip = frame.subarray(ETHERNET_HEADER);
  const headerLength = ((ip[0] ?? 0) & 0x0f) * 4;
  const fragmentOffset = ip.readUInt16BE(6) & 0x1fff;
  if (headerLength < IPV4_HEADER || ip.length < headerLength || fragmentOffset !== 0) return undefined;

  const protocol = ip[9] ?? 0;
  const payload = ip.subarray(headerLength);
  if (protocol === PROTOCOL_TCP) return tcpReset(frame, { ip, headerLength, segment: payload });
  if (protocol === PROTOCOL_ICMP && (payload.length < 1 || ICMP_ERROR_TYPES.has(payload[0] ?? 0))) return undefined;
  return icmpProhibited(frame, { ip, headerLength });
}

function tcpReset(frame: Buffer, parts: { ip: Buffer; headerLength: number; segment: Buffer }): Buffer | undefined {
  const { ip, segment } = parts;
  if (segment.length < TCP_HEADER) return undefined;
  const flags = segment[13] ?? 0;
  if ((flags & TCP_RST) !== 0) return undefined;

  // TCP's reset for a segment to a closed port: a segment carrying ACK gets <SEQ=SEG.ACK><CTL=RST>,
  // any other gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. SYN and FIN count in SEG.LEN.
  const totalLength = ip.readUInt16BE(2);
  const dataLength = Math.max(0, totalLength - parts.headerLength - ((segment[12] ?? 0) >> 4) * 4);
  const reply = Buffer.alloc(TCP_HEADER);
  reply.writeUInt16BE(segment.readUInt16BE(2), 0);
  reply.writeUInt16BE(segment.readUInt16BE(0), 2);
  if ((flags & TCP_ACK) !== 0) {
    reply.writeUInt32BE(segment.readUInt32BE(8), 4);
    reply[13] = TCP_RST;
  } else {
    const length = dataLength + ((flags & TCP_SYN) !== 0 ? 1 : 0) + ((flags & TCP_FIN) !== 0 ? 1 : 0);
    reply.writeUInt32BE((segment.readUInt32BE(4) + length) >>> 0, 8);
    reply[13] = TCP_RST | TCP_ACK;
  }
  reply[12] = (TCP_HEADER / 4) << 4;

  const source = ip.subarray(16, 20);
  const destination = ip.subarray(12, 16);
  const pseudoHeader = Buffer.concat([source, destination, Buffer.from([0, PROTOCOL_TCP]), u16(TCP_HEADER)]);
  reply.writeUInt16BE(checksum(Buffer.concat([pseudoHeader, reply])), 16);
  return ethernet(frame, ipv4({ protocol: PROTOCOL_TCP, source, destination, payload: reply }));
}

function icmpProhibited(frame: Buffer, parts: { ip: Buffer; headerLength: number }): Buffer {
  // The ICMP body quotes the offending IP header and the first 8 bytes of its payload, as ICMP errors do.
  const quoted = parts.ip.subarray(0, Math.min(parts.ip.length, parts.headerLength + 8));
  const message = Buffer.concat([Buffer.from([3, 13, 0, 0, 0, 0, 0, 0]), quoted]);
  message.writeUInt16BE(checksum(message), 2);
  return ethernet(frame, ipv4({ protocol: PROTOCOL_ICMP, source: parts.ip.subarray(16, 20), destination: parts.ip.subarray(12, 16), payload: message }));
}

function ipv4(parts: { protocol: number; source: Buffer; destination: Buffer; payload: Buffer }): Buffer {
  const header = Buffer.alloc(IPV4_HEADER);
  header[0] = 0x45;
  header.writeUInt16BE(IPV4_HEADER + parts.payload.length, 2);
  header.writeUInt16BE(0x4000, 6);
  header[8] = REPLY_TTL;
  header[9] = parts.protocol;
  parts.source.copy(header, 12);
  parts.destination.copy(header, 16);
  header.writeUInt16BE(checksum(header), 10);
  return Buffer.concat([header, parts.payload]);
}

/** Wraps an IPv4 packet in Ethernet, addressed back to the sender of `frame`. */
function ethernet(frame: Buffer, packet: Buffer): Buffer {
  return Buffer.concat([frame.subarray(6, 12), frame.subarray(0, 6), Buffer.from([0x08, 0x00]), packet]);
}

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16BE(value);
  return buffer;
}

/** Returns the Internet checksum (one's complement of the one's-complement sum of 16-bit words) of `data`, whose checksum field must be zero. */
function checksum(data: Buffer): number {
  let sum = 0;
  for (let offset = 0; offset + 1 < data.length; offset += 2) sum += data.readUInt16BE(offset);
  if (data.length % 2 === 1) sum += (data[data.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The part of OpenFlowConnection the responder sends packet-outs through. */
export interface PacketOutSender {
  post(body: MessageBody<PacketOutMessage>): Promise<void>;
}

/**
 * Replies to packet-ins of drop flows marked for reject with a packet-out of the reply, sent
 * out of the port the denied packet came in on.
 * NOTE: a packet that came through the tunnel gets its reply out of the tunnel port without
 * the tunnel destination, so rejects only work for senders on this node so far.
 */
export class RejectResponder {
  readonly #sender: PacketOutSender;

  constructor(options: { sender: PacketOutSender }) {
    this.#sender = options.sender;
  }

  /** Sends the reply for one packet-in; returns false when the packet-in is not a reject or needs no reply. */
  async handlePacketIn(message: PacketIn2Message | PacketInMessage): Promise<boolean> {
    if (message.kind !== "nx_packet_in2" || message.userdata?.length !== 5) return false;
    if (((message.userdata[4] ?? 0) & PacketInFlag.reject) === 0) return false;
    const inPort = message.metadata === undefined ? undefined : getNumber(message.metadata, "in_port");
    const reply = buildRejectReply(message.data);
    if (inPort === undefined || reply === undefined) return false;

    await this.#sender.post({
      kind: "packet_out",
      bufferId: NO_BUFFER,
      inPort: OFPP.CONTROLLER,
      actions: [{ type: "output", port: Number(inPort), maxLen: 0 }],
      data: reply,
    });
    return true;
  }
}
