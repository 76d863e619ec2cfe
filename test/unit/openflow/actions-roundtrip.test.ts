// Round-trip properties of the action codec over generated action texts: encoding is
// stable through decode and print (encode(parse(format(decode(bytes)))) equals bytes), every
// action is a multiple of 8 bytes, and the instruction lengths add up. These complement the
// ovs-ofctl differential tests, which fix the bytes themselves.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { BufferWriter } from "../../../openflow/wire/writer.ts";
import { OpenFlowVersion } from "../../../openflow/version.ts";
import { decodeInstructionBytes, encodeInstructions, formatInstructions, parseInstructions } from "../../../openflow/actions/index.ts";

const register = fc.integer({ min: 0, max: 15 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** A bit range inside a 32-bit register, as `[start..end]`. */
const range = fc.tuple(fc.integer({ min: 0, max: 31 }), fc.integer({ min: 0, max: 31 })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);

const actionText = fc.oneof(
  fc.integer({ min: 1, max: 0xfeff }).map((port) => `output:${port}`),
  fc.constantFrom("LOCAL", "IN_PORT", "NORMAL", "FLOOD", "ALL", "CONTROLLER:128", "ct_clear", "exit", "pop_queue"),
  u32.map((group) => `group:${group}`),
  fc.tuple(fc.integer({ min: 0, max: 0xfeff }), fc.integer({ min: 0, max: 254 })).map(([port, table]) => `resubmit(${port},${table})`),
  fc.integer({ min: 0, max: 254 }).map((table) => `resubmit(,${table})`),
  fc.tuple(register, u32).map(([reg, value]) => `set_field:${value}->reg${reg}`),
  fc.tuple(register, range, u16).map(([reg, [start, end], value]) => `load:${value % 2 ** (end - start + 1)}->NXM_NX_REG${reg}[${start}..${end}]`),
  fc.tuple(register, register, fc.integer({ min: 1, max: 16 })).map(([a, b, bits]) => `move:NXM_NX_REG${a}[0..${bits - 1}]->NXM_NX_REG${b}[16..${15 + bits}]`),
  fc.tuple(u32, fc.integer({ min: 2, max: 64 })).chain(([id, n]) => fc.integer({ min: 1, max: n }).map((k) => `conjunction(${id},${k}/${n})`)),
  fc.uint8Array({ minLength: 1, maxLength: 20 }).map((bytes) => `note:${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join(".")}`),
  u32.map((queue) => `set_queue:${queue}`),
  fc.tuple(u16, fc.integer({ min: 0, max: 254 })).map(([zone, table]) => `ct(commit,zone=${zone},table=${table})`),
  fc.tuple(fc.integer({ min: 1, max: 0xffff }), fc.integer({ min: 0, max: 3 })).map(([id, reason]) => `controller(reason=${["no_match", "action", "invalid_ttl", "group"][reason]},id=${id})`),
  fc.uint8Array({ minLength: 1, maxLength: 8 }).map((bytes) => `controller(userdata=${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join(".")})`),
  fc.tuple(fc.integer({ min: 0, max: 254 }), u16).map(([table, idle]) => `learn(table=${table},idle_timeout=${idle},NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:NXM_NX_REG0[0..15]->NXM_NX_REG1[0..15],output:NXM_OF_IN_PORT[])`),
);

/** Conjunction may only be combined with note, so generated lists leave it alone. */
const actionList = fc.array(actionText, { minLength: 1, maxLength: 6 }).map((list) => {
  const conjunctions = list.filter((text) => text.startsWith("conjunction"));
  return conjunctions.length > 0 ? conjunctions : list;
});

const flowActions = fc.tuple(actionList, fc.option(fc.integer({ min: 1, max: 254 }), { nil: undefined })).map(([list, table]) => {
  const conjunction = list.some((text) => text.startsWith("conjunction"));
  return table === undefined || conjunction ? list.join(",") : `${list.join(",")},goto_table:${table}`;
});

function encode(text: string, version: OpenFlowVersion): Buffer {
  const w = new BufferWriter();
  encodeInstructions(w, parseInstructions(text, { version }), version);
  return w.toBuffer();
}

/** Walks instruction and action headers, checking every length is a multiple of 8 and they tile the buffer. */
function checkFraming(bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) {
    const type = bytes.readUInt16BE(offset);
    const length = bytes.readUInt16BE(offset + 2);
    assert.ok(length >= 8, `instruction ${type} at ${offset} has length ${length}`);
    assert.equal(length % 8, 0, `instruction ${type} at ${offset} has length ${length}`);
    if (type === 3 || type === 4) {
      let inner = offset + 8;
      while (inner < offset + length) {
        const actionLength = bytes.readUInt16BE(inner + 2);
        assert.ok(actionLength >= 8, `action at ${inner} has length ${actionLength}`);
        assert.equal(actionLength % 8, 0, `action at ${inner} has length ${actionLength}`);
        inner += actionLength;
      }
      assert.equal(inner, offset + length, "actions must fill their instruction exactly");
    }
    offset += length;
  }
  assert.equal(offset, bytes.length);
}

for (const [name, version] of [
  ["1.3", OpenFlowVersion.OF13],
  ["1.5", OpenFlowVersion.OF15],
] as const) {
  test(`encoding stable through print in ${name}`, () => {
    fc.assert(
      fc.property(flowActions, (text) => {
        const bytes = encode(text, version);
        checkFraming(bytes);
        const printed = formatInstructions(decodeInstructionBytes(bytes, version));
        assert.equal(encode(printed, version).toString("hex"), bytes.toString("hex"), `text ${text} printed as ${printed}`);
      }),
      { numRuns: 300 },
    );
  });
}
