// Measures the time to bring up and take down a three-node, one-subnet lab. The reference,
// measured in the same run, is a plain shell script that builds the same topology the way
// the OVS recipe reads: one command per step, one node after another.
//
// Needs root, Open vSwitch and iproute2. Usage: node test/bench/lab.bench.ts [rounds]
// (default 5). Prints the median and range of each figure in milliseconds.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { downLab, upLab } from "../lab/index.ts";

const nodes = 3;
const rounds = Number(process.argv[2] ?? "5");
const labName = `sylbench${process.pid % 10000}`;
const referenceName = `sylref${process.pid % 10000}`;

// The reference: the same namespaces, underlay bridge, veths, OVS instances and br-phy
// addresses, one command per step, nodes in sequence; teardown kills by pid file.
function referenceScript(dir: string, action: "up" | "down"): string {
  const lines = ["set -e", `D=${dir}`, `L=${referenceName}`];
  if (action === "up") {
    lines.push("ip netns add $L-ul", "ip -n $L-ul link set lo up", "ip -n $L-ul link add br-a type bridge", "ip -n $L-ul link set br-a up");
    for (let i = 1; i <= nodes; i += 1) {
      lines.push(
        `ip netns add $L-n${i}`,
        `ip -n $L-ul link add n${i} type veth peer name eth0 netns $L-n${i}`,
        `ip -n $L-ul link set n${i} master br-a up`,
        `ip -n $L-n${i} link set lo up`,
        `ip -n $L-n${i} link set eth0 arp off up`,
        `mkdir -p $D/n${i}`,
        `ovsdb-tool create $D/n${i}/conf.db /usr/share/openvswitch/vswitch.ovsschema`,
        `ip netns exec $L-n${i} ovsdb-server $D/n${i}/conf.db --remote=punix:$D/n${i}/db.sock --pidfile=$D/n${i}/ovsdb.pid --unixctl=$D/n${i}/ovsdb.ctl --log-file=$D/n${i}/ovsdb.log --detach`,
        `ovs-vsctl --db=unix:$D/n${i}/db.sock --no-wait init`,
        `OVS_RUNDIR=$D/n${i} ip netns exec $L-n${i} ovs-vswitchd unix:$D/n${i}/db.sock --pidfile=$D/n${i}/vswitchd.pid --unixctl=$D/n${i}/vswitchd.ctl --log-file=$D/n${i}/vswitchd.log --detach`,
        `ovs-appctl -t $D/n${i}/vswitchd.ctl version >/dev/null`,
        `ovs-vsctl --db=unix:$D/n${i}/db.sock -- add-br br-phy -- set bridge br-phy datapath_type=netdev other-config:hwaddr=02:00:0a:63:00:${10 + i} -- add-port br-phy eth0`,
        `ip -n $L-n${i} addr add 10.99.0.${10 + i}/24 dev br-phy`,
        `ip -n $L-n${i} link set br-phy up`,
      );
    }
  } else {
    for (let i = 1; i <= nodes; i += 1) {
      lines.push(`kill $(cat $D/n${i}/vswitchd.pid) $(cat $D/n${i}/ovsdb.pid)`);
      lines.push(`while [ -e $D/n${i}/vswitchd.pid ] || [ -e $D/n${i}/ovsdb.pid ]; do sleep 0.01; done`);
      lines.push(`ip netns del $L-n${i}`);
    }
    lines.push("ip netns del $L-ul", "rm -rf $D/n*");
  }
  return `${lines.join("\n")}\n`;
}

function runScript(path: string): number {
  const started = performance.now();
  const result = spawnSync("bash", [path], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${path} failed: ${result.stderr}`);
  return performance.now() - started;
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  return `median ${median.toFixed(0)} ms (min ${sorted[0]?.toFixed(0)}, max ${sorted.at(-1)?.toFixed(0)})`;
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log("lab benchmark skipped: it needs root to create network namespaces");
    return;
  }
  const stateDir = mkdtempSync(join(tmpdir(), "syl-bench-"));
  const refDir = join(stateDir, "reference");
  writeFileSync(join(stateDir, "ref-up.sh"), referenceScript(refDir, "up"));
  writeFileSync(join(stateDir, "ref-down.sh"), referenceScript(refDir, "down"));

  const labUp: number[] = [];
  const labDown: number[] = [];
  const refUp: number[] = [];
  const refDown: number[] = [];
  try {
    for (let round = 0; round < rounds; round += 1) {
      let started = performance.now();
      await upLab({ name: labName, nodes, stateDir });
      labUp.push(performance.now() - started);
      started = performance.now();
      await downLab({ name: labName, stateDir });
      labDown.push(performance.now() - started);

      refUp.push(runScript(join(stateDir, "ref-up.sh")));
      refDown.push(runScript(join(stateDir, "ref-down.sh")));
    }
  } finally {
    await downLab({ name: labName, stateDir });
    spawnSync("bash", [join(stateDir, "ref-down.sh")]);
    rmSync(stateDir, { recursive: true, force: true });
  }

  console.log(`lab ${nodes} nodes, ${rounds} rounds`);
  console.log(`  upLab:              ${summary(labUp)}`);
  console.log(`  downLab:            ${summary(labDown)}`);
  console.log(`  reference up:       ${summary(refUp)}`);
  console.log(`  reference down:     ${summary(refDown)}`);
  console.log(`  up speed-up vs reference:   ${(median(refUp) / median(labUp)).toFixed(2)}x`);
  console.log(`  down speed-up vs reference: ${(median(refDown) / median(labDown)).toFixed(2)}x`);
}

await main();
