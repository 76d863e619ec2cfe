// Writes to a socket while respecting its buffer: when write() reports the buffer full,
// later writes wait for 'drain', so a batch of 100,000 messages does not pile up in memory.
import type { Socket } from "node:net";
import { ConnectionErrorCode, OpenFlowConnectionError } from "./errors.ts";

export class SocketWriter {
  private readonly socket: Socket;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  /** True when the socket buffer is over its high-water mark. */
  get full(): boolean {
    return this.socket.writableNeedDrain;
  }

  /**
   * Waits until the socket buffer has room, then writes `bytes`. Rejects when the socket
   * closes first. Writes from concurrent callers keep the order of their calls.
   */
  async write(bytes: Buffer): Promise<void> {
    while (this.socket.writableNeedDrain) await this.drained();
    this.writeNow(bytes);
  }

  /** Writes without waiting (for small control messages such as echo replies and barriers). */
  writeNow(bytes: Buffer): void {
    if (this.socket.destroyed || !this.socket.writable) {
      throw new OpenFlowConnectionError(ConnectionErrorCode.CLOSED, "cannot write: the switch connection is closed");
    }
    this.socket.write(bytes);
  }

  private drained(): Promise<void> {
    const socket = this.socket;
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        socket.off("drain", onDrain);
        socket.off("close", onClose);
      };
      const onDrain = (): void => {
        cleanup();
        resolve();
      };
      const onClose = (): void => {
        cleanup();
        reject(new OpenFlowConnectionError(ConnectionErrorCode.CLOSED, "the switch connection closed while waiting to write"));
      };
      if (socket.destroyed) return onClose();
      socket.on("drain", onDrain);
      socket.on("close", onClose);
    });
  }
}
