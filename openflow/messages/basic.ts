// Bodies of the messages that need neither matches nor actions: HELLO, ERROR, ECHO,
// FEATURES, GET/SET_CONFIG, ROLE and TABLE_MOD. Each encoder writes the body after the
// header; each decoder reads a reader positioned after the header.
import type { BufferWriter } from "../wire/writer.ts";
import type { BufferReader } from "../wire/reader.ts";
import type {
  ErrorMessage,
  FeaturesReplyMessage,
  HelloMessage,
  MessageHeaderFields,
  RoleMessage,
  SwitchConfigMessage,
  AsyncConfigMessage,
  PortModMessage,
  QueueConfig,
  QueueGetConfigReplyMessage,
  TableModMessage,
} from "./types.ts";
import { OFPET } from "./error-codes.ts";

/** Hello element type carrying a bitmap of supported versions. */
const OFPHET_VERSIONBITMAP = 1;

export function encodeHello(w: BufferWriter, m: HelloMessage): void {
  if (m.bitmapVersions !== undefined) {
    const words: number[] = [];
    for (const version of m.bitmapVersions) {
      const index = Math.floor(version / 32);
      while (words.length <= index) words.push(0);
      words[index] = ((words[index] ?? 0) | (1 << version % 32)) >>> 0;
    }
    const start = w.length;
    w.u16(OFPHET_VERSIONBITMAP);
    const mark = w.beginLength(start);
    for (const word of words) w.u32(word);
    w.endLength(mark);
    w.padTo(8, start);
  }
  if (m.unknownElements !== undefined) w.bytes(m.unknownElements);
}

/**
 * Decodes a hello. A version bitmap is used only when it is the first element and well
 * formed. Anything else is kept as unknown bytes, as Open vSwitch does.
 */
export function decodeHello(r: BufferReader, header: MessageHeaderFields): HelloMessage {
  const message: HelloMessage = { kind: "hello", ...header };
  if (r.remaining === 0) return message;
  const all = r.rest();
  const type = all.length >= 4 ? all.readUInt16BE(0) : -1;
  const length = all.length >= 4 ? all.readUInt16BE(2) : 0;
  const wellFormed = type === OFPHET_VERSIONBITMAP && length >= 4 && length % 4 === 0 && length <= all.length;
  if (wellFormed) {
    const versions: number[] = [];
    for (let word = 0; word < (length - 4) / 4; word += 1) {
      const bits = all.readUInt32BE(4 + word * 4);
      for (let bit = 0; bit < 32; bit += 1) if ((bits >>> bit) & 1) versions.push(word * 32 + bit);
    }
    message.bitmapVersions = versions;
    const padded = Math.ceil(length / 8) * 8;
    if (all.length > padded) message.unknownElements = Buffer.from(all.subarray(padded));
  } else {
    message.unknownElements = Buffer.from(all);
  }
  return message;
}

export function encodeError(w: BufferWriter, m: ErrorMessage): void {
  w.u16(m.type).u16(m.code);
  if (m.type === OFPET.EXPERIMENTER) w.u32(m.experimenter ?? 0);
  w.bytes(m.data);
}

export function decodeError(r: BufferReader, header: MessageHeaderFields): ErrorMessage {
  const type = r.u16("error type");
  const code = r.u16("error code");
  const message: ErrorMessage = { kind: "error", ...header, type, code, data: Buffer.alloc(0) };
  if (type === OFPET.EXPERIMENTER) message.experimenter = r.u32("experimenter");
  message.data = Buffer.from(r.rest());
  return message;
}

export function encodeFeaturesReply(w: BufferWriter, m: FeaturesReplyMessage): void {
  w.u64(m.datapathId).u32(m.nBuffers).u8(m.nTables).u8(m.auxiliaryId).zeros(2).u32(m.capabilities).zeros(4);
}

export function decodeFeaturesReply(r: BufferReader, header: MessageHeaderFields): FeaturesReplyMessage {
  const datapathId = r.u64("datapath_id");
  const nBuffers = r.u32("n_buffers");
  const nTables = r.u8("n_tables");
  const auxiliaryId = r.u8("auxiliary_id");
  r.skip(2);
  const capabilities = r.u32("capabilities");
  r.skip(4, "reserved");
  return { kind: "features_reply", ...header, datapathId, nBuffers, nTables, auxiliaryId, capabilities };
}

export function encodeSwitchConfig(w: BufferWriter, m: SwitchConfigMessage): void {
  w.u16(m.flags).u16(m.missSendLen);
}

export function decodeSwitchConfig(
  r: BufferReader,
  header: MessageHeaderFields,
  kind: SwitchConfigMessage["kind"],
): SwitchConfigMessage {
  return { kind, ...header, flags: r.u16("flags"), missSendLen: r.u16("miss_send_len") };
}

export function encodeRole(w: BufferWriter, m: RoleMessage): void {
  w.u32(m.role).zeros(4).u64(m.generationId);
}

export function decodeRole(r: BufferReader, header: MessageHeaderFields, kind: RoleMessage["kind"]): RoleMessage {
  const role = r.u32("role");
  r.skip(4);
  return { kind, ...header, role, generationId: r.u64("generation_id") };
}

export function encodeTableMod(w: BufferWriter, m: TableModMessage): void {
  w.u8(m.tableId).zeros(3).u32(m.config);
}

export function decodeTableMod(r: BufferReader, header: MessageHeaderFields): TableModMessage {
  const tableId = r.u8("table_id");
  r.skip(3);
  return { kind: "table_mod", ...header, tableId, config: r.u32("config") };
}

export function encodePortMod(w: BufferWriter, m: PortModMessage): void {
  w.u32(m.portNo).zeros(4).bytes(m.hwAddr).zeros(2).u32(m.config).u32(m.mask).u32(m.advertise).zeros(4);
}

export function decodePortMod(r: BufferReader, header: MessageHeaderFields): PortModMessage {
  const portNo = r.u32("port_no");
  r.skip(4);
  const hwAddr = Buffer.from(r.bytes(6, "hw_addr"));
  r.skip(2);
  const config = r.u32("config");
  const mask = r.u32("mask");
  const advertise = r.u32("advertise");
  r.skip(4);
  return { kind: "port_mod", ...header, portNo, hwAddr, config, mask, advertise };
}

export function encodeAsyncConfig(w: BufferWriter, m: AsyncConfigMessage): void {
  for (const mask of [m.packetInMask, m.portStatusMask, m.flowRemovedMask]) w.u32(mask[0]).u32(mask[1]);
}

export function decodeAsyncConfig(
  r: BufferReader,
  header: MessageHeaderFields,
  kind: AsyncConfigMessage["kind"],
): AsyncConfigMessage {
  const pair = (field: string): [number, number] => [r.u32(`${field} primary`), r.u32(`${field} secondary`)];
  const packetInMask = pair("packet_in_mask");
  const portStatusMask = pair("port_status_mask");
  const flowRemovedMask = pair("flow_removed_mask");
  return { kind, ...header, packetInMask, portStatusMask, flowRemovedMask };
}

/** Queue property types (OFPQT_*): rates in tenths of a percent. */
const OFPQT = { MIN_RATE: 1, MAX_RATE: 2 } as const;

export function encodeQueueGetConfigReply(w: BufferWriter, m: QueueGetConfigReplyMessage): void {
  w.u32(m.portNo).zeros(4);
  for (const queue of m.queues) {
    const start = w.length;
    w.u32(queue.queueId).u32(queue.portNo);
    const mark = w.beginLength(start);
    w.zeros(6);
    if (queue.minRate !== undefined) w.u16(OFPQT.MIN_RATE).u16(16).zeros(4).u16(queue.minRate).zeros(6);
    if (queue.maxRate !== undefined) w.u16(OFPQT.MAX_RATE).u16(16).zeros(4).u16(queue.maxRate).zeros(6);
    w.endLength(mark);
  }
}

export function decodeQueueGetConfigReply(r: BufferReader, header: MessageHeaderFields): QueueGetConfigReplyMessage {
  const portNo = r.u32("port");
  r.skip(4);
  const queues: QueueConfig[] = [];
  while (r.remaining > 0) {
    const queueId = r.u32("queue_id");
    const queuePort = r.u32("port");
    const length = r.u16("queue length");
    if (length < 16) r.fail(`ofp_packet_queue length ${length} is below 16`);
    const body = r.sub(length - 10, "ofp_packet_queue");
    body.skip(6);
    const queue: QueueConfig = { queueId, portNo: queuePort };
    while (body.remaining > 0) {
      const type = body.u16("queue property type");
      const propertyLength = body.u16("queue property length");
      if (propertyLength < 8) body.fail(`queue property length ${propertyLength} is below 8`);
      const property = body.sub(propertyLength - 4, `queue property ${type}`);
      property.skip(4);
      if (type === OFPQT.MIN_RATE) queue.minRate = property.u16("rate");
      else if (type === OFPQT.MAX_RATE) queue.maxRate = property.u16("rate");
    }
    queues.push(queue);
  }
  return { kind: "queue_get_config_reply", ...header, portNo, queues };
}
