// Error types of the local cluster. Callers branch on `code`, never on the message text.

/** Stable codes for every failure the local cluster raises. */
export const ClusterUpErrorCode = {
  /** An option or argument has an invalid value (mode, node count, file). */
  InvalidOption: "INVALID_OPTION",
  /** `up` found a cluster of the same name already recorded. */
  ClusterExists: "CLUSTER_EXISTS",
  /** No cluster of that name is recorded. */
  ClusterNotFound: "CLUSTER_NOT_FOUND",
  /** A cluster state file is not JSON or lacks fields. */
  StateInvalid: "STATE_INVALID",
  /** A daemon exited during start-up or did not become ready in time. */
  DaemonFailed: "DAEMON_FAILED",
  /** A step timed out waiting for the API (node pod CIDRs, pods Running). */
  Timeout: "TIMEOUT",
  /** A command such as kubectl or ovs-ofctl failed. */
  CommandFailed: "COMMAND_FAILED",
} as const;

export type ClusterUpErrorCode = (typeof ClusterUpErrorCode)[keyof typeof ClusterUpErrorCode];

/** A failure of a local-cluster operation; `message` names the bad value and what to do. */
export class ClusterUpError extends Error {
  readonly code: ClusterUpErrorCode;

  constructor(code: ClusterUpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ClusterUpError";
    this.code = code;
  }
}

/** Returns the message of any thrown value. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
