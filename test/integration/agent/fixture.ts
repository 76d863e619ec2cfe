// A single simulated node for agent integration tests: a network namespace running its own
// ovsdb-server and ovs-vswitchd, plus pod namespaces joined to the bridge by veth pairs.
// Everything is named with the "sya" prefix and the test process id, and removed by cleanup().
import { mkdtemp, rm } from "node:fs/promises";
import { OvsdbClient, Vswitch } from "../../../ovsdb/index.ts";
import { createNamespaces, deleteNamespaces, disableTxChecksumOffload, run, startOvs, stopOvs } from "../../lab/index.ts";
import type { OvsInstance } from "../../lab/index.ts";

export interface TestNode {
  readonly netns: string;
  readonly ovs: OvsInstance;
  readonly client: OvsdbClient;
  readonly vswitch: Vswitch;
  /** Runs a command inside the node namespace. */
  exec(argv: readonly string[]): Promise<string>;
  cleanup(): Promise<void>;
}

export interface TestPod {
  readonly netns: string;
  /** Port name on the bridge (host end of the veth). */
  readonly port: string;
  readonly ofport: number;
  readonly mac: string;
  readonly ip: string;
}

/** Starts OVS in a new namespace `sya<tag><pid>`. Call cleanup() in t.after(). */
export async function startTestNode(tag: string): Promise<TestNode> {
  const netns = `sya${tag}${process.pid}`;
  const dir = await mkdtemp(`/tmp/sya${tag}`);
  const namespaces = [netns];
  await createNamespaces([netns]);
  let ovs: OvsInstance | undefined;
  let client: OvsdbClient | undefined;
  let vswitch: Vswitch | undefined;
  const cleanup = async (): Promise<void> => {
    await vswitch?.close().catch(() => undefined);
    client?.close();
    await stopOvs({ dir, pids: ovs === undefined ? [] : [ovs.ovsdbPid, ...(ovs.vswitchdPid === undefined ? [] : [ovs.vswitchdPid])] });
    await deleteNamespaces(namespaces);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    ovs = await startOvs({ dir, netns });
    client = await OvsdbClient.connect(`unix:${ovs.dbSocket}`);
    vswitch = await Vswitch.open(client);
  } catch (error) {
    await cleanup();
    throw error;
  }
  return { netns, ovs, client, vswitch, exec: (argv) => run(argv, { netns }), cleanup };
}

/**
 * Creates pod namespace `sya<tag><pid>`, a veth pair between it and the node namespace with
 * the given addresses, and an OVS port with ofport_request `ofport` and the CNI server's
 * external_ids. The caller deletes the namespace with deletePod().
 */
export async function addTestPod(
  node: TestNode,
  options: { tag: string; bridge: string; ofport: number; mac: string; ip: string; prefixLength: number; gateway: string; pod?: { namespace: string; name: string } },
): Promise<TestPod> {
  const netns = `sya${options.tag}${process.pid}`;
  const port = `sya${options.tag}h`;
  await createNamespaces([netns]);
  await node.exec(["ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", netns]);
  await run(["ip", "link", "set", "eth0", "address", options.mac, "up"], { netns });
  await run(["ip", "addr", "add", `${options.ip}/${options.prefixLength}`, "dev", "eth0"], { netns });
  await run(["ip", "route", "add", "default", "via", options.gateway], { netns });
  // "arp off": the node's kernel must not answer the pod's ARP on the host end (see docs/agent.md).
  await node.exec(["ip", "link", "set", port, "arp", "off", "up"]);
  await disableTxChecksumOffload({ netns, devices: ["eth0"] });
  await node.ovs.vsctl([
    "add-port", options.bridge, port, "--", "set", "interface", port, `ofport_request=${options.ofport}`,
    `external_ids:switchyard-attachment=test/${options.tag}/eth0`, `external_ids:ip=${options.ip}`, `external_ids:attached-mac=${options.mac}`,
    ...(options.pod === undefined ? [] : [`external_ids:pod-namespace=${options.pod.namespace}`, `external_ids:pod-name=${options.pod.name}`]),
  ]);
  const ofport = await node.vswitch.waitForOfport(port, { timeoutMs: 10_000 });
  return { netns, port, ofport, mac: options.mac, ip: options.ip };
}

export async function deleteTestPods(pods: readonly TestPod[]): Promise<void> {
  await deleteNamespaces(pods.map((pod) => pod.netns));
}

/** Returns dump-flows lines without statistics and with names, as an operator reads them, sorted. */
export async function dumpFlows(node: TestNode, bridge: string): Promise<string[]> {
  const text = await node.exec(["ovs-ofctl", "-O", "OpenFlow15", "--names", "--no-stats", "dump-flows", node.ovs.mgmtSocket(bridge)]);
  return text.split("\n").map((line) => line.trim()).filter((line) => line !== "").sort();
}
