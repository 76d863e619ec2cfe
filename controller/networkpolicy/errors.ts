// Error classes of the NetworkPolicy computation. Callers branch on `code`, never on the message.

export const PolicyErrorCode = {
  /** A NetworkPolicy spec that the Kubernetes API server would have rejected. */
  InvalidPolicy: "INVALID_POLICY",
  /** A slice event that does not fit the slice it is applied to (unknown id, gap in generations). */
  InvalidSliceEvent: "INVALID_SLICE_EVENT",
} as const;

export type PolicyErrorCode = (typeof PolicyErrorCode)[keyof typeof PolicyErrorCode];

/** A NetworkPolicy object with a spec Kubernetes validation forbids; the message names the field. */
export class PolicyValidationError extends Error {
  readonly code = PolicyErrorCode.InvalidPolicy;
  readonly policy: string;
  readonly field: string;

  constructor(options: { policy: string; field: string; message: string; cause?: unknown }) {
    super(`invalid NetworkPolicy ${options.policy}: ${options.field}: ${options.message}`, { cause: options.cause });
    this.name = "PolicyValidationError";
    this.policy = options.policy;
    this.field = options.field;
  }
}

/** An event that cannot be applied to a node slice; the client should fetch a new snapshot. */
export class SliceEventError extends Error {
  readonly code = PolicyErrorCode.InvalidSliceEvent;
  readonly nodeName: string;
  readonly generation: number;

  constructor(options: { nodeName: string; generation: number; message: string }) {
    super(
      `cannot apply slice event ${options.generation} to node ${options.nodeName}: ${options.message}; ` +
        "fetch a new snapshot",
    );
    this.name = "SliceEventError";
    this.nodeName = options.nodeName;
    this.generation = options.generation;
  }
}
