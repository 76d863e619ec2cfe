// Splits the OVSDB byte stream into JSON texts. ovsdb-server writes each JSON-RPC message
// as a bare JSON object with no delimiter or length prefix, so the only way to find a
// message boundary is to track nesting depth outside of strings. The scanner works on
// bytes: '{', '}', '[', ']', '"' and '\' are ASCII and never occur inside a multi-byte
// UTF-8 sequence, so a chunk boundary inside a character is harmless.
import { FramingError } from "./errors.ts";

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

function isJsonWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

export type JsonStreamScannerOptions = {
  /** Largest single message accepted, in bytes; a longer one raises FramingError. */
  maxMessageBytes?: number;
};

export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/**
 * Incremental scanner: feed it chunks with push() and it returns the complete top-level
 * JSON texts (objects or arrays) found so far, keeping any partial text for the next
 * chunk. One scanner per connection; it is not shared between streams.
 */
export class JsonStreamScanner {
  readonly #maxMessageBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #depth = 0;
  #inString = false;
  #escaped = false;

  constructor(options: JsonStreamScannerOptions = {}) {
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Bytes of an incomplete message held from earlier chunks. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /** Scans `chunk` and returns every JSON text it completes, in order. */
  push(chunk: Buffer): string[] {
    const texts: string[] = [];
    let start = this.#depth > 0 ? 0 : -1;
    // Most bytes of an OVSDB message are inside strings, so string contents are skipped
    // with indexOf instead of a byte loop. The next backslash position is cached, because
    // searching for it from every string start would rescan the chunk each time.
    let nextBackslash = -2;

    for (let i = 0; i < chunk.length; i++) {
      if (this.#inString) {
        if (this.#escaped) {
          this.#escaped = false;
          continue;
        }
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = chunk.indexOf(BACKSLASH, i);
        const quote = chunk.indexOf(QUOTE, i);
        if (nextBackslash !== -1 && (quote === -1 || nextBackslash < quote)) {
          // Skip up to the backslash; the loop's i++ then lands on the escaped byte.
          i = nextBackslash;
          this.#escaped = true;
          continue;
        }
        if (quote === -1) {
          break;
        }
        i = quote;
        this.#inString = false;
        continue;
      }
      const byte = chunk[i] as number;
      if (this.#depth === 0) {
        if (isJsonWhitespace(byte)) {
          continue;
        }
        if (byte !== OPEN_BRACE && byte !== OPEN_BRACKET) {
          throw new FramingError(
            `invalid OVSDB stream: expected '{' to start a message, got byte 0x${byte.toString(16).padStart(2, "0")}`,
          );
        }
        start = i;
      }
      if (byte === QUOTE) {
        this.#inString = true;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        this.#depth++;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        this.#depth--;
        if (this.#depth === 0) {
          texts.push(this.#takeMessage(chunk.subarray(start, i + 1)));
          start = -1;
        }
      }
    }

    if (start >= 0) {
      this.#keepPartial(chunk.subarray(start));
    }
    return texts;
  }

  #takeMessage(tail: Buffer): string {
    if (this.#pending.length === 0) {
      this.#checkSize(tail.length);
      return tail.toString("utf8");
    }
    this.#pending.push(tail);
    const whole = Buffer.concat(this.#pending, this.#pendingBytes + tail.length);
    this.#checkSize(whole.length);
    this.#pending = [];
    this.#pendingBytes = 0;
    return whole.toString("utf8");
  }

  #keepPartial(part: Buffer): void {
    this.#pending.push(part);
    this.#pendingBytes += part.length;
    this.#checkSize(this.#pendingBytes);
  }

  #checkSize(bytes: number): void {
    if (bytes > this.#maxMessageBytes) {
      throw new FramingError(
        `OVSDB message exceeds ${this.#maxMessageBytes} bytes; raise maxMessageBytes if the database is that large`,
      );
    }
  }
}
