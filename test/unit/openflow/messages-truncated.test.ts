// yardctl ofp decode of bad input (empty, short, truncated, overlong, undecodable): the
// text must equal ovs-ofctl ofp-print's and the exit status must be 1.
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

/** Returns the hex of an OpenFlow 1.5 FLOW_MOD with a TCP match, encoded by ovs-ofctl rather than by the code under test. */
function ovsFlowMod(): string {
  const text = execFileSync("ovs-ofctl", ["-O", "OpenFlow15", "-mmmmm", "parse-flow", "table=3,priority=100,tcp,nw_src=10.0.0.0/8,tp_dst=80,actions=output:2,resubmit(,4)"], {
    encoding: "utf8",
  });
  const hex = text
    .split("\n")
    .filter((line) => /^[0-9a-f]{8} {2}/.test(line))
    .map((line) => line.slice(10, 58).replace(/[\s-]/g, ""))
    .join("");
  assert.ok(hex.length >= 16, `no hex dump in ovs-ofctl output:\n${text}`);
  return hex;
}

describe("yardctl ofp decode of bad input", () => {
  const flowMod = ovsFlowMod();
  const cases: { name: string; hex: string }[] = [
    { name: "FLOW_MOD cut to 10 bytes", hex: flowMod.slice(0, 20) },
    { name: "FLOW_MOD cut after the match", hex: flowMod.slice(0, 108) },
    { name: "FLOW_MOD with a trailing byte", hex: `${flowMod}00` },
    { name: "header cut to 6 bytes", hex: flowMod.slice(0, 12) },
    { name: "OpenFlow 1.0 HELLO cut to 10 bytes", hex: "01000038000000020000" },
    { name: "multipart request cut to 14 bytes", hex: "0612003800000002000100000000" },
  ];

  for (const { name, hex } of cases) {
    test(name, async () => {
      const result = await yardctl(["ofp", "decode", hex]);
      assert.equal(result.stdout, ovsPrint(hex));
      assert.equal(result.status, 1);
      assert.match(result.stderr, /^yardctl: message 1 of 1 is not a valid OpenFlow message/);
    });
  }

  test("truncated FLOW_MOD names its sizes", async () => {
    const result = await yardctl(["ofp", "decode", flowMod.slice(0, 20)]);
    const fullLength = flowMod.length / 2;
    assert.match(result.stdout, new RegExp(`^OFPT_FLOW_MOD \\(OF1\\.5\\) \\(xid=0x[0-9a-f]+\\):\\n\\(\\*\\*\\*truncated to 10 bytes from ${fullLength}\\*\\*\\*\\)\\n`));
  });

  test("stdin reports the bad message's position", async () => {
    const result = await yardctl(["ofp", "decode", "-"], `0414000800000001\n${flowMod.slice(0, 20)}\n`);
    assert.equal(result.stdout, `${ovsPrint("0414000800000001")}\n${ovsPrint(flowMod.slice(0, 20))}`);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /message 2 of 2 is not a valid OpenFlow message/);
  });

  test("valid message exits 0", async () => {
    const result = await yardctl(["ofp", "decode", flowMod]);
    assert.equal(result.stdout, ovsPrint(flowMod));
    assert.equal(result.status, 0);
  });
});
