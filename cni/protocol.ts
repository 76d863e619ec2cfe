// Messages between the CNI binary and the agent's CNI server on the unix socket.
//
// Framing: the binary connects, writes one JSON request followed by "\n", and reads one
// JSON reply followed by "\n"; then the server closes the connection. The binary has
// already validated the environment and configuration, so the agent receives typed fields.
import type { PodArgs } from "./environment.ts";
import type { CniErrorBody } from "./errors.ts";
import type { CniDns, CniResult } from "./result.ts";
import type { ValidAttachment } from "./config.ts";

/** Bumped when a field changes meaning; the server rejects other values. */
export const PROTOCOL_VERSION = 1;
/** Largest request or reply the peer accepts, in bytes. */
export const MAX_MESSAGE_BYTES = 2 * 1024 * 1024;

export type AgentCommand = "ADD" | "DEL" | "CHECK" | "STATUS" | "GC";

export type AgentRequest = {
  protocol: typeof PROTOCOL_VERSION;
  command: AgentCommand;
  /** Network name from the configuration. */
  network: string;
  containerId?: string;
  netns?: string;
  ifName?: string;
  args: PodArgs;
  mtu?: number;
  dns?: CniDns;
  /** The previous result in the configuration's version, for CHECK. */
  prevResult?: Record<string, unknown>;
  /** GC: attachments to keep; undefined means "release nothing". */
  validAttachments?: ValidAttachment[];
};

export type AgentReply = { ok: true; result?: CniResult } | { ok: false; error: CniErrorBody };
