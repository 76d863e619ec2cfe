// Errors raised while parsing or checking match text and match fields.

/** Stable codes for MatchError, for callers that branch on the kind of failure. */
export const MatchErrorCode = {
  UNKNOWN_FIELD: "UNKNOWN_FIELD",
  BAD_VALUE: "BAD_VALUE",
  VALUE_TOO_WIDE: "VALUE_TOO_WIDE",
  MASK_NOT_ALLOWED: "MASK_NOT_ALLOWED",
  MISSING_PREREQUISITE: "MISSING_PREREQUISITE",
  BAD_SUBFIELD: "BAD_SUBFIELD",
  DUPLICATE_FIELD: "DUPLICATE_FIELD",
  UNSUPPORTED: "UNSUPPORTED",
} as const;

export type MatchErrorCode = (typeof MatchErrorCode)[keyof typeof MatchErrorCode];

export class MatchError extends Error {
  readonly code: MatchErrorCode;

  constructor(code: MatchErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MatchError";
    this.code = code;
  }
}
