// The datapath flow count and revalidator dump duration of a node's ovs-vswitchd, read with
// `ovs-appctl upcall/show` before each measurement. After a flow table change,
// ovs-vswitchd revalidates every cached datapath flow, so a large cache can delay the
// moment a new drop flow starts to apply to traffic that already has a cached flow.
import { run } from "../../lab/index.ts";

/** One reading of `upcall/show`. A field is undefined when the output lacks it. */
export interface DatapathStats {
  node: string;
  /** Datapath flows now cached ("flows : (current N)"). */
  flows: number | undefined;
  /** Duration of the last revalidator dump ("dump duration : Nms"), in milliseconds. */
  dumpDurationMs: number | undefined;
}

/**
 * Parses the output of `ovs-appctl upcall/show` (Open vSwitch 3.1). With several datapaths
 * it returns the first one's figures.
 */
export function parseUpcallShow(node: string, text: string): DatapathStats {
  const flows = /flows\s*:\s*\(current (\d+)\)/.exec(text)?.[1];
  const dump = /dump duration\s*:\s*(\d+)ms/.exec(text)?.[1];
  return { node, flows: flows === undefined ? undefined : Number(flows), dumpDurationMs: dump === undefined ? undefined : Number(dump) };
}

/** Reads every node's datapath stats at once. A node whose ovs-appctl fails gets undefined fields. */
export async function readDatapathStats(nodes: readonly { name: string; vswitchdCtl: string }[]): Promise<DatapathStats[]> {
  return Promise.all(
    nodes.map(async (node) => {
      const text = await run(["ovs-appctl", "-t", node.vswitchdCtl, "upcall/show"], { timeoutMs: 10_000 }).catch(() => "");
      return parseUpcallShow(node.name, text);
    }),
  );
}

