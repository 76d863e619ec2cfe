// The reference of the policy-latency benchmark: one drop flow per node for that node's
// target, added with ovs-ofctl straight into br-int's IngressPolicy table, where the
// policy's own drop flows go. It is the floor of "datapath change to first drop": one
// ovs-ofctl process per node, the flow_mod, and ovs-vswitchd's revalidation of cached
// datapath flows, without the API server, the controller or the agent. A second, lower
// floor sends the same flow_mod over OpenFlow connections opened beforehand, so no process
// starts at t0.
import { run } from "../../lab/index.ts";
import { Tables } from "../../../agent/pipeline/tables.ts";
import { OpenFlowConnection, OpenFlowVersion, flowModFromText } from "../../../openflow/index.ts";

/**
 * Cookie of the reference flows. Round 0 (bits 63..48) is never an agent round, and
 * category 0xfe (bits 47..40) is no agent category, so no agent flow carries it and the
 * cookie-masked delete removes the reference flows only.
 */
export const referenceCookie = 0x0000_fe00_5e1a_7000n;
const priority = 300;

/** One node's part of the reference: its br-int management socket and the target it hosts. */
export interface ReferenceNode {
  name: string;
  mgmtSocket: string;
  targetIp: string;
  targetPort: number;
}

function flowSpec(node: ReferenceNode): string {
  return `cookie=0x${referenceCookie.toString(16)},table=${Tables.IngressPolicy.id},priority=${priority},udp,nw_dst=${node.targetIp},tp_dst=${node.targetPort},actions=drop`;
}

/**
 * Adds every node's drop flow, all ovs-ofctl processes started at once. Resolves with each
 * node's completion time (`performance.timeOrigin + performance.now()`, milliseconds).
 * Not atomic across nodes: a failure on one node leaves the others' flows, which
 * removeReferenceDrops() deletes.
 */
export async function addReferenceDrops(nodes: readonly ReferenceNode[]): Promise<Map<string, number>> {
  const done = await Promise.all(
    nodes.map(async (node) => {
      await run(["ovs-ofctl", "-O", "OpenFlow15", "add-flow", `unix:${node.mgmtSocket}`, flowSpec(node)], { timeoutMs: 10_000 });
      return [node.name, performance.timeOrigin + performance.now()] as const;
    }),
  );
  return new Map(done);
}

/**
 * OpenFlow connections to every node's br-int, opened before t0, that add the same drop
 * flows as addReferenceDrops() without starting a process. Close it after use.
 */
export class OpenConnectionDrops {
  readonly #connections: { node: ReferenceNode; connection: OpenFlowConnection }[];

  private constructor(connections: { node: ReferenceNode; connection: OpenFlowConnection }[]) {
    this.#connections = connections;
  }

  /** Connects to every node (OpenFlow 1.5, no reconnect); all-or-nothing. */
  static async open(nodes: readonly ReferenceNode[]): Promise<OpenConnectionDrops> {
    const settled = await Promise.allSettled(nodes.map((node) => OpenFlowConnection.connect({ address: `unix:${node.mgmtSocket}`, versions: [OpenFlowVersion.OF15], reconnect: false })));
    const opened = settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
    const failed = settled.find((result) => result.status === "rejected");
    if (failed !== undefined) {
      await Promise.all(opened.map((connection) => connection.close()));
      throw new Error(`could not open an OpenFlow connection to every node's br-int`, { cause: failed.reason });
    }
    return new OpenConnectionDrops(nodes.map((node, index) => ({ node, connection: opened[index] as OpenFlowConnection })));
  }

  /** Sends every node's flow_mod at once; resolves with each node's barrier reply time, like addReferenceDrops(). */
  async add(): Promise<Map<string, number>> {
    const done = await Promise.all(
      this.#connections.map(async ({ node, connection }) => {
        await connection.post(flowModFromText(flowSpec(node), { version: OpenFlowVersion.OF15 }));
        return [node.name, performance.timeOrigin + performance.now()] as const;
      }),
    );
    return new Map(done);
  }

  async close(): Promise<void> {
    await Promise.all(this.#connections.map(({ connection }) => connection.close()));
  }
}

/** Deletes the reference flows (by cookie, any table) on every node. Idempotent. */
export async function removeReferenceDrops(nodes: readonly ReferenceNode[]): Promise<void> {
  await Promise.all(
    nodes.map((node) => run(["ovs-ofctl", "-O", "OpenFlow15", "del-flows", `unix:${node.mgmtSocket}`, `cookie=0x${referenceCookie.toString(16)}/-1`], { timeoutMs: 10_000 })),
  );
}

/** Returns how many reference flows `node`'s br-int holds, read with ovs-ofctl dump-flows. */
export async function countReferenceDrops(node: ReferenceNode): Promise<number> {
  const output = await run(["ovs-ofctl", "-O", "OpenFlow15", "--no-stats", "dump-flows", `unix:${node.mgmtSocket}`, `cookie=0x${referenceCookie.toString(16)}/-1`], { timeoutMs: 10_000 });
  return output.split("\n").filter((line) => line.includes("actions=drop")).length;
}
