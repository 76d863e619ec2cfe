// Connects the policy client's slice stream to the enforcer. Bursts of changes collapse:
// while one slice is being installed, only the newest of the slices that arrive meanwhile is
// installed next, because each slice is complete and supersedes the ones before it.
import type { NodeSlice } from "../../controller/networkpolicy/types.ts";
import type { SliceChange } from "../policyclient/client.ts";
import type { ApplyResult, PolicyEnforcer } from "./enforcer.ts";

/** The part of PolicyClient used here. */
export interface SliceSource {
  on(event: "change", listener: (change: SliceChange) => void): unknown;
  off(event: "change", listener: (change: SliceChange) => void): unknown;
}

export interface FollowOptions {
  readonly client: SliceSource;
  readonly enforcer: PolicyEnforcer;
  /** Called after each install; a failed install reports its error and the next change retries. */
  readonly onApplied?: (outcome: { generation: number; result?: ApplyResult; error?: unknown }) => void;
}

/** Installs every slice the client emits, newest first after a burst. Returns a function that stops following. */
export function followPolicyClient(options: FollowOptions): () => void {
  let pending: NodeSlice | undefined;
  let running = false;

  const drain = async (): Promise<void> => {
    running = true;
    while (pending !== undefined) {
      const slice = pending;
      pending = undefined;
      try {
        const result = await options.enforcer.applySlice(slice);
        options.onApplied?.({ generation: slice.generation, result });
      } catch (error) {
        options.onApplied?.({ generation: slice.generation, error });
      }
    }
    running = false;
  };

  const listener = (change: SliceChange): void => {
    pending = change.slice;
    if (!running) void drain();
  };
  options.client.on("change", listener);
  return () => options.client.off("change", listener);
}
