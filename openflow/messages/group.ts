// GROUP_MOD and the group multipart bodies (group stats, group desc). OpenFlow 1.3 buckets
// are fixed structures. OpenFlow 1.5 buckets carry an id, an action array length and
// properties (weight, watch_port, watch_group), and a 1.5 group_mod adds a command bucket id
// and group properties such as Open vSwitch's selection method.
import { decodeActions, encodeActions } from "../actions/index.ts";
import { OpenFlowVersion } from "../version.ts";
import type { BufferWriter } from "../wire/writer.ts";
import type { BufferReader } from "../wire/reader.ts";
import { OFPG, OFPP } from "./constants.ts";
import { readOxmFields, writeOxmFields } from "../match/index.ts";
import type { Bucket, GroupDesc, GroupModMessage, GroupStats, MessageHeaderFields, SelectionMethod } from "./types.ts";

/** Group types (OFPGT_*), indexed by number, with the word ovs-ofctl prints. */
export const GROUP_TYPE_NAMES = ["all", "select", "indirect", "ff"] as const;

export const OFPGT_SELECT = 1;

/** OpenFlow 1.5 bucket property types. */
const OFPGBPT = { WEIGHT: 0, WATCH_PORT: 1, WATCH_GROUP: 2 } as const;

/** Open vSwitch's group property for the selection method (experimenter NTR, 0x1540). */
const NTR_VENDOR_ID = 0x00001540;
const NTRT_SELECTION_METHOD = 1;
const SELECTION_METHOD_NAME_LENGTH = 16;

/** Special bucket ids of OpenFlow 1.5. */
export const OFPG_BUCKET = { MAX: 0xffffff00, FIRST: 0xfffffffd, LAST: 0xfffffffe, ALL: 0xffffffff } as const;

function writeBucket13(w: BufferWriter, bucket: Bucket): void {
  const start = w.length;
  const mark = w.beginLength(start);
  w.u16(bucket.weight).u32(bucket.watchPort).u32(bucket.watchGroup).zeros(4);
  encodeActions(w, bucket.actions, OpenFlowVersion.OF13);
  w.endLength(mark);
}

function readBucket13(r: BufferReader): Bucket {
  const length = r.u16("bucket length");
  if (length < 16) r.fail(`bucket length ${length} is below the 16-byte ofp_bucket`);
  const bucket = r.sub(length - 2, "ofp_bucket");
  const weight = bucket.u16("weight");
  const watchPort = bucket.u32("watch_port");
  const watchGroup = bucket.u32("watch_group");
  bucket.skip(4);
  return { weight, watchPort, watchGroup, actions: decodeActions(bucket, OpenFlowVersion.OF13) };
}

function writeBucketProperty32(w: BufferWriter, type: number, value: number): void {
  w.u16(type).u16(8).u32(value);
}

/**
 * Writes a 1.5 bucket. As Open vSwitch 3.1 does, the weight property is sent only for
 * select groups and the watch properties only when they name a port or group.
 */
function writeBucket15(w: BufferWriter, bucket: Bucket, options: { groupType: number; index: number }): void {
  const start = w.length;
  const mark = w.beginLength(start);
  const actionsLengthOffset = w.length;
  w.u16(0).u32(bucket.bucketId ?? options.index);
  const actionsStart = w.length;
  encodeActions(w, bucket.actions, OpenFlowVersion.OF15);
  w.patchU16(actionsLengthOffset, w.length - actionsStart);
  if (options.groupType === OFPGT_SELECT) w.u16(OFPGBPT.WEIGHT).u16(8).u16(bucket.weight).zeros(2);
  if (bucket.watchPort !== OFPP.ANY) writeBucketProperty32(w, OFPGBPT.WATCH_PORT, bucket.watchPort);
  if (bucket.watchGroup !== OFPG.ANY) writeBucketProperty32(w, OFPGBPT.WATCH_GROUP, bucket.watchGroup);
  w.endLength(mark);
}

function readBucket15(r: BufferReader): Bucket {
  const length = r.u16("bucket length");
  if (length < 8) r.fail(`bucket length ${length} is below the 8-byte ofp_bucket`);
  const bucket = r.sub(length - 2, "ofp_bucket");
  const actionsLength = bucket.u16("action_array_len");
  const bucketId = bucket.u32("bucket_id");
  const actions = decodeActions(bucket.sub(actionsLength, "bucket actions"), OpenFlowVersion.OF15);
  const result: Bucket = { bucketId, weight: 0, watchPort: OFPP.ANY, watchGroup: OFPG.ANY, actions };
  while (bucket.remaining > 0) {
    const propertyStart = bucket.position;
    const type = bucket.u16("bucket property type");
    const propertyLength = bucket.u16("bucket property length");
    if (propertyLength < 4) bucket.fail(`bucket property length ${propertyLength} is too short`);
    const value = bucket.sub(propertyLength - 4, `bucket property ${type}`);
    bucket.alignTo(8, propertyStart);
    if (type === OFPGBPT.WEIGHT) result.weight = value.u16("weight");
    else if (type === OFPGBPT.WATCH_PORT) result.watchPort = value.u32("watch_port");
    else if (type === OFPGBPT.WATCH_GROUP) result.watchGroup = value.u32("watch_group");
  }
  return result;
}

function writeSelectionMethod(w: BufferWriter, method: SelectionMethod): void {
  const start = w.length;
  w.u16(0xffff);
  const mark = w.beginLength(start);
  w.u32(NTR_VENDOR_ID).u32(NTRT_SELECTION_METHOD).zeros(4);
  w.fixedString(method.method, SELECTION_METHOD_NAME_LENGTH).u64(method.param);
  writeOxmFields(w, method.fields, OpenFlowVersion.OF15);
  w.endLength(mark);
  w.padTo(8, start);
}

function readGroupProperties(r: BufferReader): SelectionMethod | undefined {
  let selection: SelectionMethod | undefined;
  while (r.remaining > 0) {
    const start = r.position;
    const type = r.u16("group property type");
    const length = r.u16("group property length");
    if (length < 4) r.fail(`group property length ${length} is too short`);
    const value = r.sub(length - 4, `group property ${type}`);
    r.alignTo(8, start);
    if (type !== 0xffff || value.remaining < 8) continue;
    const experimenter = value.u32("experimenter");
    const expType = value.u32("exp_type");
    if (experimenter !== NTR_VENDOR_ID || expType !== NTRT_SELECTION_METHOD) continue;
    value.skip(4);
    const method = value.fixedString(SELECTION_METHOD_NAME_LENGTH, "selection_method");
    const param = value.u64("selection_method_param");
    selection = { method, param, fields: readOxmFields(value.sub(value.remaining, "selection method fields")) };
  }
  return selection;
}

function writeBuckets(w: BufferWriter, buckets: readonly Bucket[], groupType: number, version: OpenFlowVersion): void {
  buckets.forEach((bucket, index) => {
    if (version === OpenFlowVersion.OF15) writeBucket15(w, bucket, { groupType, index });
    else writeBucket13(w, bucket);
  });
}

export function encodeGroupMod(w: BufferWriter, m: GroupModMessage): void {
  const version = m.version >= OpenFlowVersion.OF15 ? OpenFlowVersion.OF15 : OpenFlowVersion.OF13;
  w.u16(m.command).u8(m.groupType).u8(0).u32(m.groupId);
  if (version === OpenFlowVersion.OF13) {
    writeBuckets(w, m.buckets, m.groupType, version);
    return;
  }
  const bucketsLengthOffset = w.length;
  w.u16(0).zeros(2).u32(m.commandBucketId ?? OFPG_BUCKET.ALL);
  const bucketsStart = w.length;
  writeBuckets(w, m.buckets, m.groupType, version);
  w.patchU16(bucketsLengthOffset, w.length - bucketsStart);
  if (m.selectionMethod !== undefined) writeSelectionMethod(w, m.selectionMethod);
}

export function decodeGroupMod(r: BufferReader, header: MessageHeaderFields): GroupModMessage {
  const command = r.u16("command");
  const groupType = r.u8("type");
  r.skip(1);
  const groupId = r.u32("group_id");
  const message: GroupModMessage = { kind: "group_mod", ...header, command, groupType, groupId, buckets: [] };
  if (header.version < OpenFlowVersion.OF15) {
    while (r.remaining > 0) message.buckets.push(readBucket13(r));
    return message;
  }
  const bucketsLength = r.u16("bucket_array_len");
  r.skip(2);
  message.commandBucketId = r.u32("command_bucket_id");
  const buckets = r.sub(bucketsLength, "bucket array");
  while (buckets.remaining > 0) message.buckets.push(readBucket15(buckets));
  const selection = readGroupProperties(r);
  if (selection !== undefined) message.selectionMethod = selection;
  return message;
}

/** Writes one group desc entry (a group_desc reply element). */
export function encodeGroupDescEntry(w: BufferWriter, group: GroupDesc, version: OpenFlowVersion): void {
  const start = w.length;
  const mark = w.beginLength(start);
  w.u8(group.groupType).u8(0).u32(group.groupId);
  if (version === OpenFlowVersion.OF13) {
    writeBuckets(w, group.buckets, group.groupType, version);
  } else {
    const bucketsLengthOffset = w.length;
    w.u16(0).zeros(6);
    const bucketsStart = w.length;
    writeBuckets(w, group.buckets, group.groupType, version);
    w.patchU16(bucketsLengthOffset, w.length - bucketsStart);
    if (group.selectionMethod !== undefined) writeSelectionMethod(w, group.selectionMethod);
  }
  w.endLength(mark);
}

export function decodeGroupDescEntries(r: BufferReader, version: OpenFlowVersion): GroupDesc[] {
  const groups: GroupDesc[] = [];
  while (r.remaining > 0) {
    const length = r.u16("group desc length");
    if (length < 8) r.fail(`group desc length ${length} is too short`);
    const entry = r.sub(length - 2, "ofp_group_desc");
    const groupType = entry.u8("type");
    entry.skip(1);
    const groupId = entry.u32("group_id");
    const group: GroupDesc = { groupType, groupId, buckets: [] };
    if (version === OpenFlowVersion.OF13) {
      while (entry.remaining > 0) group.buckets.push(readBucket13(entry));
    } else {
      const bucketsLength = entry.u16("bucket_array_len");
      entry.skip(6);
      const buckets = entry.sub(bucketsLength, "bucket array");
      while (buckets.remaining > 0) group.buckets.push(readBucket15(buckets));
      const selection = readGroupProperties(entry);
      if (selection !== undefined) group.selectionMethod = selection;
    }
    groups.push(group);
  }
  return groups;
}

export function encodeGroupStatsEntry(w: BufferWriter, group: GroupStats): void {
  const start = w.length;
  const mark = w.beginLength(start);
  w.zeros(2).u32(group.groupId).u32(group.refCount).zeros(4);
  w.u64(group.packetCount).u64(group.byteCount).u32(group.durationSec).u32(group.durationNsec);
  for (const bucket of group.buckets) w.u64(bucket.packetCount).u64(bucket.byteCount);
  w.endLength(mark);
}

export function decodeGroupStatsEntries(r: BufferReader): GroupStats[] {
  const groups: GroupStats[] = [];
  while (r.remaining > 0) {
    const length = r.u16("group stats length");
    if (length < 40) r.fail(`group stats length ${length} is below the 40-byte ofp_group_stats`);
    const entry = r.sub(length - 2, "ofp_group_stats");
    entry.skip(2);
    const groupId = entry.u32("group_id");
    const refCount = entry.u32("ref_count");
    entry.skip(4);
    const packetCount = entry.u64("packet_count");
    const byteCount = entry.u64("byte_count");
    const durationSec = entry.u32("duration_sec");
    const durationNsec = entry.u32("duration_nsec");
    const buckets: GroupStats["buckets"] = [];
    while (entry.remaining > 0) {
      buckets.push({ packetCount: entry.u64("bucket packet_count"), byteCount: entry.u64("bucket byte_count") });
    }
    groups.push({ groupId, refCount, packetCount, byteCount, durationSec, durationNsec, buckets });
  }
  return groups;
}
