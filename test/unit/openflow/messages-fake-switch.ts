// A minimal OpenFlow switch on a unix socket, for tests. It replies to HELLO, ECHO, BARRIER,
// FEATURES, MULTIPART and BUNDLE_CONTROL with messages built here byte by byte from the
// specification (not with the codec under test). It records every message it receives.
// Tests can script other replies with `respond`.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ReceivedMessage {
  version: number;
  type: number;
  xid: number;
  bytes: Buffer;
}

export interface FakeSwitchOptions {
  /** Versions in our HELLO bitmap, whose header carries the highest. Default [4, 6]. */
  versions?: number[];
  /** Listen on a unix socket (default) or on TCP 127.0.0.1 with a kernel-chosen port. */
  listen?: "unix" | "tcp";
  /** Called for each message after recording; return replies to send instead of the default. */
  respond?: (message: ReceivedMessage, socket: Socket) => Buffer[] | undefined;
}

export interface FakeSwitch {
  path: string;
  /** unix:PATH or tcp:127.0.0.1:PORT. */
  address: string;
  received: ReceivedMessage[];
  /** Sockets currently connected. */
  sockets: Set<Socket>;
  close(): Promise<void>;
}

/** Builds a message: ofp_header (version, type, length, xid) followed by `body`. */
export function ofpMessage(version: number, type: number, xid: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt8(version, 0);
  header.writeUInt8(type, 1);
  header.writeUInt16BE(8 + body.length, 2);
  header.writeUInt32BE(xid, 4);
  return Buffer.concat([header, body]);
}

function hello(versions: number[]): Buffer {
  let bitmap = 0;
  for (const v of versions) bitmap |= 1 << v;
  const element = Buffer.alloc(8);
  element.writeUInt16BE(1, 0);
  element.writeUInt16BE(8, 2);
  element.writeUInt32BE(bitmap >>> 0, 4);
  return ofpMessage(Math.max(...versions), 0, 0, element);
}

function featuresReply(version: number, xid: number): Buffer {
  const body = Buffer.alloc(24);
  body.writeBigUInt64BE(0x0000505400000001n, 0);
  body.writeUInt32BE(0, 8);
  body.writeUInt8(254, 12);
  body.writeUInt32BE(0x4f, 16);
  return ofpMessage(version, 6, xid, body);
}

function defaultReplies(m: ReceivedMessage): Buffer[] {
  switch (m.type) {
    case 2: // ECHO_REQUEST -> ECHO_REPLY with the same payload
      return [ofpMessage(m.version, 3, m.xid, m.bytes.subarray(8))];
    case 5: // FEATURES_REQUEST
      return [featuresReply(m.version, m.xid)];
    case 18: {
      // MULTIPART_REQUEST -> an empty reply of the same type
      const body = Buffer.alloc(8);
      body.writeUInt16BE(m.bytes.readUInt16BE(8), 0);
      return [ofpMessage(m.version, 19, m.xid, body)];
    }
    case 20: // BARRIER_REQUEST
      return [ofpMessage(m.version, 21, m.xid)];
    case 33: {
      // BUNDLE_CONTROL request -> the matching reply type (request + 1)
      const body = Buffer.from(m.bytes.subarray(8, 16));
      body.writeUInt16BE(body.readUInt16BE(4) + 1, 4);
      return [ofpMessage(m.version, 33, m.xid, body)];
    }
    case 4: {
      // ONF bundle control in OpenFlow 1.3 (experimenter 0x4f4e4600, type 2300)
      if (m.bytes.readUInt32BE(8) !== 0x4f4e4600 || m.bytes.readUInt32BE(12) !== 2300) return [];
      const body = Buffer.from(m.bytes.subarray(8, 24));
      body.writeUInt16BE(body.readUInt16BE(12) + 1, 12);
      return [ofpMessage(m.version, 4, m.xid, body)];
    }
    default:
      return [];
  }
}

/** Starts a fake switch listening on a new unix socket in a temporary folder. */
export async function startFakeSwitch(options: FakeSwitchOptions = {}): Promise<FakeSwitch> {
  const dir = mkdtempSync(join(tmpdir(), "syo-fake-"));
  const path = join(dir, "switch.sock");
  const received: ReceivedMessage[] = [];
  const sockets = new Set<Socket>();
  const versions = options.versions ?? [4, 6];

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.write(hello(versions));
    let pending = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 8 && pending.length >= pending.readUInt16BE(2)) {
        const length = pending.readUInt16BE(2);
        const bytes = Buffer.from(pending.subarray(0, length));
        pending = pending.subarray(length);
        const message = { version: bytes.readUInt8(0), type: bytes.readUInt8(1), xid: bytes.readUInt32BE(4), bytes };
        received.push(message);
        const replies = options.respond?.(message, socket) ?? defaultReplies(message);
        for (const reply of replies) socket.write(reply);
      }
    });
  });
  let address = `unix:${path}`;
  if (options.listen === "tcp") {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const bound = server.address();
    if (bound === null || typeof bound === "string") throw new Error("the fake switch has no TCP address");
    address = `tcp:127.0.0.1:${bound.port}`;
  } else {
    await new Promise<void>((resolve) => server.listen(path, resolve));
  }

  return {
    path,
    address,
    received,
    sockets,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
