// Keeps the bridge's flows equal to the agent's desired flows, owner by owner. Each change of
// an owner (the pipeline defaults, the local ports, one pod, one peer) is one atomic bundle,
// so a pod's flows appear or disappear together; setOwnersFlows() puts several owners in one
// bundle. What a change sends comes from the diff in flow-diff.ts, which the policy enforcer
// shares. The desired flows stay cached, so a reconnect to a restarted ovs-vswitchd can
// replay all of them.
import type { OpenFlowConnection } from "../../openflow/connection/connection.ts";
import type { MessageBody } from "../../openflow/messages/types.ts";
import type { PipelineFlow } from "./flow.ts";
import { concatDiffs, diffFlows, diffMessages, indexFlows, type FlowDiff } from "./flow-diff.ts";
import { addFlowMessage, deleteRoundMessage } from "./flow-mod.ts";

// Earlier callers import the FLOW_MOD builders from here.
export { addFlowMessage, deleteFlowMessage, deleteRoundMessage, modifyFlowMessage } from "./flow-mod.ts";

/** Owners named in a sync event's owner text before it is shortened. */
const OWNERS_IN_LABEL = 4;

export interface FlowSyncOptions {
  /** The connection to the bridge; it may reconnect, and replay() then restores the flows. */
  readonly connection: OpenFlowConnection;
  /** Called after each successful bundle with its size and duration, for metrics. */
  readonly onSync?: (event: { owner: string; messages: number; seconds: number }) => void;
}

/**
 * The desired flows of every owner and the calls that apply them. Calls are queued and run
 * one at a time, so the cache always matches what the last committed bundle installed. A
 * failed bundle changes neither the switch nor the cache.
 */
export class FlowSync {
  readonly #connection: OpenFlowConnection;
  readonly #onSync: FlowSyncOptions["onSync"];
  readonly #owners = new Map<string, Map<string, PipelineFlow>>();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: FlowSyncOptions) {
    this.#connection = options.connection;
    this.#onSync = options.onSync;
  }

  /**
   * Makes `owner`'s flows exactly `flows` in one bundle, using the diff of flow-diff.ts: adds
   * new flows and flows with a new cookie, modifies flows whose instructions changed, deletes
   * flows the owner no longer has. An owner with no flows is forgotten. Idempotent.
   */
  setOwnerFlows(owner: string, flows: readonly PipelineFlow[]): Promise<void> {
    return this.setOwnersFlows(new Map([[owner, flows]]));
  }

  /**
   * Sets the flows of several owners in one bundle: all of them change or none do. Use it when
   * a flow moves from one owner to another, such as a pod CIDR changing node, and to apply
   * many owners at once, such as every pod restored at agent start. The bundle deletes first,
   * then modifies, then adds, so a flow that one owner gives up and another takes over is
   * never missing. When the bundle fails, the switch and the cache keep their earlier flows.
   */
  setOwnersFlows(changes: ReadonlyMap<string, readonly PipelineFlow[]>): Promise<void> {
    return this.#enqueue(async () => {
      const diffs: FlowDiff[] = [];
      const updated = new Map<string, Map<string, PipelineFlow>>();
      for (const [owner, flows] of changes) {
        const next = indexFlows(flows);
        diffs.push(diffFlows(this.#owners.get(owner) ?? new Map(), next));
        updated.set(owner, next);
      }
      await this.#send(ownersLabel(changes), diffMessages(concatDiffs(diffs)));
      for (const [owner, next] of updated) {
        if (next.size === 0) this.#owners.delete(owner);
        else this.#owners.set(owner, next);
      }
    });
  }

  /** Removes all flows of `owner` in one bundle. Idempotent. */
  removeOwner(owner: string): Promise<void> {
    return this.setOwnerFlows(owner, []);
  }

  /** Sends every cached flow again in one bundle, after ovs-vswitchd restarted and lost its flows. */
  replay(): Promise<void> {
    return this.#enqueue(async () => {
      const messages = [...this.#owners.values()].flatMap((flows) => [...flows.values()].map(addFlowMessage));
      await this.#send("(replay)", messages);
    });
  }

  /** Deletes every flow of an earlier agent run's round, in all tables. */
  deleteRound(round: number): Promise<void> {
    return this.#enqueue(() => this.#send(`(round ${round})`, [deleteRoundMessage(round)]));
  }

  owners(): string[] {
    return [...this.#owners.keys()];
  }

  /** Returns the cached flows of `owner`, or all cached flows. */
  flows(owner?: string): PipelineFlow[] {
    if (owner !== undefined) return [...(this.#owners.get(owner)?.values() ?? [])];
    return [...this.#owners.values()].flatMap((flows) => [...flows.values()]);
  }

  /** Counts cached flows per table name, for the flow count metric. */
  countByTable(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const entry of this.flows()) counts.set(entry.table.name, (counts.get(entry.table.name) ?? 0) + 1);
    return counts;
  }

  async #send(owner: string, messages: MessageBody[]): Promise<void> {
    if (messages.length === 0) return;
    const started = process.hrtime.bigint();
    await this.#connection.bundle(messages);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.#onSync?.({ owner, messages: messages.length, seconds });
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(task);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

/** Returns the owner text of a sync event: the owners joined by commas, shortened after a few. */
function ownersLabel(changes: ReadonlyMap<string, unknown>): string {
  const owners = [...changes.keys()];
  if (owners.length <= OWNERS_IN_LABEL) return owners.join(",");
  return `${owners.slice(0, OWNERS_IN_LABEL).join(",")},... (${owners.length} owners)`;
}
