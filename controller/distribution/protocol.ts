// Wire format of the distribution API between the controller and its agents.
//
// Transport: HTTPS with client certificates. The node name is the client certificate's
// subject CN. Endpoints:
//
//   GET  /v1/slices/watch?instance=ID&generation=N   newline-delimited JSON stream
//   POST /v1/status                                  JSON StatusReport, 204 on success
//   GET  /v1/status                                  JSON NodeStatus[] (operator certificate)
//   GET  /healthz                                    "ok" (no client certificate needed)
//
// A watch response (Content-Type application/x-ndjson) is a sequence of lines, each one JSON
// WatchMessage: first a "hello", then either one "snapshot" (mode "snapshot") or one "events"
// line carrying the missed events, possibly none (mode "resume"), then "events" lines as the
// slice changes and a "heartbeat" line after each idle interval.
import { StringDecoder } from "node:string_decoder";
import type { NodeSlice, SliceEvent } from "../networkpolicy/types.ts";

export const PROTOCOL_VERSION = 1;
export const WATCH_PATH = "/v1/slices/watch";
export const STATUS_PATH = "/v1/status";
export const HEALTH_PATH = "/healthz";
export const NDJSON_CONTENT_TYPE = "application/x-ndjson";

/** Reason the controller sends a snapshot instead of resuming. */
export type ResyncReason =
  /** The agent sent no instance or generation (first connection, or empty cache). */
  | "initial"
  /** The agent's state comes from another controller instance (the controller restarted). */
  | "instance-changed"
  /** The per-node event log no longer contains every event after the agent's generation. */
  | "log-truncated"
  /** The agent claims a generation the controller never reached. */
  | "generation-ahead";

export interface HelloMessage {
  type: "hello";
  protocol: number;
  node: string;
  /** Random id of this controller process; an agent sends it back to resume. */
  controllerInstance: string;
  mode: "snapshot" | "resume";
  /** Set when mode is "snapshot". */
  resyncReason?: ResyncReason;
  /** Generation of the agent's slice once it has applied the next message. */
  generation: number;
  /** Interval of heartbeat lines; an agent that hears nothing for several intervals reconnects. */
  heartbeatMs: number;
}

export interface SnapshotMessage {
  type: "snapshot";
  generation: number;
  slice: NodeSlice;
}

export interface EventsMessage {
  type: "events";
  /** Consecutive generations, in order. */
  events: SliceEvent[];
}

export interface HeartbeatMessage {
  type: "heartbeat";
  generation: number;
}

export type WatchMessage = HelloMessage | SnapshotMessage | EventsMessage | HeartbeatMessage;

/** Body of POST /v1/status: what the agent has realized in OVS. */
export interface StatusReport {
  /** Generation of the slice the report describes. */
  generation: number;
  /** Policy ids whose flows are installed. */
  realized: string[];
  /** Policies the agent could not install, with the reason. */
  failed: { policyId: string; message: string }[];
}

/** One node's entry in GET /v1/status. */
export interface NodeStatus {
  node: string;
  /** Generation the controller holds for the node. */
  controllerGeneration: number;
  /** Last report of the agent, absent when it never reported. */
  report?: StatusReport & { receivedAt: string };
  connectedAgents: number;
}

export const ProtocolErrorCode = {
  invalidJson: "PROTOCOL_INVALID_JSON",
  invalidMessage: "PROTOCOL_INVALID_MESSAGE",
  lineTooLong: "PROTOCOL_LINE_TOO_LONG",
  generationGap: "PROTOCOL_GENERATION_GAP",
} as const;
export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];

export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProtocolError";
    this.code = code;
  }
}

/** Serialises one message as a line. */
export function encodeMessage(message: WatchMessage): string {
  return `${JSON.stringify(message)}\n`;
}

/** Maximum line length, in UTF-16 code units, the decoder accepts: a snapshot of a large slice fits, a runaway stream does not. */
export const DEFAULT_MAX_LINE_LENGTH = 256 * 1024 * 1024;

/**
 * Splits a byte stream into lines, whatever the chunk boundaries (also inside a multi-byte
 * UTF-8 character). Keeps the unfinished tail between calls; one instance per stream.
 * Each chunk is scanned once, so a long snapshot line arriving in many chunks costs linear time.
 */
export class LineDecoder {
  private readonly text = new StringDecoder("utf8");
  private tail: string[] = [];
  private tailLength = 0;
  private readonly maxLineLength: number;

  constructor(options: { maxLineLength?: number } = {}) {
    this.maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  }

  /** Returns the complete lines ended by this chunk, without their "\n". Empty lines are skipped. */
  push(chunk: Buffer): string[] {
    const text = this.text.write(chunk);
    const lastNewline = text.lastIndexOf("\n");
    if (lastNewline < 0) {
      this.keep(text);
      return [];
    }
    const complete = this.tail.join("") + text.slice(0, lastNewline);
    this.tail = [];
    this.tailLength = 0;
    this.keep(text.slice(lastNewline + 1));
    return complete.split("\n").filter((line) => line.length > 0);
  }

  private keep(text: string): void {
    if (text.length === 0) return;
    this.tail.push(text);
    this.tailLength += text.length;
    if (this.tailLength > this.maxLineLength) {
      throw new ProtocolError(ProtocolErrorCode.lineTooLong, `watch line exceeds ${this.maxLineLength} characters without a newline`);
    }
  }
}

/** Parses and checks one watch line. Throws ProtocolError naming what is wrong. */
export function decodeMessage(line: string): WatchMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new ProtocolError(ProtocolErrorCode.invalidJson, `watch line is not JSON: ${preview(line)}`, { cause: error });
  }
  if (typeof value !== "object" || value === null) {
    throw new ProtocolError(ProtocolErrorCode.invalidMessage, `watch line is not a JSON object: ${preview(line)}`);
  }
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case "hello":
      requireFields(message, { protocol: "number", node: "string", controllerInstance: "string", mode: "string", generation: "number", heartbeatMs: "number" });
      if (message.mode !== "snapshot" && message.mode !== "resume") invalid(message, `mode ${JSON.stringify(message.mode)}`);
      return message as unknown as HelloMessage;
    case "snapshot":
      requireFields(message, { generation: "number", slice: "object" });
      return message as unknown as SnapshotMessage;
    case "events":
      if (!Array.isArray(message.events)) invalid(message, "events is not a list");
      for (const event of message.events as unknown[]) {
        if (typeof event !== "object" || event === null || typeof (event as { generation?: unknown }).generation !== "number") {
          invalid(message, "an event has no numeric generation");
        }
      }
      return message as unknown as EventsMessage;
    case "heartbeat":
      requireFields(message, { generation: "number" });
      return message as unknown as HeartbeatMessage;
    default:
      throw new ProtocolError(ProtocolErrorCode.invalidMessage, `unknown watch message type ${JSON.stringify(message.type)}`);
  }
}

function requireFields(message: Record<string, unknown>, fields: Record<string, "number" | "string" | "object">): void {
  for (const [name, kind] of Object.entries(fields)) {
    const value = message[name];
    if (typeof value !== kind || value === null) invalid(message, `field ${name} is missing or not a ${kind}`);
  }
}

function invalid(message: Record<string, unknown>, what: string): never {
  throw new ProtocolError(ProtocolErrorCode.invalidMessage, `invalid ${String(message.type)} message: ${what}`);
}

function preview(line: string): string {
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 77)}...` : line);
}
