// OpenFlow benchmarks, in two parts.
//
// 1. Encode rate: FLOW_MOD messages per second on one core, for flows shaped like a pod
//    network pipeline (see realisticFlows). Measured from parsed flows and from flow text.
// 2. Install: 100,000 such flows into a real ovs-vswitchd (userspace datapath, private
//    namespace) over one connection in one bundle. The reference is `ovs-ofctl --bundle
//    add-flows` of the same flows from a file, timed in the same run. The table is emptied
//    before each install and the flow count is checked after it.
//
// Part 2 needs root and Open vSwitch. Environment: FLOWS (default 100000), ROUNDS (default 2).
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, release } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { OpenFlowConnection } from "../../openflow/connection/connection.ts";
import { writeMessage } from "../../openflow/messages/codec.ts";
import { flowModFromText } from "../../openflow/messages/flow-mod-text.ts";
import type { FlowModMessage, MessageBody, OpenFlowMessage } from "../../openflow/messages/types.ts";
import { OpenFlowVersion } from "../../openflow/version.ts";
import { BufferWriter } from "../../openflow/wire/writer.ts";
import { sandboxAvailable, startOvsSandbox } from "../integration/openflow/ovs-sandbox.ts";

const FLOW_COUNT = Number(process.env.FLOWS ?? "100000");
const ROUNDS = Number(process.env.ROUNDS ?? "2");
const VERSION = OpenFlowVersion.OF15;

function ip(prefix: number, index: number): string {
  return `${prefix}.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
}

/** Returns `count` distinct flows in the shape of a pod network pipeline. */
export function realisticFlows(count: number): string[] {
  const flows: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const port = (i % 200) + 1;
    switch (i % 5) {
      case 0:
        flows.push(`table=0,priority=200,in_port=${port},ip,nw_src=${ip(10, i)},actions=set_field:0x${(i & 0xffff).toString(16)}->reg0,resubmit(,1)`);
        break;
      case 1:
        flows.push(`table=1,priority=100,ip,reg0=0x${(i & 0xffff).toString(16)},nw_dst=${ip(11, i)},actions=ct(commit,zone=${i % 4096}),output:${port}`);
        break;
      case 2:
        flows.push(`table=2,priority=150,ct_state=+trk+est,ip,nw_src=${ip(12, i)},actions=conjunction(${i},1/2)`);
        break;
      case 3:
        flows.push(`table=2,priority=150,ct_state=+trk+est,tcp,nw_dst=${ip(13, i)},tp_dst=${(i % 60000) + 1},actions=conjunction(${i - 1},2/2)`);
        break;
      default:
        flows.push(`table=2,priority=150,conj_id=${i},ip,actions=load:0x1->NXM_NX_REG1[0..15],resubmit(,3)`);
        break;
    }
  }
  return flows;
}

function measureEncode(flows: readonly string[]): void {
  const parsed: MessageBody<FlowModMessage>[] = flows.map((text) => flowModFromText(text, { version: VERSION }));
  const encodeOnce = (): { seconds: number; bytes: number } => {
    const started = performance.now();
    let bytes = 0;
    let w = new BufferWriter(1 << 20);
    parsed.forEach((body, index) => {
      writeMessage(w, { ...body, version: VERSION, xid: index + 1 } as OpenFlowMessage);
      if (w.length > 1 << 20) {
        bytes += w.length;
        w = new BufferWriter(1 << 20);
      }
    });
    bytes += w.length;
    return { seconds: (performance.now() - started) / 1000, bytes };
  };
  encodeOnce();
  const encoded = encodeOnce();
  console.log(
    `encode: ${flows.length} FLOW_MODs in ${encoded.seconds.toFixed(3)} s = ${Math.round(flows.length / encoded.seconds)} flow_mods/s ` +
      `(${(encoded.bytes / flows.length).toFixed(0)} bytes each)`,
  );
  const started = performance.now();
  for (const text of flows) flowModFromText(text, { version: VERSION });
  const parseSeconds = (performance.now() - started) / 1000;
  console.log(`parse: ${flows.length} flow texts in ${parseSeconds.toFixed(3)} s = ${Math.round(flows.length / parseSeconds)} flows/s`);
}

function flowCount(mgmt: string): number {
  const out = execFileSync("ovs-ofctl", ["-O", "OpenFlow15", "dump-aggregate", mgmt], { encoding: "utf8" });
  const match = /flow_count=(\d+)/.exec(out);
  return Number(match?.[1] ?? "-1");
}

function clearFlows(mgmt: string): void {
  execFileSync("ovs-ofctl", ["-O", "OpenFlow15", "del-flows", mgmt]);
}

async function measureInstall(flows: readonly string[]): Promise<void> {
  const sandbox = await startOvsSandbox({ tag: "b" });
  try {
    const file = join(sandbox.dir, "flows.txt");
    writeFileSync(file, flows.join("\n") + "\n");
    const connection = await OpenFlowConnection.connect({ address: sandbox.mgmt, reconnect: false, requestTimeoutMs: 600_000 });
    const ours: number[] = [];
    const oursFromText: number[] = [];
    const theirs: number[] = [];
    const prebuilt = flows.map((text) => flowModFromText(text, { version: VERSION }));
    try {
      for (let round = 0; round < ROUNDS; round += 1) {
        clearFlows(sandbox.mgmt);
        let started = performance.now();
        await connection.bundle(prebuilt);
        ours.push((performance.now() - started) / 1000);
        if (flowCount(sandbox.mgmt) !== flows.length) throw new Error(`our install left ${flowCount(sandbox.mgmt)} flows`);

        clearFlows(sandbox.mgmt);
        started = performance.now();
        await connection.bundle(flows.map((text) => flowModFromText(text, { version: VERSION })));
        oursFromText.push((performance.now() - started) / 1000);
        if (flowCount(sandbox.mgmt) !== flows.length) throw new Error(`our install left ${flowCount(sandbox.mgmt)} flows`);

        clearFlows(sandbox.mgmt);
        started = performance.now();
        execFileSync("ovs-ofctl", ["-O", "OpenFlow15", "--bundle", "add-flows", sandbox.mgmt, file]);
        theirs.push((performance.now() - started) / 1000);
        if (flowCount(sandbox.mgmt) !== flows.length) throw new Error(`ovs-ofctl install left ${flowCount(sandbox.mgmt)} flows`);
        console.log(
          `round ${round + 1}: ours ${ours[round]?.toFixed(2)} s from built messages, ` +
            `${oursFromText[round]?.toFixed(2)} s from text; ovs-ofctl ${theirs[round]?.toFixed(2)} s`,
        );
      }
    } finally {
      await connection.close();
    }
    const best = (values: number[]): number => Math.min(...values);
    console.log(
      `install ${flows.length} flows (best of ${ROUNDS}): ovs-ofctl --bundle add-flows ${best(theirs).toFixed(2)} s; ` +
        `ours from built messages ${best(ours).toFixed(2)} s = ${(best(ours) / best(theirs)).toFixed(2)}x; ` +
        `ours from text (parse included) ${best(oursFromText).toFixed(2)} s = ${(best(oursFromText) / best(theirs)).toFixed(2)}x`,
    );
  } finally {
    sandbox.stop();
  }
}

async function main(): Promise<void> {
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? "unknown"}), kernel ${release()}, Node.js ${process.version}`);
  const flows = realisticFlows(FLOW_COUNT);
  measureEncode(flows);
  if (sandboxAvailable()) await measureInstall(flows);
  else console.log("install: skipped (needs root and Open vSwitch)");
}

// Runs only as a script, so tests and tools can import realisticFlows.
if (import.meta.main) await main();
