// Errors raised while parsing a whole flow line (match, flow keys and actions together).

/** Stable codes for FlowTextError. */
export const FlowTextErrorCode = {
  UNKNOWN_KEYWORD: "UNKNOWN_KEYWORD",
  BAD_VALUE: "BAD_VALUE",
  MISSING_ACTIONS: "MISSING_ACTIONS",
  NOT_ALLOWED: "NOT_ALLOWED",
} as const;

export type FlowTextErrorCode = (typeof FlowTextErrorCode)[keyof typeof FlowTextErrorCode];

export class FlowTextError extends Error {
  readonly code: FlowTextErrorCode;

  constructor(code: FlowTextErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FlowTextError";
    this.code = code;
  }
}
