// The three pods the real-OVS policy tests attach to one bridge: namespaces with eth0 on a
// veth pair, all in 10.244.1.0/24 so they reach each other at layer 2 without a gateway.
import { tableNamesById } from "../../../agent/pipeline/tables.ts";
import { disableTxChecksumOffload, run, runWithOutput, type OvsInstance } from "../../lab/index.ts";

export interface Pod {
  readonly label: string;
  readonly netns: string;
  /** Bridge-side veth name, at most 15 characters. */
  readonly port: string;
  readonly ofport: number;
  readonly mac: string;
  readonly ip: string;
}

/** Returns pods a, b and c with names made of `prefix`, the label and the process id, on ofports 11 to 13. */
export function threePods(prefix: string): [Pod, Pod, Pod] {
  const pods = ["a", "b", "c"].map((label, index) => ({
    label,
    netns: `${prefix}${label}${process.pid}`,
    port: `${prefix}${label}${process.pid}`.slice(0, 15),
    ofport: 11 + index,
    mac: `0a:58:0a:f4:01:${(11 + index).toString(16).padStart(2, "0")}`,
    ip: `10.244.1.${11 + index}`,
  }));
  return pods as [Pod, Pod, Pod];
}

/** Returns whether one ping from `from` to `to` gets a reply within `timeoutSeconds`. */
export async function pings(from: Pod, to: Pod, options: { timeoutSeconds: number }): Promise<boolean> {
  const result = await runWithOutput(["ping", "-c", "1", "-W", String(options.timeoutSeconds), to.ip], { netns: from.netns }).catch(() => undefined);
  return result !== undefined;
}

/**
 * Creates a netdev bridge that names the pipeline's tables on the running `ovs`, and joins each
 * pod's eth0 (its namespace must exist) to the bridge on its ofport.
 */
export async function addBridgeWithPods(options: { ovs: OvsInstance; nodeNetns: string; bridge: string; pods: readonly Pod[] }): Promise<void> {
  const { ovs, nodeNetns, bridge, pods } = options;
  const tables = Object.entries(tableNamesById()).flatMap(([id, name]) => ["--", "--id=@t" + id, "create", "Flow_Table", `name=${name}`, "--", "add", "Bridge", bridge, "flow_tables", `${id}=@t${id}`]);
  await ovs.vsctl(["add-br", bridge, "--", "set", "Bridge", bridge, "datapath_type=netdev", "fail_mode=secure", "protocols=OpenFlow13,OpenFlow15", ...tables]);
  for (const pod of pods) {
    await run(["ip", "link", "add", pod.port, "type", "veth", "peer", "name", "eth0", "netns", pod.netns], { netns: nodeNetns });
    await run(["ip", "link", "set", "eth0", "address", pod.mac, "up"], { netns: pod.netns });
    await run(["ip", "addr", "add", `${pod.ip}/24`, "dev", "eth0"], { netns: pod.netns });
    await run(["ip", "link", "set", "lo", "up"], { netns: pod.netns });
    await run(["ip", "link", "set", pod.port, "up"], { netns: nodeNetns });
    await disableTxChecksumOffload({ netns: pod.netns, devices: ["eth0"] });
    await ovs.vsctl(["add-port", bridge, pod.port, "--", "set", "Interface", pod.port, `ofport_request=${pod.ofport}`]);
  }
}
