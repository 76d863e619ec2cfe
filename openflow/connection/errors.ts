// Errors of the switch connection. OpenFlowError carries an error the switch sent, with the
// request that caused it. OpenFlowConnectionError covers the connection itself.
import { errorName, ERROR_TYPE_NAMES } from "../messages/error-codes.ts";
import type { ErrorMessage } from "../messages/types.ts";

/** An OFPT_ERROR reply, tied to the request that caused it. */
export class OpenFlowError extends Error {
  readonly code = "ERR_OPENFLOW_SWITCH_ERROR";
  /** ofp_error_msg type and code numbers, and their names as ovs-ofctl prints them. */
  readonly errorType: number;
  readonly errorCode: number;
  readonly typeName: string;
  readonly codeName: string;
  /** xid of the request the switch rejected. */
  readonly xid: number;
  /** The rejected request as ovs-ofctl would print it, or "" when unknown. */
  readonly requestText: string;

  constructor(reply: ErrorMessage, requestText: string, options?: ErrorOptions) {
    const codeName = errorName(reply);
    const typeName = ERROR_TYPE_NAMES[reply.type] ?? `OFPET(${reply.type})`;
    const request = requestText === "" ? `request xid=0x${reply.xid.toString(16)}` : requestText.trimEnd();
    super(`switch rejected ${request}: ${codeName} (${typeName})`, options);
    this.name = "OpenFlowError";
    this.errorType = reply.type;
    this.errorCode = reply.code;
    this.typeName = typeName;
    this.codeName = codeName;
    this.xid = reply.xid;
    this.requestText = requestText;
  }
}

export const ConnectionErrorCode = {
  /** The connection closed before the request completed. */
  CLOSED: "ERR_OPENFLOW_CLOSED",
  /** No reply within the request timeout. */
  TIMEOUT: "ERR_OPENFLOW_TIMEOUT",
  /** No common OpenFlow version, or the peer did not start with HELLO. */
  NEGOTIATION: "ERR_OPENFLOW_NEGOTIATION",
  /** The socket could not be opened. */
  CONNECT: "ERR_OPENFLOW_CONNECT",
  /** The peer sent bytes that are not valid OpenFlow. */
  PROTOCOL: "ERR_OPENFLOW_PROTOCOL",
} as const;

export type ConnectionErrorCode = (typeof ConnectionErrorCode)[keyof typeof ConnectionErrorCode];

export class OpenFlowConnectionError extends Error {
  readonly code: ConnectionErrorCode;

  constructor(code: ConnectionErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "OpenFlowConnectionError";
    this.code = code;
  }
}

/** A bundle whose commit failed; `cause` is the switch's error for the first failing message. */
export class OpenFlowBundleError extends Error {
  readonly code = "ERR_OPENFLOW_BUNDLE";
  readonly bundleId: number;
  /** Index in the caller's list of the message that failed, when the switch named one. */
  readonly failedIndex: number | undefined;

  constructor(fields: { bundleId: number; failedIndex: number | undefined; detail: string }, options?: ErrorOptions) {
    super(`bundle 0x${fields.bundleId.toString(16)} was not committed, nothing from it is installed: ${fields.detail}`, options);
    this.name = "OpenFlowBundleError";
    this.bundleId = fields.bundleId;
    this.failedIndex = fields.failedIndex;
  }
}
