// Splits a byte stream (a socket) into whole OpenFlow messages. TCP and unix sockets deliver
// data in chunks with no relation to message boundaries, so a message may end in the middle
// of a chunk or span many chunks.
import { HEADER_LENGTH } from "./header.ts";

/** Raised when the stream carries a length field that cannot be a message. */
export class OpenFlowFramingError extends Error {
  readonly code = "ERR_OPENFLOW_FRAMING";
  readonly length: number;

  constructor(length: number) {
    super(
      `invalid OpenFlow message length ${length} in the stream (the minimum is ${HEADER_LENGTH}); ` +
        "the peer is not speaking OpenFlow or the stream lost its framing, so the connection must be reset",
    );
    this.name = "OpenFlowFramingError";
    this.length = length;
  }
}

/**
 * Collects chunks and returns each complete message as its own Buffer. Not safe to share
 * between connections: each connection owns one framer.
 */
export class MessageFramer {
  private pending: Buffer[] = [];
  private pendingLength = 0;

  /** Number of bytes received but not yet returned as part of a whole message. */
  get bufferedBytes(): number {
    return this.pendingLength;
  }

  /**
   * Adds a chunk and returns the messages it completes, in order. Throws
   * OpenFlowFramingError when a header has a length below 8; the stream cannot recover.
   */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length === 0) return [];
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    if (this.pendingLength < HEADER_LENGTH) return [];

    const data = this.pending.length === 1 ? chunk : Buffer.concat(this.pending, this.pendingLength);
    const messages: Buffer[] = [];
    let offset = 0;
    while (data.length - offset >= HEADER_LENGTH) {
      const length = data.readUInt16BE(offset + 2);
      if (length < HEADER_LENGTH) throw new OpenFlowFramingError(length);
      if (data.length - offset < length) break;
      messages.push(data.subarray(offset, offset + length));
      offset += length;
    }
    const rest = data.subarray(offset);
    this.pending = rest.length === 0 ? [] : [rest];
    this.pendingLength = rest.length;
    return messages;
  }
}
