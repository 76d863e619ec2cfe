// One OpenFlow connection to a switch (a bridge's .mgmt unix socket or a TCP address):
// version negotiation, request/reply correlation by xid, multipart reassembly, barriers,
// bundles, back-pressure, echo keepalive, reconnection and packet-in events.
//
// Requests fall in two groups. Those with a reply (features, multipart, barrier, bundle
// control) resolve with the reply. Those without one (flow_mod, group_mod, packet_out...)
// resolve when a later barrier reply arrives: the switch processes messages in order, so
// an error for such a message always arrives before the barrier reply that follows it.
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import { OFPBCT, OFPBF } from "../messages/bundle.ts";
import { decodeMessage, encodeMessage, writeMessage } from "../messages/codec.ts";
import { OFPMPF_MORE } from "../messages/constants.ts";
import { OFPET } from "../messages/error-codes.ts";
import { peekHeader } from "../messages/header.ts";
import { mergeReplyBodies } from "../messages/multipart.ts";
import { NXPIF } from "../messages/nicira.ts";
import { MessageFramer } from "../messages/stream.ts";
import type {
  ErrorMessage,
  FlowRemovedMessage,
  FlowStats,
  GroupDesc,
  HelloMessage,
  MessageBody,
  MultipartReplyBody,
  MultipartRequestBody,
  OpenFlowMessage,
  PacketIn2Message,
  PacketInMessage,
  PortStatusMessage,
} from "../messages/types.ts";
import type { Match } from "../match/index.ts";
import { formatMessage } from "../print/ofp-print.ts";
import type { OpenFlowVersion } from "../version.ts";
import { BufferWriter } from "../wire/writer.ts";
import { formatSwitchAddress, parseSwitchAddress } from "./address.ts";
import type { SwitchAddress } from "./address.ts";
import { ConnectionErrorCode, OpenFlowConnectionError, OpenFlowError } from "./errors.ts";
import { bundleFailure, safeFormat } from "./bundle-tracker.ts";
import type { BundleTracker } from "./bundle-tracker.ts";
import { buildHello, chooseVersion, SUPPORTED_VERSIONS } from "./negotiation.ts";
import { openSocket } from "./open-socket.ts";
import { SocketWriter } from "./socket-writer.ts";
import { OpenFlowTracer } from "./trace.ts";
import type { TraceSink } from "./trace.ts";

export interface ConnectionOptions {
  /** unix:PATH, tcp:HOST:PORT, a .mgmt socket path, or a parsed address. */
  address: string | SwitchAddress;
  /** Versions to offer; the highest one the switch also supports is used. Default: 1.5 and 1.3. */
  versions?: readonly OpenFlowVersion[];
  /** Idle time after which an echo request is sent, in milliseconds. Default 5000; 0 disables keepalive. */
  echoIntervalMs?: number;
  /** Silence after which the switch is declared dead and the socket closed, in milliseconds. Default 15000. */
  deadPeerTimeoutMs?: number;
  /** Time a request waits for its reply (or covering barrier), in milliseconds. Default 120000. */
  requestTimeoutMs?: number;
  /** Time allowed to open the socket and negotiate, in milliseconds. Default 5000. */
  connectTimeoutMs?: number;
  /** Maximum requests awaiting a reply at once; further requests wait for a slot. Default 256. */
  maxOutstandingRequests?: number;
  /** Reconnect after the connection drops; false disables. Default: 100 ms doubling up to 5000 ms. */
  reconnect?: false | { initialDelayMs?: number; maxDelayMs?: number };
  /**
   * Ask for packet-ins: sets miss_send_len with SET_CONFIG and the NXT_PACKET_IN2 format, so
   * controller(userdata=...) data arrives. Off by default, because on a .mgmt connection it
   * also makes the switch send table-miss packets here.
   */
  packetIn?: { missSendLen?: number };
  /** Receives trace lines; by default tracing follows SWITCHYARD_TRACE=openflow. */
  trace?: TraceSink;
}

/** Events: see the `on` overloads. */
export interface ConnectionEvents {
  /** Negotiation finished for the first time. */
  connected: [{ version: OpenFlowVersion; datapathId: bigint }];
  /** The connection came back after a drop; the switch may have lost state, so replay flows. */
  reconnected: [{ version: OpenFlowVersion; datapathId: bigint }];
  /** The connection dropped; pending requests were rejected. Reconnection follows if enabled. */
  disconnected: [{ error: Error | undefined }];
  packetIn: [PacketIn2Message | PacketInMessage];
  portStatus: [PortStatusMessage];
  flowRemoved: [FlowRemovedMessage];
  /** An error from the switch that matches no outstanding request. */
  switchError: [OpenFlowError];
  /** A message from the switch that could not be decoded; the connection stays up. */
  decodeError: [Error];
}

interface PendingReply {
  request: OpenFlowMessage;
  resolve: (reply: OpenFlowMessage) => void;
  reject: (error: Error) => void;
  parts: MultipartReplyBody[];
  timer: NodeJS.Timeout | undefined;
}

interface PendingUnacked {
  xid: number;
  sequence: number;
  request: OpenFlowMessage;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Request kinds the switch replies to, with the same xid in the reply. */
const REPLY_KINDS: ReadonlySet<OpenFlowMessage["kind"]> = new Set([
  "echo_request",
  "features_request",
  "get_config_request",
  "barrier_request",
  "multipart_request",
  "role_request",
  "bundle_control",
]);

const DEFAULTS = {
  echoIntervalMs: 5000,
  deadPeerTimeoutMs: 15000,
  requestTimeoutMs: 120_000,
  connectTimeoutMs: 5000,
  maxOutstandingRequests: 256,
  reconnectInitialDelayMs: 100,
  reconnectMaxDelayMs: 5000,
  /** Bytes of bundle_add messages gathered before one socket write. */
  batchBytes: 256 * 1024,
} as const;

/**
 * A connection to one switch. Methods are safe to call concurrently: xids are unique,
 * messages go out in call order, and each reply settles only its own request. Nothing is
 * printed; errors reach callers as rejected promises or events.
 */
export class OpenFlowConnection extends EventEmitter<ConnectionEvents> {
  readonly address: SwitchAddress;
  private readonly options: ConnectionOptions;
  private readonly tracer: OpenFlowTracer;
  private socket: Socket | undefined;
  private writer: SocketWriter | undefined;
  private framer = new MessageFramer();
  private negotiated: OpenFlowVersion | undefined;
  private datapath = 0n;
  private nextXid = 1;
  private sequence = 0;
  private nextBundleId = 1;
  private readonly pending = new Map<number, PendingReply>();
  private unacked: PendingUnacked[] = [];
  /** Send sequence number of each barrier awaiting its reply, keyed by xid. */
  private readonly barrierSequences = new Map<number, number>();
  private barrierScheduled = false;
  private readonly bundles = new Set<BundleTracker>();
  private outstanding = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private lastReceived = Date.now();
  private keepalive: NodeJS.Timeout | undefined;
  private closing = false;
  private everConnected = false;
  private reconnectDelay: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private helloWaiter: ((hello: HelloMessage) => void) | undefined;

  private constructor(options: ConnectionOptions) {
    super();
    this.options = options;
    this.address = typeof options.address === "string" ? parseSwitchAddress(options.address) : options.address;
    this.tracer = new OpenFlowTracer({ sink: options.trace });
    this.reconnectDelay = this.reconnectSettings()?.initialDelayMs ?? DEFAULTS.reconnectInitialDelayMs;
  }

  /**
   * Opens a connection and negotiates a version. Resolves once the switch replied to
   * FEATURES_REQUEST and, when requested, to the packet-in setup. Rejects with an
   * OpenFlowConnectionError when the socket cannot be opened or no version is common.
   */
  static async connect(options: ConnectionOptions): Promise<OpenFlowConnection> {
    const connection = new OpenFlowConnection(options);
    await connection.establish();
    connection.everConnected = true;
    connection.emit("connected", { version: connection.version, datapathId: connection.datapathId });
    return connection;
  }

  /** The negotiated OpenFlow version. */
  get version(): OpenFlowVersion {
    if (this.negotiated === undefined) {
      throw new OpenFlowConnectionError(ConnectionErrorCode.CLOSED, "the switch connection has not negotiated a version yet");
    }
    return this.negotiated;
  }

  get datapathId(): bigint {
    return this.datapath;
  }

  /** True while the socket is open and negotiated. */
  get isConnected(): boolean {
    return this.negotiated !== undefined && this.socket !== undefined && !this.socket.destroyed;
  }

  private reconnectSettings(): { initialDelayMs: number; maxDelayMs: number } | undefined {
    const setting = this.options.reconnect;
    if (setting === false) return undefined;
    return {
      initialDelayMs: setting?.initialDelayMs ?? DEFAULTS.reconnectInitialDelayMs,
      maxDelayMs: setting?.maxDelayMs ?? DEFAULTS.reconnectMaxDelayMs,
    };
  }

  // ---- connection setup -------------------------------------------------------------

  private async establish(): Promise<void> {
    const socket = await openSocket(this.address, this.options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs);
    this.socket = socket;
    this.writer = new SocketWriter(socket);
    this.framer = new MessageFramer();
    this.negotiated = undefined;
    this.lastReceived = Date.now();
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => {
      // The 'close' event follows and handles the failure.
    });
    socket.on("close", () => this.onClose(socket));

    try {
      await this.negotiate();
      const features = expectKind(await this.request({ kind: "features_request" }), "features_reply");
      this.datapath = features.datapathId;
      await this.configurePacketIn();
    } catch (error) {
      this.abandonSocket(socket, error as Error);
      throw error;
    }
    this.startKeepalive();
  }

  /**
   * Drops a socket whose setup failed. The socket stops being the current one first, so its
   * 'close' event neither emits `disconnected` nor schedules a second reconnection.
   */
  private abandonSocket(socket: Socket, error: Error): void {
    this.socket = undefined;
    this.writer = undefined;
    this.negotiated = undefined;
    this.helloWaiter = undefined;
    this.failOutstanding(error);
    socket.destroy();
  }

  /** Rejects every request still waiting for a reply or a barrier. */
  private failOutstanding(error: Error): void {
    for (const [xid, pending] of [...this.pending]) this.settle(xid, pending, error);
    for (const entry of this.unacked) entry.reject(error);
    this.unacked = [];
    this.barrierSequences.clear();
    this.barrierScheduled = false;
  }

  private async negotiate(): Promise<void> {
    const versions = this.options.versions ?? SUPPORTED_VERSIONS;
    const timeoutMs = this.options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
    const peerHello = new Promise<HelloMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.helloWaiter = undefined;
        reject(new OpenFlowConnectionError(ConnectionErrorCode.NEGOTIATION, `no HELLO from ${formatSwitchAddress(this.address)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.helloWaiter = (hello) => {
        clearTimeout(timer);
        resolve(hello);
      };
    });
    this.sendRaw(buildHello(versions, this.allocateXid()));
    const hello = await peerHello;
    const chosen = chooseVersion(versions, hello);
    if (chosen === undefined) {
      const peer = hello.bitmapVersions?.join(", ") ?? `up to ${hello.version}`;
      const failure: ErrorMessage = {
        kind: "error",
        version: hello.version,
        xid: hello.xid,
        type: OFPET.HELLO_FAILED,
        code: 0,
        data: Buffer.from(`no common OpenFlow version (we support ${versions.join(", ")})`),
      };
      this.sendRaw(failure);
      throw new OpenFlowConnectionError(
        ConnectionErrorCode.NEGOTIATION,
        `no common OpenFlow version with ${formatSwitchAddress(this.address)}: it supports ${peer}, we offer ${versions.join(", ")}; ` +
          "set the bridge's protocols to include OpenFlow13 or OpenFlow15",
      );
    }
    this.negotiated = chosen;
    this.tracer.event(`negotiated version ${chosen} with ${formatSwitchAddress(this.address)}`);
  }

  private async configurePacketIn(): Promise<void> {
    const packetIn = this.options.packetIn;
    if (packetIn === undefined) return;
    this.post({ kind: "nx_set_packet_in_format", format: NXPIF.NXT_PACKET_IN2 }).catch(() => undefined);
    const config = this.post({ kind: "set_config", flags: 0, missSendLen: packetIn.missSendLen ?? 0xffff });
    await this.barrier();
    await config;
  }

  private startKeepalive(): void {
    const interval = this.options.echoIntervalMs ?? DEFAULTS.echoIntervalMs;
    if (interval === 0) return;
    const deadAfter = this.options.deadPeerTimeoutMs ?? DEFAULTS.deadPeerTimeoutMs;
    this.stopKeepalive();
    this.keepalive = setInterval(() => {
      const silent = Date.now() - this.lastReceived;
      if (silent >= deadAfter) {
        this.tracer.event(`no message for ${silent} ms, closing ${formatSwitchAddress(this.address)}`);
        this.socket?.destroy(
          new OpenFlowConnectionError(ConnectionErrorCode.TIMEOUT, `switch ${formatSwitchAddress(this.address)} sent nothing for ${silent} ms`),
        );
      } else if (silent >= interval && this.negotiated !== undefined) {
        this.trySendRaw({ kind: "echo_request", version: this.negotiated, xid: this.allocateXid(), data: Buffer.alloc(0) });
      }
    }, Math.max(10, Math.floor(interval / 2)));
    this.keepalive.unref();
  }

  private stopKeepalive(): void {
    if (this.keepalive !== undefined) clearInterval(this.keepalive);
    this.keepalive = undefined;
  }

  // ---- receiving ----------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.lastReceived = Date.now();
    let messages: Buffer[];
    try {
      messages = this.framer.push(chunk);
    } catch (error) {
      this.socket?.destroy(
        new OpenFlowConnectionError(ConnectionErrorCode.PROTOCOL, "the switch sent a stream that is not OpenFlow", { cause: error }),
      );
      return;
    }
    for (const bytes of messages) this.onMessageBytes(bytes);
  }

  private onMessageBytes(bytes: Buffer): void {
    let message: OpenFlowMessage;
    try {
      message = decodeMessage(bytes);
    } catch (error) {
      const xid = peekHeader(bytes).xid;
      const pending = this.pending.get(xid);
      const wrapped = new OpenFlowConnectionError(
        ConnectionErrorCode.PROTOCOL,
        `cannot decode a message from the switch (xid=0x${xid.toString(16)}): ${(error as Error).message}`,
        { cause: error },
      );
      if (pending !== undefined) this.settle(xid, pending, wrapped);
      else this.emit("decodeError", wrapped);
      return;
    }
    this.tracer.message("recv", bytes, () => formatMessage(message).trimEnd());
    this.dispatch(message);
  }

  private dispatch(message: OpenFlowMessage): void {
    switch (message.kind) {
      case "hello":
        this.helloWaiter?.(message);
        this.helloWaiter = undefined;
        return;
      case "echo_request":
        this.trySendRaw({ kind: "echo_reply", version: message.version, xid: message.xid, data: message.data });
        return;
      case "echo_reply":
        this.onReply(message);
        return;
      case "error":
        this.onError(message);
        return;
      case "packet_in":
      case "nx_packet_in2":
        this.emit("packetIn", message);
        return;
      case "port_status":
        this.emit("portStatus", message);
        return;
      case "flow_removed":
        this.emit("flowRemoved", message);
        return;
      case "barrier_reply":
        this.acknowledgeUpTo(message.xid);
        this.onReply(message);
        return;
      default:
        this.onReply(message);
    }
  }

  private onReply(message: OpenFlowMessage): void {
    const pending = this.pending.get(message.xid);
    if (pending === undefined) return;
    if (message.kind === "multipart_reply") {
      pending.parts.push(message.body);
      if ((message.flags & OFPMPF_MORE) !== 0) return;
      let merged: MultipartReplyBody;
      try {
        merged = mergeReplyBodies(pending.parts);
      } catch (error) {
        this.settle(message.xid, pending, error as Error);
        return;
      }
      this.settle(message.xid, pending, { ...message, flags: 0, body: merged });
      return;
    }
    this.settle(message.xid, pending, message);
  }

  private onError(message: ErrorMessage): void {
    for (const bundle of this.bundles) {
      const index = bundle.indexByXid.get(message.xid);
      if (index !== undefined) {
        bundle.errors.push({ index, error: message });
        return;
      }
    }
    const pending = this.pending.get(message.xid);
    if (pending !== undefined) {
      this.settle(message.xid, pending, new OpenFlowError(message, safeFormat(pending.request)));
      return;
    }
    const position = this.unacked.findIndex((entry) => entry.xid === message.xid);
    if (position !== -1) {
      const [entry] = this.unacked.splice(position, 1);
      entry?.reject(new OpenFlowError(message, safeFormat(entry.request)));
      return;
    }
    this.emit("switchError", new OpenFlowError(message, ""));
  }

  /** Resolves every reply-less request sent before the barrier whose reply has `xid`. */
  private acknowledgeUpTo(barrierXid: number): void {
    const limit = this.pendingBarrierSequence(barrierXid);
    if (limit === undefined) return;
    const remaining: PendingUnacked[] = [];
    for (const entry of this.unacked) {
      if (entry.sequence < limit) entry.resolve();
      else remaining.push(entry);
    }
    this.unacked = remaining;
  }

  private pendingBarrierSequence(xid: number): number | undefined {
    const sequence = this.barrierSequences.get(xid);
    this.barrierSequences.delete(xid);
    return sequence;
  }

  private settle(xid: number, pending: PendingReply, outcome: OpenFlowMessage | Error): void {
    this.pending.delete(xid);
    if (pending.timer !== undefined) clearTimeout(pending.timer);
    this.releaseSlot();
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome);
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket) return;
    this.stopKeepalive();
    const error = new OpenFlowConnectionError(ConnectionErrorCode.CLOSED, `connection to ${formatSwitchAddress(this.address)} closed`);
    const wasNegotiated = this.negotiated !== undefined;
    this.negotiated = undefined;
    this.failOutstanding(error);
    this.helloWaiter = undefined;
    if (this.closing) return;
    if (wasNegotiated) this.emit("disconnected", { error: undefined });
    if (this.everConnected) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const settings = this.reconnectSettings();
    if (settings === undefined || this.closing) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(settings.maxDelayMs, delay * 2);
    this.tracer.event(`reconnecting to ${formatSwitchAddress(this.address)} in ${delay} ms`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.establish().then(
        () => {
          this.reconnectDelay = settings.initialDelayMs;
          this.emit("reconnected", { version: this.version, datapathId: this.datapathId });
        },
        () => this.scheduleReconnect(),
      );
    }, delay);
  }

  // ---- sending ------------------------------------------------------------------------

  private allocateXid(): number {
    const xid = this.nextXid;
    this.nextXid = this.nextXid >= 0xffffffff ? 1 : this.nextXid + 1;
    return xid;
  }

  private sendRaw(message: OpenFlowMessage): void {
    const bytes = encodeMessage(message);
    this.tracer.message("send", bytes, () => formatMessage(message).trimEnd());
    if (this.writer === undefined) {
      throw new OpenFlowConnectionError(ConnectionErrorCode.CLOSED, "the switch connection is not open");
    }
    this.writer.writeNow(bytes);
  }

  private trySendRaw(message: OpenFlowMessage): void {
    try {
      this.sendRaw(message);
    } catch {
      // The socket is closing; 'close' handles the outstanding requests.
    }
  }

  private async acquireSlot(): Promise<void> {
    const limit = this.options.maxOutstandingRequests ?? DEFAULTS.maxOutstandingRequests;
    while (this.outstanding >= limit) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    this.outstanding += 1;
  }

  private releaseSlot(): void {
    this.outstanding -= 1;
    this.slotWaiters.shift()?.();
  }

  private withHeader(body: MessageBody, xid: number): OpenFlowMessage {
    return { ...body, version: this.version, xid } as OpenFlowMessage;
  }

  /**
   * Sends a request that has a reply and resolves with the reply (multipart parts merged).
   * Rejects with OpenFlowError when the switch replies with an error.
   */
  async request(body: MessageBody): Promise<OpenFlowMessage> {
    if (!REPLY_KINDS.has(body.kind)) {
      throw new TypeError(`a ${body.kind} message has no reply, so send it with post() instead of request()`);
    }
    await this.acquireSlot();
    const xid = this.allocateXid();
    let message: OpenFlowMessage;
    try {
      message = this.withHeader(body, xid);
    } catch (error) {
      this.releaseSlot();
      throw error;
    }
    const timeoutMs = this.options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs;
    const reply = new Promise<OpenFlowMessage>((resolve, reject) => {
      const entry: PendingReply = { request: message, resolve, reject, parts: [], timer: undefined };
      entry.timer = setTimeout(() => {
        this.settle(xid, entry, new OpenFlowConnectionError(ConnectionErrorCode.TIMEOUT, `no reply within ${timeoutMs} ms to ${safeFormat(message).trimEnd()}`));
      }, timeoutMs);
      entry.timer.unref();
      this.pending.set(xid, entry);
    });
    if (message.kind === "barrier_request") this.barrierSequences.set(xid, this.sequence++);
    else this.sequence += 1;
    try {
      const bytes = encodeMessage(message);
      this.tracer.message("send", bytes, () => formatMessage(message).trimEnd());
      if (this.writer === undefined) throw new OpenFlowConnectionError(ConnectionErrorCode.CLOSED, "the switch connection is not open");
      await this.writer.write(bytes);
    } catch (error) {
      const entry = this.pending.get(xid);
      if (entry !== undefined) this.settle(xid, entry, error as Error);
    }
    return reply;
  }

  /**
   * Sends a message that has no reply (flow_mod, group_mod, meter_mod, packet_out, ...).
   * Resolves once the reply to a barrier sent after it arrives, which proves the switch
   * applied it. Rejects with OpenFlowError naming this message when the switch reported an error for it.
   * A barrier is sent automatically after the current burst of posts.
   */
  async post(body: MessageBody): Promise<void> {
    const xid = this.allocateXid();
    const message = this.withHeader(body, xid);
    const bytes = encodeMessage(message);
    if (this.writer === undefined) throw new OpenFlowConnectionError(ConnectionErrorCode.CLOSED, "the switch connection is not open");
    const sequence = this.sequence++;
    const done = new Promise<void>((resolve, reject) => {
      this.unacked.push({ xid, sequence, request: message, resolve, reject });
    });
    // When the write itself fails, the close handler rejects `done` later and no caller
    // awaits it. This handler keeps that from being an unhandled rejection.
    done.catch(() => undefined);
    this.tracer.message("send", bytes, () => formatMessage(message).trimEnd());
    const written = this.writer.write(bytes);
    this.scheduleBarrier();
    await written;
    return done;
  }

  private scheduleBarrier(): void {
    if (this.barrierScheduled) return;
    this.barrierScheduled = true;
    setImmediate(() => {
      this.barrierScheduled = false;
      if (this.unacked.length === 0 || !this.isConnected) return;
      this.barrier().catch(() => undefined);
    });
  }

  /** Sends a barrier and resolves when the switch has processed every earlier message. */
  async barrier(): Promise<void> {
    await this.request({ kind: "barrier_request" });
  }

  /** Sends a multipart request and resolves with the reassembled reply body. */
  async multipart(body: MultipartRequestBody): Promise<MultipartReplyBody> {
    const reply = expectKind(await this.request({ kind: "multipart_request", flags: 0, body }), "multipart_reply");
    return reply.body;
  }

  /** Returns the flows of one table (or all tables) matching `match` (default: all). */
  async dumpFlows(options: { tableId?: number; match?: Match } = {}): Promise<FlowStats[]> {
    const body = await this.multipart({
      stat: "flow",
      tableId: options.tableId ?? 0xff,
      outPort: 0xffffffff,
      outGroup: 0xffffffff,
      cookie: 0n,
      cookieMask: 0n,
      match: options.match ?? { entries: [] },
    });
    return body.stat === "flow" ? body.flows : [];
  }

  /** Returns every group's description. */
  async dumpGroups(): Promise<GroupDesc[]> {
    const body = await this.multipart({ stat: "group_desc", groupId: 0xfffffffc });
    return body.stat === "group_desc" ? body.groups : [];
  }

  /**
   * Applies `messages` as one atomic, ordered bundle: all of them take effect or none do.
   * The messages are sent as bundle adds in large writes that respect the socket buffer.
   * Rejects with OpenFlowBundleError naming the first failing message (its index in
   * `messages` and its text), after discarding the bundle.
   */
  async bundle(messages: readonly MessageBody[]): Promise<void> {
    const bundleId = this.nextBundleId;
    this.nextBundleId = this.nextBundleId >= 0xffffffff ? 1 : this.nextBundleId + 1;
    const flags = OFPBF.ATOMIC | OFPBF.ORDERED;
    const tracker: BundleTracker = { indexByXid: new Map(), messages, errors: [] };
    this.bundles.add(tracker);
    try {
      await this.request({ kind: "bundle_control", bundleId, controlType: OFPBCT.OPEN_REQUEST, flags });
      await this.writeBundleAdds({ bundleId, flags, messages, tracker });
      await this.barrier();
      if (tracker.errors.length > 0) {
        await this.request({ kind: "bundle_control", bundleId, controlType: OFPBCT.DISCARD_REQUEST, flags }).catch(() => undefined);
        throw bundleFailure({ bundleId, tracker, commitError: undefined, version: this.version });
      }
      try {
        await this.request({ kind: "bundle_control", bundleId, controlType: OFPBCT.COMMIT_REQUEST, flags });
      } catch (error) {
        if (error instanceof OpenFlowError) throw bundleFailure({ bundleId, tracker, commitError: error, version: this.version });
        throw error;
      }
    } finally {
      this.bundles.delete(tracker);
    }
  }

  private async writeBundleAdds(fields: {
    bundleId: number;
    flags: number;
    messages: readonly MessageBody[];
    tracker: BundleTracker;
  }): Promise<void> {
    if (this.writer === undefined) throw new OpenFlowConnectionError(ConnectionErrorCode.CLOSED, "the switch connection is not open");
    const version = this.version;
    let w = new BufferWriter(DEFAULTS.batchBytes + 4096);
    for (let index = 0; index < fields.messages.length; index += 1) {
      const body = fields.messages[index];
      if (body === undefined) continue;
      const xid = this.allocateXid();
      this.sequence += 1;
      fields.tracker.indexByXid.set(xid, index);
      const inner = { ...body, version, xid } as OpenFlowMessage;
      const start = w.length;
      writeMessage(w, { kind: "bundle_add", version, xid, bundleId: fields.bundleId, flags: fields.flags, message: inner });
      if (this.tracer.enabled) {
        const bytes = w.toBuffer().subarray(start);
        this.tracer.message("send", bytes, () => `bundle add ${index}: ${safeFormat(inner).trimEnd()}`);
      }
      if (w.length >= DEFAULTS.batchBytes) {
        await this.writer.write(w.toBuffer());
        w = new BufferWriter(DEFAULTS.batchBytes + 4096);
      }
    }
    if (w.length > 0) await this.writer.write(w.toBuffer());
  }

  /** Closes the connection without reconnecting. Pending requests are rejected. Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    this.stopKeepalive();
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once("close", () => resolve());
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }
}

/** Narrows a reply to the expected kind; any other kind is a protocol error. */
function expectKind<K extends OpenFlowMessage["kind"]>(reply: OpenFlowMessage, kind: K): Extract<OpenFlowMessage, { kind: K }> {
  if (reply.kind !== kind) {
    throw new OpenFlowConnectionError(ConnectionErrorCode.PROTOCOL, `expected a ${kind} reply but the switch sent ${reply.kind}`);
  }
  return reply as Extract<OpenFlowMessage, { kind: K }>;
}


