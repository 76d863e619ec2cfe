// Nicira extension messages (OFPT_EXPERIMENTER with experimenter id 0x2320): packet-in
// format, controller id, conntrack zone flush, NXT_PACKET_IN2 and NXT_RESUME. The body
// after the 16-byte experimenter header is documented in Open vSwitch 3.1's
// include/openflow/nicira-ext.h.
import type { BufferWriter } from "../wire/writer.ts";
import type { BufferReader } from "../wire/reader.ts";
import type { OpenFlowVersion } from "../version.ts";
import { decodeOxmList, encodeOxmList } from "./oxm-list.ts";
import type { PacketIn2Fields } from "./types.ts";

/** NXT_PACKET_IN2 / NXT_RESUME property types (NXPINT_*). */
export const NXPINT = {
  PACKET: 0,
  FULL_LEN: 1,
  BUFFER_ID: 2,
  TABLE_ID: 3,
  COOKIE: 4,
  REASON: 5,
  METADATA: 6,
  USERDATA: 7,
  CONTINUATION: 8,
} as const;

/** Packet-in formats for NXT_SET_PACKET_IN_FORMAT. */
export const NXPIF = {
  STANDARD: 0,
  NXT_PACKET_IN: 1,
  NXT_PACKET_IN2: 2,
} as const;

export function encodeSetPacketInFormat(w: BufferWriter, format: number): void {
  w.u32(format);
}

export function encodeSetControllerId(w: BufferWriter, controllerId: number): void {
  w.zeros(6).u16(controllerId);
}

export function decodeSetControllerId(r: BufferReader): number {
  r.skip(6);
  return r.u16("controller_id");
}

export function encodeCtFlushZone(w: BufferWriter, zone: number): void {
  w.zeros(6).u16(zone);
}

export function decodeCtFlushZone(r: BufferReader): number {
  r.skip(6);
  return r.u16("zone_id");
}

/** Writes one property: type, length (header plus value, unpadded), value, padding to 8. */
function writeProperty(w: BufferWriter, type: number, write: () => void): void {
  const start = w.length;
  w.u16(type);
  const mark = w.beginLength(start);
  write();
  w.endLength(mark);
  w.padTo(8, start);
}

/**
 * Writes the properties of a packet-in2 or resume body. 32-bit values follow the property
 * header directly; the 64-bit cookie has 4 bytes of padding first so it is 8-byte aligned.
 */
export function encodePacketIn2Properties(w: BufferWriter, m: PacketIn2Fields, version: OpenFlowVersion): void {
  writeProperty(w, NXPINT.PACKET, () => w.bytes(m.data));
  if (m.totalLen !== undefined) writeProperty(w, NXPINT.FULL_LEN, () => w.u32(m.totalLen ?? 0));
  if (m.bufferId !== undefined) writeProperty(w, NXPINT.BUFFER_ID, () => w.u32(m.bufferId ?? 0));
  if (m.tableId !== undefined) writeProperty(w, NXPINT.TABLE_ID, () => w.u8(m.tableId ?? 0));
  if (m.cookie !== undefined) writeProperty(w, NXPINT.COOKIE, () => w.zeros(4).u64(m.cookie ?? 0n));
  if (m.reason !== undefined) writeProperty(w, NXPINT.REASON, () => w.u8(m.reason ?? 0));
  const metadata = m.metadata;
  if (metadata !== undefined) {
    writeProperty(w, NXPINT.METADATA, () => encodeOxmList(w, metadata, version));
  }
  if (m.userdata !== undefined) writeProperty(w, NXPINT.USERDATA, () => w.bytes(m.userdata ?? Buffer.alloc(0)));
  if (m.continuation !== undefined) {
    writeProperty(w, NXPINT.CONTINUATION, () => w.bytes(m.continuation ?? Buffer.alloc(0)));
  }
}

/** Reads packet-in2 or resume properties until the end of `r`; unknown properties are skipped. */
export function decodePacketIn2Properties(r: BufferReader, version: OpenFlowVersion): PacketIn2Fields {
  const fields: PacketIn2Fields = { data: Buffer.alloc(0) };
  while (r.remaining > 0) {
    const start = r.position;
    const type = r.u16("property type");
    const length = r.u16("property length");
    if (length < 4) r.fail(`property ${type} has length ${length}, below its 4-byte header`);
    const value = r.sub(length - 4, `NXPINT property ${type}`);
    r.alignTo(8, start);
    switch (type) {
      case NXPINT.PACKET:
        fields.data = Buffer.from(value.rest());
        break;
      case NXPINT.FULL_LEN:
        fields.totalLen = value.u32("full_len");
        break;
      case NXPINT.BUFFER_ID:
        fields.bufferId = value.u32("buffer_id");
        break;
      case NXPINT.TABLE_ID:
        fields.tableId = value.u8("table_id");
        break;
      case NXPINT.COOKIE:
        value.skip(4);
        fields.cookie = value.u64("cookie");
        break;
      case NXPINT.REASON:
        fields.reason = value.u8("reason");
        break;
      case NXPINT.METADATA:
        fields.metadata = decodeOxmList(value.rest(), version, "NXPINT_METADATA");
        break;
      case NXPINT.USERDATA:
        fields.userdata = Buffer.from(value.rest());
        break;
      case NXPINT.CONTINUATION:
        fields.continuation = Buffer.from(value.rest());
        break;
      default:
        break;
    }
  }
  return fields;
}
