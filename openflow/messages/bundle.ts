// Bundle messages. OpenFlow 1.4+ has OFPT_BUNDLE_CONTROL (33) and OFPT_BUNDLE_ADD_MESSAGE
// (34); OpenFlow 1.3 carries the same bodies in ONF experimenter messages 2300 and 2301.
// Body: bundle_id (4), then type (2) and flags (2) for control, or 2 bytes of padding and
// flags (2) followed by the whole inner message for add.
import type { BufferWriter } from "../wire/writer.ts";
import type { BufferReader } from "../wire/reader.ts";
import type { BundleAddMessage, BundleControlMessage, MessageHeaderFields, OpenFlowMessage } from "./types.ts";

/** Bundle control types (OFPBCT_*), indexed by number, with the name ovs-ofctl prints. */
export const BUNDLE_CONTROL_TYPE_NAMES = [
  "OPEN_REQUEST",
  "OPEN_REPLY",
  "CLOSE_REQUEST",
  "CLOSE_REPLY",
  "COMMIT_REQUEST",
  "COMMIT_REPLY",
  "DISCARD_REQUEST",
  "DISCARD_REPLY",
] as const;

export const OFPBCT = {
  OPEN_REQUEST: 0,
  OPEN_REPLY: 1,
  CLOSE_REQUEST: 2,
  CLOSE_REPLY: 3,
  COMMIT_REQUEST: 4,
  COMMIT_REPLY: 5,
  DISCARD_REQUEST: 6,
  DISCARD_REPLY: 7,
} as const;

/** Bundle flags (OFPBF_*). */
export const OFPBF = { ATOMIC: 1, ORDERED: 2 } as const;

export function encodeBundleControl(w: BufferWriter, m: BundleControlMessage): void {
  w.u32(m.bundleId).u16(m.controlType).u16(m.flags);
}

export function decodeBundleControl(r: BufferReader, header: MessageHeaderFields): BundleControlMessage {
  const bundleId = r.u32("bundle_id");
  const controlType = r.u16("type");
  const flags = r.u16("flags");
  r.rest();
  return { kind: "bundle_control", ...header, bundleId, controlType, flags };
}

/** Writes a bundle_add body; `encodeInner` writes the inner message at the current position. */
export function encodeBundleAdd(
  w: BufferWriter,
  m: BundleAddMessage,
  encodeInner: (w: BufferWriter, inner: OpenFlowMessage) => void,
): void {
  w.u32(m.bundleId).zeros(2).u16(m.flags);
  encodeInner(w, m.message);
}

/** Reads a bundle_add body; `decodeInner` decodes the inner message bytes. */
export function decodeBundleAdd(
  r: BufferReader,
  header: MessageHeaderFields,
  decodeInner: (bytes: Buffer) => OpenFlowMessage,
): BundleAddMessage {
  const bundleId = r.u32("bundle_id");
  r.skip(2);
  const flags = r.u16("flags");
  if (r.remaining < 8) r.fail("the bundled message is shorter than an ofp_header");
  const innerLength = r.buffer.readUInt16BE(r.position + 2);
  const inner = r.bytes(innerLength, "bundled message");
  r.rest();
  return { kind: "bundle_add", ...header, bundleId, flags, message: decodeInner(Buffer.from(inner)) };
}
