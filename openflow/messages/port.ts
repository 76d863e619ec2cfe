// Port descriptions (ofp_port), PORT_STATUS and port statistics. OpenFlow 1.3 has fixed
// Ethernet fields in ofp_port and ofp_port_stats; OpenFlow 1.5 moves them into an
// OFPPDPT_ETHERNET / OFPPSPT_ETHERNET property after a length field.
import { OpenFlowVersion } from "../version.ts";
import type { BufferWriter } from "../wire/writer.ts";
import type { BufferReader } from "../wire/reader.ts";
import type { MessageHeaderFields, PortDesc, PortStats, PortStatusMessage } from "./types.ts";

const PORT_NAME_LENGTH = 16;
const ETHERNET_PROPERTY = 0;

export function encodePortDesc(w: BufferWriter, port: PortDesc, version: OpenFlowVersion): void {
  const start = w.length;
  w.u32(port.portNo);
  if (version === OpenFlowVersion.OF15) {
    const mark = w.beginLength(start);
    w.zeros(2).bytes(port.hwAddr).zeros(2).fixedString(port.name, PORT_NAME_LENGTH).u32(port.config).u32(port.state);
    w.u16(ETHERNET_PROPERTY).u16(32).zeros(4);
    w.u32(port.curr).u32(port.advertised).u32(port.supported).u32(port.peer).u32(port.currSpeed).u32(port.maxSpeed);
    w.endLength(mark);
    return;
  }
  w.zeros(4).bytes(port.hwAddr).zeros(2).fixedString(port.name, PORT_NAME_LENGTH).u32(port.config).u32(port.state);
  w.u32(port.curr).u32(port.advertised).u32(port.supported).u32(port.peer).u32(port.currSpeed).u32(port.maxSpeed);
}

export function decodePortDesc(r: BufferReader, version: OpenFlowVersion): PortDesc {
  const portNo = r.u32("port_no");
  if (version === OpenFlowVersion.OF15) {
    const length = r.u16("port length");
    if (length < 40) r.fail(`ofp_port length ${length} is below 40`);
    const body = r.sub(length - 6, "ofp_port");
    body.skip(2);
    const hwAddr = Buffer.from(body.bytes(6, "hw_addr"));
    body.skip(2);
    const name = body.fixedString(PORT_NAME_LENGTH, "name");
    const config = body.u32("config");
    const state = body.u32("state");
    const port: PortDesc = {
      portNo, hwAddr, name, config, state,
      curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0,
    };
    while (body.remaining > 0) {
      const type = body.u16("port property type");
      const propertyLength = body.u16("port property length");
      if (propertyLength < 4) body.fail(`port property length ${propertyLength} is too short`);
      const property = body.sub(propertyLength - 4, `port property ${type}`);
      if (type !== ETHERNET_PROPERTY) continue;
      property.skip(4);
      port.curr = property.u32("curr");
      port.advertised = property.u32("advertised");
      port.supported = property.u32("supported");
      port.peer = property.u32("peer");
      port.currSpeed = property.u32("curr_speed");
      port.maxSpeed = property.u32("max_speed");
    }
    return port;
  }
  r.skip(4);
  const hwAddr = Buffer.from(r.bytes(6, "hw_addr"));
  r.skip(2);
  const name = r.fixedString(PORT_NAME_LENGTH, "name");
  return {
    portNo,
    hwAddr,
    name,
    config: r.u32("config"),
    state: r.u32("state"),
    curr: r.u32("curr"),
    advertised: r.u32("advertised"),
    supported: r.u32("supported"),
    peer: r.u32("peer"),
    currSpeed: r.u32("curr_speed"),
    maxSpeed: r.u32("max_speed"),
  };
}

export function encodePortStatus(w: BufferWriter, m: PortStatusMessage): void {
  w.u8(m.reason).zeros(7);
  encodePortDesc(w, m.port, m.version >= OpenFlowVersion.OF15 ? OpenFlowVersion.OF15 : OpenFlowVersion.OF13);
}

export function decodePortStatus(r: BufferReader, header: MessageHeaderFields): PortStatusMessage {
  const reason = r.u8("reason");
  r.skip(7);
  const version = header.version >= OpenFlowVersion.OF15 ? OpenFlowVersion.OF15 : OpenFlowVersion.OF13;
  return { kind: "port_status", ...header, reason, port: decodePortDesc(r, version) };
}

export function encodePortStatsEntry(w: BufferWriter, s: PortStats, version: OpenFlowVersion): void {
  if (version === OpenFlowVersion.OF15) {
    const start = w.length;
    const mark = w.beginLength(start);
    w.zeros(2).u32(s.portNo).u32(s.durationSec).u32(s.durationNsec);
    w.u64(s.rxPackets).u64(s.txPackets).u64(s.rxBytes).u64(s.txBytes);
    w.u64(s.rxDropped).u64(s.txDropped).u64(s.rxErrors).u64(s.txErrors);
    w.u16(ETHERNET_PROPERTY).u16(40).zeros(4);
    w.u64(s.rxFrameErr).u64(s.rxOverErr).u64(s.rxCrcErr).u64(s.collisions);
    w.endLength(mark);
    return;
  }
  w.u32(s.portNo).zeros(4);
  w.u64(s.rxPackets).u64(s.txPackets).u64(s.rxBytes).u64(s.txBytes);
  w.u64(s.rxDropped).u64(s.txDropped).u64(s.rxErrors).u64(s.txErrors);
  w.u64(s.rxFrameErr).u64(s.rxOverErr).u64(s.rxCrcErr).u64(s.collisions);
  w.u32(s.durationSec).u32(s.durationNsec);
}

function readPortStats13(r: BufferReader): PortStats {
  const portNo = r.u32("port_no");
  r.skip(4);
  return {
    portNo,
    rxPackets: r.u64("rx_packets"),
    txPackets: r.u64("tx_packets"),
    rxBytes: r.u64("rx_bytes"),
    txBytes: r.u64("tx_bytes"),
    rxDropped: r.u64("rx_dropped"),
    txDropped: r.u64("tx_dropped"),
    rxErrors: r.u64("rx_errors"),
    txErrors: r.u64("tx_errors"),
    rxFrameErr: r.u64("rx_frame_err"),
    rxOverErr: r.u64("rx_over_err"),
    rxCrcErr: r.u64("rx_crc_err"),
    collisions: r.u64("collisions"),
    durationSec: r.u32("duration_sec"),
    durationNsec: r.u32("duration_nsec"),
  };
}

function readPortStats15(r: BufferReader): PortStats {
  const length = r.u16("port stats length");
  if (length < 80) r.fail(`port stats length ${length} is below 80`);
  const entry = r.sub(length - 2, "ofp_port_stats");
  entry.skip(2);
  const portNo = entry.u32("port_no");
  const durationSec = entry.u32("duration_sec");
  const durationNsec = entry.u32("duration_nsec");
  const stats: PortStats = {
    portNo,
    durationSec,
    durationNsec,
    rxPackets: entry.u64("rx_packets"),
    txPackets: entry.u64("tx_packets"),
    rxBytes: entry.u64("rx_bytes"),
    txBytes: entry.u64("tx_bytes"),
    rxDropped: entry.u64("rx_dropped"),
    txDropped: entry.u64("tx_dropped"),
    rxErrors: entry.u64("rx_errors"),
    txErrors: entry.u64("tx_errors"),
    rxFrameErr: 0n,
    rxOverErr: 0n,
    rxCrcErr: 0n,
    collisions: 0n,
  };
  while (entry.remaining > 0) {
    const type = entry.u16("port stats property type");
    const propertyLength = entry.u16("port stats property length");
    if (propertyLength < 4) entry.fail(`port stats property length ${propertyLength} is too short`);
    const property = entry.sub(propertyLength - 4, `port stats property ${type}`);
    if (type !== ETHERNET_PROPERTY) continue;
    property.skip(4);
    stats.rxFrameErr = property.u64("rx_frame_err");
    stats.rxOverErr = property.u64("rx_over_err");
    stats.rxCrcErr = property.u64("rx_crc_err");
    stats.collisions = property.u64("collisions");
  }
  return stats;
}

export function decodePortStatsEntries(r: BufferReader, version: OpenFlowVersion): PortStats[] {
  const ports: PortStats[] = [];
  while (r.remaining > 0) ports.push(version === OpenFlowVersion.OF15 ? readPortStats15(r) : readPortStats13(r));
  return ports;
}
