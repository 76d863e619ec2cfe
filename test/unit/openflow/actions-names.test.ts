// Port names in action text, as `ovs-ofctl --names` reads and prints them: a named port
// prints as its name (`output:vm1`), reserved ports keep their reserved names, and without a
// name map the same bytes print as numbers.

import assert from "node:assert/strict";
import { test } from "node:test";
import { BufferWriter } from "../../../openflow/wire/writer.ts";
import { OpenFlowVersion } from "../../../openflow/version.ts";
import { ActionError, decodeInstructionBytes, encodeInstructions, formatInstructions, parseInstructions } from "../../../openflow/actions/index.ts";
import type { PortNameMap } from "../../../openflow/match/fields.ts";

const NAMES: PortNameMap = {
  byName: new Map([
    ["vm1", 1],
    ["vm2", 2],
  ]),
  byNumber: new Map([
    [1, "vm1"],
    [2, "vm2"],
  ]),
};

const TEXT = "output:vm1,resubmit(vm2,3),bundle(eth_src,0,hrw,ofport,members:vm1,vm2),enqueue(vm2,5),LOCAL";

function roundTrip(text: string): Buffer {
  const w = new BufferWriter();
  encodeInstructions(w, parseInstructions(text, { version: OpenFlowVersion.OF13, portNames: NAMES }), OpenFlowVersion.OF13);
  return w.toBuffer();
}

test("named ports print as names", () => {
  const bytes = roundTrip(TEXT);
  const printed = formatInstructions(decodeInstructionBytes(bytes, OpenFlowVersion.OF13), { portNames: NAMES });
  assert.equal(printed, "output:vm1,resubmit(vm2,3),bundle(eth_src,0,hrw,ofport,members:vm1,vm2),set_queue:5,output:vm2,pop_queue,LOCAL");
});

test("named ports print as numbers without names", () => {
  const bytes = roundTrip(TEXT);
  const printed = formatInstructions(decodeInstructionBytes(bytes, OpenFlowVersion.OF13));
  assert.equal(printed, "output:1,resubmit(2,3),bundle(eth_src,0,hrw,ofport,members:1,2),set_queue:5,output:2,pop_queue,LOCAL");
});

test("names and numbers encode alike", () => {
  assert.equal(roundTrip(TEXT).toString("hex"), roundTrip("output:1,resubmit(2,3),bundle(eth_src,0,hrw,ofport,members:1,2),enqueue(2,5),LOCAL").toString("hex"));
});

test("unknown name rejected", () => {
  assert.throws(
    () => parseInstructions("output:vm3", { version: OpenFlowVersion.OF13, portNames: NAMES }),
    (error: unknown) => error instanceof ActionError && error.code === "BAD_ARGUMENT" && error.message.includes("vm3"),
  );
});
