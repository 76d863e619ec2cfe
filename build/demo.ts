// The main job as it stands today: bring up a three-node lab with real Open vSwitch, show
// each node's OVS, prove every node reaches every other node and the outside over the
// underlay, then tear the lab down (unless --keep). The local-cluster policy demo replaces
// the middle part once the agent and the CNI land.
import { Command } from "commander";
import { downLab, readLab, upLab } from "../test/lab/index.ts";
import type { Lab } from "../test/lab/index.ts";

interface DemoOptions {
  name: string;
  nodes: number;
  subnets: 1 | 2;
  keep: boolean;
  replace: boolean;
}

function step(text: string): void {
  console.log(`\n==> ${text}`);
}

async function showNodes(lab: Lab): Promise<void> {
  step(`lab "${lab.name}": ${lab.nodes.length} nodes on ${lab.subnets} underlay subnet(s), block ${lab.block}`);
  for (const node of lab.nodes) {
    const version = (await node.vsctl(["--version"])).split("\n")[0];
    const bridges = (await node.vsctl(["list-br"])).trim().split("\n").join(", ");
    console.log(`  ${node.name}  netns ${node.netns}  underlay ${node.underlayIp}/${node.underlayPrefixLength}  bridges: ${bridges}  (${version})`);
  }
  console.log(`  outside  netns ${lab.outside.netns}  address ${lab.outside.ip}`);
}

async function pingAll(lab: Lab): Promise<number> {
  step("every node pings every other node and the outside over the underlay");
  const targets = [...lab.nodes.map((node) => ({ name: node.name, ip: node.underlayIp })), { name: "outside", ip: lab.outside.ip }];
  let failures = 0;
  for (const node of lab.nodes) {
    const cells: string[] = [];
    for (const target of targets) {
      if (target.name === node.name) {
        cells.push(`${target.name}: -`);
        continue;
      }
      try {
        await node.exec(["ping", "-c", "1", "-W", "2", target.ip]);
        cells.push(`${target.name}: ok`);
      } catch {
        cells.push(`${target.name}: FAIL`);
        failures += 1;
      }
    }
    console.log(`  ${node.name} -> ${cells.join("  ")}`);
  }
  return failures;
}

async function runDemo(options: DemoOptions): Promise<number> {
  if (await readLab({ name: options.name })) {
    if (!options.replace) {
      throw new Error(
        `a lab named "${options.name}" already exists (left by --keep?): remove it with ` +
          `'bin/switchyard-lab down --name ${options.name}', rerun with --replace, or choose another --name`,
      );
    }
    step(`removing the earlier lab "${options.name}" (--replace)`);
    await downLab({ name: options.name });
  }
  step(`bringing up ${options.nodes} nodes`);
  const lab = await upLab({
    name: options.name,
    nodes: options.nodes,
    subnets: options.subnets,
    log: (line) => console.log(`  ${line}`),
  });
  let failures = 0;
  try {
    await showNodes(lab);
    failures = await pingAll(lab);
  } finally {
    if (options.keep) {
      step(`keeping the lab: inspect it with 'bin/switchyard-lab status --name ${lab.name}', remove it with 'bin/switchyard-lab down --name ${lab.name}'`);
    } else {
      step("tearing the lab down");
      await downLab({ name: lab.name });
    }
  }
  step(failures === 0 ? "done: every node reached every other node" : `done with ${failures} failed ping(s)`);
  return failures === 0 ? 0 : 1;
}

const program = new Command()
  .name("npm run demo --")
  .description("Bring up a Switchyard lab with real Open vSwitch and show its nodes connected.")
  .option("--name <name>", "lab name", "demo")
  .option("--nodes <n>", "number of nodes", "3")
  .option("--subnets <n>", "underlay segments: 1, or 2 joined by a router", "1")
  .option("--keep", "leave the lab running at the end", false)
  .option("--replace", "remove an existing lab of the same name first", false)
  .action(async (raw: { name: string; nodes: string; subnets: string; keep: boolean; replace: boolean }) => {
    const nodes = Number(raw.nodes);
    if (!Number.isInteger(nodes) || nodes < 1) {
      throw new Error(`invalid --nodes "${raw.nodes}": give a whole number of nodes, such as 3`);
    }
    if (raw.subnets !== "1" && raw.subnets !== "2") {
      throw new Error(`invalid --subnets "${raw.subnets}": use 1 or 2`);
    }
    process.exitCode = await runDemo({ name: raw.name, nodes, subnets: raw.subnets === "1" ? 1 : 2, keep: raw.keep, replace: raw.replace });
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
