// Bounded history of one node's slice events, so an agent that reconnects can catch up
// without a full snapshot, and the rule that decides between resume and resync.
import type { SliceEvent } from "../networkpolicy/types.ts";
import type { ResyncReason } from "./protocol.ts";

/**
 * The last `capacity` events of one node, in generation order. It contains every event with
 * a generation above `floor`. Generations are consecutive (the computer numbers each node's
 * events 1, 2, 3, ...); an event that breaks the sequence clears the log and moves the floor,
 * so a gap can only cause a resync, never a silent loss.
 */
export class NodeEventLog {
  private readonly capacity: number;
  private readonly ring: (SliceEvent | undefined)[];
  private start = 0;
  private length = 0;
  private floorGeneration = 0;

  constructor(options: { capacity: number }) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new RangeError(`event log capacity must be a positive integer, got ${options.capacity}`);
    }
    this.capacity = options.capacity;
    this.ring = new Array<SliceEvent | undefined>(options.capacity);
  }

  /** Generation of the newest event, or the floor when the log is empty. */
  get latest(): number {
    return this.floorGeneration + this.length;
  }

  /** Every event above this generation is in the log. */
  get floor(): number {
    return this.floorGeneration;
  }

  get size(): number {
    return this.length;
  }

  /** Appends events in order, dropping the oldest ones beyond capacity. */
  append(events: readonly SliceEvent[]): void {
    for (const event of events) {
      if (event.generation !== this.latest + 1) {
        this.start = 0;
        this.length = 0;
        this.ring.fill(undefined);
        this.floorGeneration = event.generation - 1;
      }
      if (this.length === this.capacity) {
        this.ring[this.start] = undefined;
        this.start = (this.start + 1) % this.capacity;
        this.length -= 1;
        this.floorGeneration += 1;
      }
      this.ring[(this.start + this.length) % this.capacity] = event;
      this.length += 1;
    }
  }

  /** Returns the events after `generation`, or undefined when some of them were dropped. */
  since(generation: number): SliceEvent[] | undefined {
    if (generation < this.floorGeneration || generation > this.latest) return undefined;
    const skip = generation - this.floorGeneration;
    const events: SliceEvent[] = [];
    for (let i = skip; i < this.length; i++) {
      const event = this.ring[(this.start + i) % this.capacity];
      if (event !== undefined) events.push(event);
    }
    return events;
  }
}

/** What the agent sent when it opened the watch. */
export interface ResumeRequest {
  readonly instance?: string;
  readonly generation?: number;
}

export type ResumePlan =
  | { readonly mode: "resume"; readonly events: SliceEvent[] }
  | { readonly mode: "snapshot"; readonly reason: ResyncReason };

/**
 * Decides how to bring an agent up to date. Resume only when the agent's state comes from
 * this controller instance and the log still contains every event after the agent's
 * generation; otherwise a full snapshot. `currentGeneration` is the computer's generation
 * for the node, which equals log.latest whenever the log has seen every event.
 */
export function planResume(options: {
  request: ResumeRequest;
  instance: string;
  currentGeneration: number;
  log: NodeEventLog | undefined;
}): ResumePlan {
  const { request, instance, currentGeneration, log } = options;
  if (request.instance === undefined || request.generation === undefined) return { mode: "snapshot", reason: "initial" };
  if (request.instance !== instance) return { mode: "snapshot", reason: "instance-changed" };
  if (request.generation > currentGeneration) return { mode: "snapshot", reason: "generation-ahead" };
  if (request.generation === currentGeneration) return { mode: "resume", events: [] };
  const events = log?.since(request.generation);
  if (events === undefined || (log !== undefined && log.latest !== currentGeneration)) return { mode: "snapshot", reason: "log-truncated" };
  return { mode: "resume", events };
}
