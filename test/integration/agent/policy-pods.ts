// The three pods the real-OVS policy tests attach to one bridge: namespaces with eth0 on a
// veth pair, all in 10.244.1.0/24 so they reach each other at layer 2 without a gateway.
import { runWithOutput } from "../../lab/index.ts";

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
