// Error classes raised by the OVSDB client. Each carries a stable `code` so callers branch
// on the code, never on the message text.
import type { Operation, OperationResult } from "./protocol.ts";

export const OvsdbErrorCode = {
  ConnectionClosed: "OVSDB_CONNECTION_CLOSED",
  Timeout: "OVSDB_TIMEOUT",
  Rpc: "OVSDB_RPC_ERROR",
  Transaction: "OVSDB_TRANSACTION_FAILED",
  Framing: "OVSDB_FRAMING_ERROR",
  Schema: "OVSDB_SCHEMA_ERROR",
  Endpoint: "OVSDB_INVALID_ENDPOINT",
  Cancelled: "OVSDB_CANCELLED",
} as const;

export type OvsdbErrorCode = (typeof OvsdbErrorCode)[keyof typeof OvsdbErrorCode];

/** Base class of every error this package raises. */
export class OvsdbError extends Error {
  readonly code: OvsdbErrorCode;

  constructor(code: OvsdbErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A call could not complete because the connection closed before its reply arrived, or
 * the client was already closed or disconnected when the call was made.
 */
export class ConnectionClosedError extends OvsdbError {
  readonly method: string;

  constructor(method: string, reason: string, options?: ErrorOptions) {
    super(OvsdbErrorCode.ConnectionClosed, `OVSDB ${method} failed: connection closed (${reason})`, options);
    this.method = method;
  }
}

/** A call got no reply within its timeout. The request may still run on the server. */
export class TimeoutError extends OvsdbError {
  readonly method: string;
  readonly timeoutMs: number;

  constructor(method: string, timeoutMs: number, hint = "raise timeoutMs or check that ovsdb-server is responsive") {
    super(OvsdbErrorCode.Timeout, `OVSDB ${method} timed out after ${timeoutMs} ms; ${hint}`);
    this.method = method;
    this.timeoutMs = timeoutMs;
  }
}

/** The server replied with a JSON-RPC error (for example "unknown method" or "unknown database"). */
export class RpcError extends OvsdbError {
  readonly method: string;
  readonly error: unknown;

  constructor(method: string, error: unknown) {
    super(OvsdbErrorCode.Rpc, `OVSDB ${method} failed: server returned error ${JSON.stringify(error)}`);
    this.method = method;
    this.error = error;
  }

  /** Reports whether the server rejected the method name itself. */
  isUnknownMethod(): boolean {
    return this.error === "unknown method";
  }
}

export type TransactionErrorFields = {
  /** Index of the failing operation, or ops.length when the commit itself failed. */
  index: number;
  /** The failing operation; undefined when the commit (after all operations) failed. */
  operation: Operation | undefined;
  error: string;
  details: string | undefined;
  /** Every result the server returned, successful ones included. */
  results: OperationResult[];
};

/**
 * A transaction was rejected. Per RFC 7047 4.1.3 the failing operation's result carries
 * "error". When every operation succeeded but the commit failed, the server appends one
 * extra error result after the last operation's.
 */
export class TransactionError extends OvsdbError {
  readonly index: number;
  readonly operation: Operation | undefined;
  readonly error: string;
  readonly details: string | undefined;
  readonly results: OperationResult[];

  constructor(fields: TransactionErrorFields) {
    const where =
      fields.operation === undefined
        ? `commit after ${fields.index} operations`
        : `operation ${fields.index} (${fields.operation.op}${"table" in fields.operation ? ` on ${fields.operation.table}` : ""})`;
    const details = fields.details === undefined ? "" : `: ${fields.details}`;
    super(OvsdbErrorCode.Transaction, `OVSDB transaction failed at ${where}: ${fields.error}${details}`);
    this.index = fields.index;
    this.operation = fields.operation;
    this.error = fields.error;
    this.details = fields.details;
    this.results = fields.results;
  }
}

/** The byte stream from the server is not a sequence of JSON objects. */
export class FramingError extends OvsdbError {
  constructor(message: string, options?: ErrorOptions) {
    super(OvsdbErrorCode.Framing, message, options);
  }
}

/** A value, table or column does not match the database schema. */
export class SchemaError extends OvsdbError {
  constructor(message: string, options?: ErrorOptions) {
    super(OvsdbErrorCode.Schema, message, options);
  }
}

/** A call was abandoned because its AbortSignal fired. */
export class CancelledError extends OvsdbError {
  readonly method: string;

  constructor(method: string, options?: ErrorOptions) {
    super(OvsdbErrorCode.Cancelled, `OVSDB ${method} was cancelled by the caller`, options);
    this.method = method;
  }
}
