// Bookkeeping for one bundle being added: which caller message each bundle add carries, and
// the errors the switch returned for them, so a failed commit names the failing message.
import type { ErrorMessage, MessageBody, OpenFlowMessage } from "../messages/types.ts";
import { formatMessage } from "../print/ofp-print.ts";
import type { OpenFlowVersion } from "../version.ts";
import { OpenFlowBundleError, OpenFlowError } from "./errors.ts";

export interface BundleTracker {
  /** Index in `messages` of the message each bundle add carries, keyed by the add's xid. */
  indexByXid: Map<number, number>;
  messages: readonly MessageBody[];
  /** Errors the switch sent for bundle adds, in arrival order. */
  errors: { index: number; error: ErrorMessage }[];
}

/** Formats a message for an error text, falling back to its kind and xid. */
export function safeFormat(message: OpenFlowMessage): string {
  try {
    return formatMessage(message);
  } catch {
    return `${message.kind} (xid=0x${message.xid.toString(16)})`;
  }
}

/**
 * Builds the error for a bundle that was not committed: it names the first failing message
 * (by index and text) when the switch reported one, or else carries the commit error.
 */
export function bundleFailure(fields: {
  bundleId: number;
  tracker: BundleTracker;
  commitError: OpenFlowError | undefined;
  version: OpenFlowVersion;
}): OpenFlowBundleError {
  const { bundleId, tracker, commitError, version } = fields;
  const first = [...tracker.errors].sort((a, b) => a.index - b.index)[0];
  if (first === undefined) {
    return new OpenFlowBundleError(
      { bundleId, failedIndex: undefined, detail: commitError?.message ?? "the switch rejected the commit" },
      { cause: commitError },
    );
  }
  const body = tracker.messages[first.index];
  const text = body === undefined ? "" : safeFormat({ ...body, version, xid: first.error.xid } as OpenFlowMessage).trimEnd();
  const cause = new OpenFlowError(first.error, text);
  return new OpenFlowBundleError(
    { bundleId, failedIndex: first.index, detail: `message ${first.index} failed with ${cause.codeName}: ${text}` },
    { cause },
  );
}
