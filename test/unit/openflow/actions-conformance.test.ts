// Conformance of the action codec with Open vSwitch 3.1's tests/ofp-actions.at:
//   1. the OpenFlow 1.3 and 1.5 sections, decoded, printed and re-encoded;
//   2. the Nicira and instruction vectors of the 1.0/1.1 sections, replayed through
//      `ovs-ofctl parse-actions|parse-instructions OpenFlow13|OpenFlow15` as the oracle.
// Expected text and bytes come from the .at file or from ovs-ofctl, never from our encoder.

import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { BufferWriter } from "../../../openflow/wire/writer.ts";
import { OpenFlowVersion } from "../../../openflow/version.ts";
import {
  decodeActionBytes,
  decodeInstructionBytes,
  encodeActions,
  encodeInstructions,
  formatActions,
  formatInstructions,
  type Action,
} from "../../../openflow/actions/index.ts";
import { ovsParseBytes, parseVectors, readOfpActionsAt, sectionData, type AtVector } from "./actions-oracle.ts";

/** Action names this codec does not model; vectors whose expected text starts with one are counted, not required. */
const UNSUPPORTED = ["encap", "decap", "delete_field", "enqueue", "set_vlan_vid", "set_vlan_pcp", "mod_dl_src", "mod_dl_dst", "mod_nw_src", "mod_nw_dst", "mod_nw_tos", "mod_nw_ecn", "mod_tp_src", "mod_tp_dst", "mod_vlan_vid", "mod_vlan_pcp", "strip_vlan", "push_mpls", "pop_mpls", "dec_mpls_ttl"];

function isUnsupported(text: string | undefined): boolean {
  return text !== undefined && UNSUPPORTED.some((name) => text.startsWith(`${name}:`) || text.startsWith(`${name}(`) || text === name);
}

/** OVS moves an NXAST_WRITE_METADATA found inside apply_actions into a write_metadata instruction; we keep it raw. */
function isNiciraWriteMetadata(bytes: Buffer): boolean {
  return bytes.includes(Buffer.from("ffff0020000023200016", "hex"));
}

interface Outcome {
  text?: string;
  error?: string;
  reencoded?: Buffer;
}

function decodeAndReencode(bytes: Buffer, version: OpenFlowVersion, kind: "actions" | "instructions"): Outcome {
  try {
    const w = new BufferWriter();
    if (kind === "actions") {
      const actions: Action[] = decodeActionBytes(bytes, version);
      encodeActions(w, actions, version);
      return { text: formatActions(actions), reencoded: w.toBuffer() };
    }
    const instructions = decodeInstructionBytes(bytes, version);
    encodeInstructions(w, instructions, version);
    return { text: formatInstructions(instructions), reencoded: w.toBuffer() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function describeVector(vector: AtVector): string {
  return `${vector.text ?? `error ${vector.error}`} [${vector.bytes.toString("hex")}]`;
}

/** Checks one vector; returns undefined when it passes, else the reason. */
function checkVector(vector: AtVector, version: OpenFlowVersion, kind: "actions" | "instructions" = "actions"): string | undefined {
  const outcome = decodeAndReencode(vector.bytes, version, kind);
  if (vector.error !== undefined) {
    // Bytes OVS rejects must be rejected too, or kept as raw unknown actions (which re-encode as is).
    const keptRaw = outcome.text?.includes("unknown_action(") || outcome.text?.includes("unknown_instruction(");
    return outcome.error === undefined && !keptRaw ? `decoded bytes OVS rejects (${vector.error}) as "${outcome.text}"` : undefined;
  }
  if (outcome.error !== undefined) return `decode failed: ${outcome.error}`;
  if (outcome.text !== vector.text) return `printed "${outcome.text}", expected "${vector.text}"`;
  if (!outcome.reencoded?.equals(vector.reencoded)) return `re-encoded ${outcome.reencoded?.toString("hex")}, expected ${vector.reencoded.toString("hex")}`;
  return undefined;
}

let at = "";

before(() => {
  at = readOfpActionsAt();
});

describe("ofp-actions.at sections", () => {
  const sections = [
    { title: "OpenFlow 1.3 action translation", version: OpenFlowVersion.OF13, minimumPassing: 5 },
    { title: "OpenFlow 1.5 action translation", version: OpenFlowVersion.OF15, minimumPassing: 4 },
  ];

  for (const section of sections) {
    test(`${section.title} vectors pass`, (t) => {
      const vectors = parseVectors(sectionData(at, section.title));
      assert.ok(vectors.length >= section.minimumPassing, `expected at least ${section.minimumPassing} vectors, found ${vectors.length}`);

      let passed = 0;
      const failures: string[] = [];
      for (const vector of vectors) {
        const problem = checkVector(vector, section.version);
        if (!problem) passed++;
        else if (!isUnsupported(vector.text)) failures.push(`${describeVector(vector)}: ${problem}`);
      }
      t.diagnostic(`${section.title}: ${passed} of ${vectors.length} vectors pass`);
      assert.deepEqual(failures, [], "every vector of a supported action must pass");
      assert.ok(passed >= section.minimumPassing, `only ${passed} vectors passed`);
    });
  }
});

/** Vectors of the 1.0/1.1 sections whose bytes mean the same in OpenFlow 1.3 and 1.5. */
function replayableVectors(): AtVector[] {
  const all = [...parseVectors(sectionData(at, "OpenFlow 1.0 action translation")), ...parseVectors(sectionData(at, "OpenFlow 1.1 action translation"))];
  const seen = new Set<string>();
  return all.filter((vector) => {
    const key = vector.bytes.toString("hex");
    // Nicira (0xffff) actions, plus standard actions whose 1.1 numbering OpenFlow 1.3 keeps.
    const type = vector.bytes.readUInt16BE(0);
    const keep = type === 0xffff || [0, 17, 18, 21, 22, 23, 24].includes(type);
    if (!keep || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

describe("Nicira vectors replayed through ovs-ofctl", () => {
  for (const [name, version] of [
    ["OpenFlow13", OpenFlowVersion.OF13],
    ["OpenFlow15", OpenFlowVersion.OF15],
  ] as const) {
    test(`actions match ovs-ofctl ${name}`, (t) => {
      const vectors = replayableVectors();
      const oracle = ovsParseBytes(
        vectors.map((vector) => vector.bytes),
        { version: name },
      );

      let passed = 0;
      let supported = 0;
      const failures: string[] = [];
      vectors.forEach((vector, index) => {
        const expected = oracle[index];
        assert.ok(expected, `ovs-ofctl returned no result for vector ${index}`);
        const oracleVector: AtVector = { bytes: vector.bytes, reencoded: expected.reencoded, ...(expected.text === undefined ? {} : { text: expected.text }), ...(expected.error === undefined ? {} : { error: expected.error }) };
        if (isUnsupported(expected.text)) return;
        supported++;
        const problem = checkVector(oracleVector, version);
        if (problem) failures.push(`${describeVector(oracleVector)}: ${problem}`);
        else passed++;
      });
      t.diagnostic(`${name}: ${passed} of ${supported} supported vectors (${vectors.length} replayed) match ovs-ofctl`);
      assert.deepEqual(failures, []);
      assert.ok(passed >= 40, `only ${passed} vectors matched`);
    });
  }

  test("instructions match ovs-ofctl OpenFlow13", (t) => {
    const vectors = parseVectors(sectionData(at, "OpenFlow 1.1 instruction translation")).filter((vector) => vector.bytes.length > 0);
    const oracle = ovsParseBytes(
      vectors.map((vector) => vector.bytes),
      { version: "OpenFlow13", instructions: true },
    );
    const failures: string[] = [];
    let passed = 0;
    vectors.forEach((vector, index) => {
      const expected = oracle[index];
      assert.ok(expected);
      const oracleVector: AtVector = { bytes: vector.bytes, reencoded: expected.reencoded, ...(expected.text === undefined ? {} : { text: expected.text }), ...(expected.error === undefined ? {} : { error: expected.error }) };
      if (isNiciraWriteMetadata(vector.bytes) && expected.text !== undefined) return;
      const problem = checkVector(oracleVector, OpenFlowVersion.OF13, "instructions");
      if (problem) failures.push(`${describeVector(oracleVector)}: ${problem}`);
      else passed++;
    });
    t.diagnostic(`instructions: ${passed} of ${vectors.length} match ovs-ofctl`);
    assert.deepEqual(failures, []);
  });
});

/** A small deterministic generator (a linear congruential one), so failures reproduce. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state;
  };
}

/** Copies of the vectors with one or two body bytes changed (headers kept, so most still frame). */
function mutatedVectors(count: number): Buffer[] {
  const sources = replayableVectors().map((vector) => vector.bytes);
  const random = seededRandom(12345);
  const mutated: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = Buffer.from(sources[random() % sources.length] ?? Buffer.alloc(8));
    const changes = 1 + (random() % 2);
    for (let change = 0; change < changes; change++) {
      const position = 4 + (random() % Math.max(1, bytes.length - 4));
      bytes[position] = random() % 4 === 0 ? 0 : 1 + (random() % 255);
    }
    mutated.push(bytes);
  }
  return mutated;
}

describe("mutated vectors against ovs-ofctl", () => {
  for (const [name, version] of [
    ["OpenFlow13", OpenFlowVersion.OF13],
    ["OpenFlow15", OpenFlowVersion.OF15],
  ] as const) {
    test(`decoding agrees with ovs-ofctl ${name}`, (t) => {
      const inputs = mutatedVectors(3000);
      const oracle = ovsParseBytes(inputs, { version: name });
      const failures: string[] = [];
      let compared = 0;
      inputs.forEach((bytes, index) => {
        const expected = oracle[index];
        assert.ok(expected, `ovs-ofctl returned no result for input ${index}`);
        if (isUnsupported(expected.text)) return;
        compared++;
        const vector: AtVector = { bytes, reencoded: expected.reencoded, ...(expected.text === undefined ? {} : { text: expected.text }), ...(expected.error === undefined ? {} : { error: expected.error }) };
        const problem = checkVector(vector, version);
        if (problem && failures.length < 10) failures.push(`${describeVector(vector)}: ${problem}`);
      });
      t.diagnostic(`${name}: ${compared} mutated inputs compared, ${failures.length} disagreements shown`);
      assert.deepEqual(failures, []);
      assert.ok(compared > 2500, `only ${compared} inputs were comparable`);
    });
  }
});
