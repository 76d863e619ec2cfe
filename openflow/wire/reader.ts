// A bounds-checked big-endian reader for OpenFlow messages. Every read checks that the bytes
// exist; a short read throws an OpenFlowDecodeError that names the structure being decoded,
// the offset and how many bytes were missing.

export class OpenFlowDecodeError extends Error {
  readonly context: string;
  readonly offset: number;

  constructor(context: string, offset: number, problem: string, options?: ErrorOptions) {
    super(`cannot decode ${context} at offset ${offset}: ${problem}`, options);
    this.name = "OpenFlowDecodeError";
    this.context = context;
    this.offset = offset;
  }
}

export class BufferReader {
  readonly buffer: Buffer;
  /** Name of the structure being read, used in error messages (e.g. "OFPT_FLOW_MOD match"). */
  readonly context: string;
  /** Offset of this reader's first byte within the whole message, for error messages. */
  readonly baseOffset: number;
  private offset = 0;

  constructor(buffer: Buffer, context: string, baseOffset = 0) {
    this.buffer = buffer;
    this.context = context;
    this.baseOffset = baseOffset;
  }

  /** Offset of the next byte, relative to this reader's first byte. */
  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  /** Throws a decode error at the current position. */
  fail(problem: string): never {
    throw new OpenFlowDecodeError(this.context, this.baseOffset + this.offset, problem);
  }

  private need(count: number, what: string): void {
    if (this.offset + count > this.buffer.length) {
      this.fail(`${what} needs ${count} bytes but only ${this.remaining} remain`);
    }
  }

  u8(what = "u8"): number {
    this.need(1, what);
    const value = this.buffer.readUInt8(this.offset);
    this.offset += 1;
    return value;
  }

  u16(what = "u16"): number {
    this.need(2, what);
    const value = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  u32(what = "u32"): number {
    this.need(4, what);
    const value = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  u64(what = "u64"): bigint {
    this.need(8, what);
    const value = this.buffer.readBigUInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  /** Returns the next `count` bytes as a view (not a copy) of the message. */
  bytes(count: number, what = "bytes"): Buffer {
    this.need(count, what);
    const view = this.buffer.subarray(this.offset, this.offset + count);
    this.offset += count;
    return view;
  }

  skip(count: number, what = "padding"): void {
    this.need(count, what);
    this.offset += count;
  }

  /** Reads a fixed-size NUL-padded string field. */
  fixedString(size: number, what = "string"): string {
    const raw = this.bytes(size, what);
    const end = raw.indexOf(0);
    return raw.subarray(0, end === -1 ? size : end).toString("utf8");
  }

  /** Skips zero padding until the position counted from `start` is a multiple of `alignment`. */
  alignTo(alignment: number, start = 0): void {
    const remainder = (this.offset - start) % alignment;
    if (remainder !== 0) this.skip(Math.min(alignment - remainder, this.remaining), "alignment padding");
  }

  /** Splits off a sub-reader for the next `count` bytes (a nested structure with its own length). */
  sub(count: number, context: string): BufferReader {
    this.need(count, context);
    const child = new BufferReader(
      this.buffer.subarray(this.offset, this.offset + count),
      context,
      this.baseOffset + this.offset,
    );
    this.offset += count;
    return child;
  }

  /** Returns the bytes not yet read, as a view, and moves to the end. */
  rest(): Buffer {
    const view = this.buffer.subarray(this.offset);
    this.offset = this.buffer.length;
    return view;
  }
}
