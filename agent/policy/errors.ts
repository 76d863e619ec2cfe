// Errors of the policy agent, each with a stable code so callers branch on the code and not
// on the message.

export const PolicyErrorCode = {
  /** A port, range or CIDR in the slice is outside what OpenFlow can match. */
  invalidRule: "POLICY_INVALID_RULE",
  /** Every conjunction id from 1 to 2^32-1 is in use. */
  idsExhausted: "POLICY_IDS_EXHAUSTED",
  /** An id was released that the pool never handed out or already took back. */
  idNotAllocated: "POLICY_ID_NOT_ALLOCATED",
  /** The switch rejected the bundle; the installed flows are unchanged. */
  installFailed: "POLICY_INSTALL_FAILED",
} as const;
export type PolicyErrorCode = (typeof PolicyErrorCode)[keyof typeof PolicyErrorCode];

export class PolicyError extends Error {
  readonly code: PolicyErrorCode;

  constructor(code: PolicyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PolicyError";
    this.code = code;
  }
}
