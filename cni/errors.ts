// Error codes of the CNI specification (SPEC.md, "Error" section, spec 1.1.0) and the
// error type the binary and the agent exchange.

/** Error codes the specification reserves (0-99); 100 and above are plugin-specific. */
export const CniErrorCode = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENVIRONMENT: 4,
  IO_FAILURE: 5,
  DECODE_FAILURE: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  PLUGIN_NOT_AVAILABLE: 50,
  LIMITED_CONNECTIVITY: 51,
  /** Switchyard: the container already has this interface in another network namespace. */
  ALREADY_ATTACHED: 100,
  /** Switchyard: the node's pod CIDR has no free address. */
  ADDRESSES_EXHAUSTED: 101,
  /** Switchyard: the agent failed while creating or checking the attachment. */
  AGENT_FAILURE: 102,
  /** Switchyard: CHECK found the attachment different from what ADD created. */
  CHECK_FAILED: 103,
} as const;

export type CniErrorCodeValue = (typeof CniErrorCode)[keyof typeof CniErrorCode];

/** The JSON error object the specification defines, without cniVersion. */
export type CniErrorBody = { code: number; msg: string; details?: string };

/** An error that maps to one CNI error object; `code` is the specification's code. */
export class CniError extends Error {
  readonly code: number;
  readonly details: string | undefined;

  constructor(code: number, message: string, options?: ErrorOptions & { details?: string }) {
    super(message, options);
    this.name = "CniError";
    this.code = code;
    this.details = options?.details;
  }

  toBody(): CniErrorBody {
    const body: CniErrorBody = { code: this.code, msg: this.message };
    if (this.details !== undefined && this.details !== "") body.details = this.details;
    return body;
  }
}

/** Converts any thrown value into a CniError, keeping CniErrors unchanged. */
export function toCniError(error: unknown, fallbackCode: number): CniError {
  if (error instanceof CniError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CniError(fallbackCode, message, { cause: error });
}
