// Keeps the bridge's flows equal to the agent's desired flows, owner by owner. Each change of
// an owner (the pipeline defaults, the local ports, one pod, one peer) is one atomic bundle,
// so a pod's flows appear or disappear together. The desired flows stay cached, so a
// reconnect to a restarted ovs-vswitchd can replay all of them.
import type { OpenFlowConnection } from "../../openflow/connection/connection.ts";
import { NO_BUFFER, OFPG, OFPP, OFPTT_ALL } from "../../openflow/messages/constants.ts";
import type { FlowModMessage, MessageBody } from "../../openflow/messages/types.ts";
import { MATCH_ALL } from "../../openflow/match/index.ts";
import { roundCookieMask } from "./cookie.ts";
import { flowKey, type PipelineFlow } from "./flow.ts";

/** OFPFC_* flow_mod commands used here. */
const FlowCommand = {
  add: 0,
  deleteAny: 3,
  deleteStrict: 4,
} as const;

/** Returns the FLOW_MOD body that adds `flow`, replacing a flow with the same table, priority and match. */
export function addFlowMessage(flow: PipelineFlow): MessageBody<FlowModMessage> {
  return flowMod(flow, FlowCommand.add);
}

/** Returns the FLOW_MOD body that deletes exactly the flow with `flow`'s table, priority and match. */
export function deleteFlowMessage(flow: PipelineFlow): MessageBody<FlowModMessage> {
  return flowMod(flow, FlowCommand.deleteStrict);
}

function flowMod(flow: PipelineFlow, command: number): MessageBody<FlowModMessage> {
  return {
    kind: "flow_mod",
    cookie: flow.cookie,
    cookieMask: 0n,
    tableId: flow.table.id,
    command,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: flow.priority,
    bufferId: NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    importance: 0,
    match: flow.match,
    instructions: command === FlowCommand.add ? [...flow.instructions] : [],
  };
}

/** Returns the FLOW_MOD body deleting every flow of `round` in all tables (cookie mask delete). */
export function deleteRoundMessage(round: number): MessageBody<FlowModMessage> {
  const { cookie, mask } = roundCookieMask(round);
  return {
    kind: "flow_mod",
    cookie,
    cookieMask: mask,
    tableId: OFPTT_ALL,
    command: FlowCommand.deleteAny,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 0,
    bufferId: NO_BUFFER,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    importance: 0,
    match: MATCH_ALL,
    instructions: [],
  };
}

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
   * Makes `owner`'s flows exactly `flows` in one bundle: adds new and changed flows, deletes
   * flows the owner no longer has. An owner with no flows is forgotten. Idempotent.
   */
  setOwnerFlows(owner: string, flows: readonly PipelineFlow[]): Promise<void> {
    return this.setOwnersFlows(new Map([[owner, flows]]));
  }

  /**
   * Sets the flows of several owners in one bundle. Use it when a flow moves from one owner
   * to another, such as a pod CIDR changing node. The bundle deletes first and adds after, so
   * a flow that one owner gives up and another takes over is never missing.
   */
  setOwnersFlows(changes: ReadonlyMap<string, readonly PipelineFlow[]>): Promise<void> {
    return this.#enqueue(async () => {
      const deletes: MessageBody[] = [];
      const adds: MessageBody[] = [];
      const updated = new Map<string, Map<string, PipelineFlow>>();
      for (const [owner, flows] of changes) {
        const current = this.#owners.get(owner) ?? new Map<string, PipelineFlow>();
        const next = new Map(flows.map((entry) => [flowKey(entry), entry]));
        for (const [key, entry] of next) {
          const old = current.get(key);
          if (old === undefined || !sameFlow(old, entry)) adds.push(addFlowMessage(entry));
        }
        for (const [key, entry] of current) {
          if (!next.has(key)) deletes.push(deleteFlowMessage(entry));
        }
        updated.set(owner, next);
      }
      await this.#send([...changes.keys()].join(","), [...deletes, ...adds]);
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

function sameFlow(a: PipelineFlow, b: PipelineFlow): boolean {
  return a.cookie === b.cookie && JSON.stringify(a.instructions, bigintSafe) === JSON.stringify(b.instructions, bigintSafe);
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}
