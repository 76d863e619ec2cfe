// yardctl ofp encode/decode round trip against ovs-ofctl: what we encode, ovs-ofctl prints
// as the same flow, and what we decode reads exactly as ovs-ofctl ofp-print.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import { runYardctl } from "../../../openflow/cli/yardctl.ts";

async function yardctl(argv: string[], input = ""): Promise<{ status: number; stdout: string; stderr: string }> {
  const stdin = new PassThrough();
  stdin.end(input);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (chunk: Buffer) => out.push(chunk));
  stderr.on("data", (chunk: Buffer) => err.push(chunk));
  const status = await runYardctl({ argv, stdin, stdout, stderr });
  return { status, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

function ovsPrint(hex: string): string {
  return execFileSync("ovs-ofctl", ["ofp-print", hex], { encoding: "utf8" });
}

const FLOWS = [
  "table=0,priority=200,in_port=3,ip,nw_src=10.1.0.0/16,actions=set_field:0x7->reg0,resubmit(,1)",
  "table=1,priority=100,ip,reg0=0x7,nw_dst=10.2.0.5,actions=ct(commit,zone=9),output:4",
  "table=2,priority=150,ct_state=+trk+est,tcp,tp_dst=22,actions=conjunction(4,2/2)",
  "table=2,conj_id=4,ip,actions=load:0x1->NXM_NX_REG1[0..15],resubmit(,3)",
];

describe("yardctl ofp encode and decode", () => {
  for (const protocol of ["OpenFlow13", "OpenFlow15"]) {
    test(`round trip ${protocol}`, async () => {
      const encoded = await yardctl(["ofp", "encode", "-O", protocol, "-"], FLOWS.join("\n") + "\n");
      assert.equal(encoded.status, 0, encoded.stderr);
      const lines = encoded.stdout.trim().split("\n");
      assert.equal(lines.length, FLOWS.length);

      for (const [index, hex] of lines.entries()) {
        const expectedText = execFileSync("ovs-ofctl", ["-O", protocol, "parse-flow", FLOWS[index] ?? ""], { encoding: "utf8" })
          .split("\n")
          .find((line) => line.startsWith("OFPT_FLOW_MOD"));
        const ovsText = ovsPrint(hex);
        assert.equal(ovsText.trimEnd().replace(/xid=0x[0-9a-f]+/, "xid"), expectedText?.replace(/xid=0x[0-9a-f]+/, "xid"));
        const decoded = await yardctl(["ofp", "decode", hex]);
        assert.equal(decoded.status, 0, decoded.stderr);
        assert.equal(decoded.stdout, ovsText);
      }
    });
  }

  test("decode from stdin separates messages by a blank line", async () => {
    const result = await yardctl(["ofp", "decode", "-"], "0414000800000001\n0415000800000002\n");
    assert.equal(result.stdout, `${ovsPrint("0414000800000001")}\n${ovsPrint("0415000800000002")}`);
  });

  test("invalid flow fails with the reason", async () => {
    const result = await yardctl(["ofp", "encode", "nw_srcc=1.2.3.4,actions=drop"]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /nw_srcc/);
  });

  test("tp_dst hint names every protocol", async () => {
    const result = await yardctl(["ofp", "encode", "tp_dst=80,actions=drop"]);
    assert.equal(result.status, 1);
    // ovs-ofctl accepts tp_dst after each of these, so the hint must name them all.
    for (const protocol of ["tcp", "tcp6", "udp", "udp6", "sctp", "sctp6"]) {
      execFileSync("ovs-ofctl", ["-O", "OpenFlow15", "parse-flow", `${protocol},tp_dst=80,actions=drop`], { encoding: "utf8" });
      assert.match(result.stderr, new RegExp(`\\b${protocol}\\b`), `hint names ${protocol}`);
    }
  });

  test("encode defaults to OpenFlow15", async () => {
    const result = await yardctl(["ofp", "encode", "actions=drop"]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(ovsPrint(result.stdout.trim()), /^OFPT_FLOW_MOD \(OF1\.5\)/);
    const help = await yardctl(["ofp", "encode", "--help"]);
    assert.match(help.stdout.replace(/\s+/g, " "), /\(default: OpenFlow15\)/);
  });

  test("invalid hex fails", async () => {
    const result = await yardctl(["ofp", "decode", "04zz"]);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /not hex/);
  });
});
