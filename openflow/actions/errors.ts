// Errors raised while parsing action text or encoding actions for a version. Decoding errors
// use OpenFlowDecodeError from the wire reader, which names the offset.

export type ActionErrorCode =
  /** The action or instruction name is not one ovs-ofctl accepts. */
  | "UNKNOWN_ACTION"
  /** An argument is missing, malformed or out of range. */
  | "BAD_ARGUMENT"
  /** The action or instruction does not exist in the requested OpenFlow version. */
  | "UNSUPPORTED_IN_VERSION"
  /** Instructions are duplicated, out of order, or mixed with drop or conjunction. */
  | "BAD_INSTRUCTION_ORDER";

/** A rejected action text or an action that cannot be encoded. The message names the fix. */
export class ActionError extends Error {
  readonly code: ActionErrorCode;

  constructor(code: ActionErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ActionError";
    this.code = code;
  }
}

/** Throws a BAD_ARGUMENT error for `action`, quoting the bad text and the expected form. */
export function badArgument(action: string, text: string, expected: string, options?: ErrorOptions): never {
  throw new ActionError("BAD_ARGUMENT", `invalid ${action} argument "${text}": expected ${expected}`, options);
}
