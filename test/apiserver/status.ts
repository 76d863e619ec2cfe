/**
 * Kubernetes `Status` error bodies and the error class that carries them
 * from the store to the HTTP layer.
 */

/** The `reason` values of metav1.Status that this server sends. */
export type StatusReason =
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Invalid"
  | "BadRequest"
  | "Gone"
  | "Expired"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "UnsupportedMediaType"
  | "Timeout"
  | "InternalError";

/** The `details` field of metav1.Status. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason?: string; message?: string; field?: string }[];
  retryAfterSeconds?: number;
}

/** A metav1.Status object as sent on the wire. */
export interface StatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/**
 * An API request failure with the HTTP code and the Status reason that a
 * real kube-apiserver returns for the same case.
 */
export class ApiStatusError extends Error {
  readonly code: number;
  readonly reason: StatusReason;
  readonly details: StatusDetails | undefined;

  constructor(options: { code: number; reason: StatusReason; message: string; details?: StatusDetails; cause?: unknown }) {
    super(options.message, { cause: options.cause });
    this.name = "ApiStatusError";
    this.code = options.code;
    this.reason = options.reason;
    this.details = options.details;
  }

  toStatus(): StatusBody {
    const body: StatusBody = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details !== undefined) {
      body.details = this.details;
    }
    return body;
  }
}

/** Identifies an object in error messages the way the real server does: `pods "web-1"`. */
export interface ObjectRef {
  group: string;
  plural: string;
  kind: string;
  name: string;
}

function qualifiedResource(ref: ObjectRef): string {
  return ref.group === "" ? ref.plural : `${ref.plural}.${ref.group}`;
}

export function notFound(ref: ObjectRef): ApiStatusError {
  return new ApiStatusError({
    code: 404,
    reason: "NotFound",
    message: `${qualifiedResource(ref)} "${ref.name}" not found`,
    details: { name: ref.name, group: ref.group, kind: ref.plural },
  });
}

export function alreadyExists(ref: ObjectRef): ApiStatusError {
  return new ApiStatusError({
    code: 409,
    reason: "AlreadyExists",
    message: `${qualifiedResource(ref)} "${ref.name}" already exists`,
    details: { name: ref.name, group: ref.group, kind: ref.plural },
  });
}

export function conflict(ref: ObjectRef, detail: string): ApiStatusError {
  return new ApiStatusError({
    code: 409,
    reason: "Conflict",
    message: `Operation cannot be fulfilled on ${qualifiedResource(ref)} "${ref.name}": ${detail}`,
    details: { name: ref.name, group: ref.group, kind: ref.plural },
  });
}

/** Builds a 422 Invalid error whose `field` and `problem` become one entry of `details.causes`. */
export function invalid(options: { group: string; kind: string; name: string; field: string; problem: string }): ApiStatusError {
  return new ApiStatusError({
    code: 422,
    reason: "Invalid",
    message: `${options.kind} "${options.name}" is invalid: ${options.field}: ${options.problem}`,
    details: {
      name: options.name,
      group: options.group,
      kind: options.kind,
      causes: [{ reason: "FieldValueInvalid", message: options.problem, field: options.field }],
    },
  });
}

export function badRequest(message: string, cause?: unknown): ApiStatusError {
  return new ApiStatusError({ code: 400, reason: "BadRequest", message, cause });
}

/**
 * Builds a 410 for a resourceVersion older than the retained history. The real
 * server uses the reason `Expired` for this case (metav1.StatusReasonExpired);
 * clients such as client-go and client-node only look at the code.
 */
export function expired(message: string): ApiStatusError {
  return new ApiStatusError({ code: 410, reason: "Expired", message });
}

export function methodNotAllowed(method: string, path: string): ApiStatusError {
  return new ApiStatusError({
    code: 405,
    reason: "MethodNotAllowed",
    message: `the server does not allow this method on the requested resource: ${method} ${path}`,
  });
}
