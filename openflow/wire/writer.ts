// A growable big-endian writer for OpenFlow messages. Lengths and padding are filled in by
// the writer (beginLength/endLength, padTo), so no encoder tracks byte offsets by hand.

/** A length field reserved by beginLength and written by the matching endLength. */
export interface LengthMark {
  /** Offset of the 16-bit length field. */
  readonly fieldOffset: number;
  /** Offset from which the length is counted (usually the start of the structure). */
  readonly startOffset: number;
}

export class BufferWriter {
  private buffer: Buffer;
  private offset = 0;

  constructor(initialSize = 256) {
    this.buffer = Buffer.allocUnsafe(initialSize);
  }

  get length(): number {
    return this.offset;
  }

  private ensure(extra: number): void {
    const needed = this.offset + extra;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.offset);
    this.buffer = grown;
  }

  u8(value: number): this {
    this.ensure(1);
    this.buffer.writeUInt8(value, this.offset);
    this.offset += 1;
    return this;
  }

  u16(value: number): this {
    this.ensure(2);
    this.buffer.writeUInt16BE(value, this.offset);
    this.offset += 2;
    return this;
  }

  u32(value: number): this {
    this.ensure(4);
    this.buffer.writeUInt32BE(value >>> 0, this.offset);
    this.offset += 4;
    return this;
  }

  u64(value: bigint): this {
    this.ensure(8);
    this.buffer.writeBigUInt64BE(BigInt.asUintN(64, value), this.offset);
    this.offset += 8;
    return this;
  }

  bytes(data: Uint8Array): this {
    this.ensure(data.length);
    this.buffer.set(data, this.offset);
    this.offset += data.length;
    return this;
  }

  /** Writes `count` zero bytes. */
  zeros(count: number): this {
    this.ensure(count);
    this.buffer.fill(0, this.offset, this.offset + count);
    this.offset += count;
    return this;
  }

  /** Writes a string into a fixed-size, NUL-padded field (port names, descriptions). */
  fixedString(value: string, size: number): this {
    const encoded = Buffer.from(value, "utf8");
    if (encoded.length > size) {
      throw new RangeError(`string "${value}" is ${encoded.length} bytes, longer than its ${size}-byte field`);
    }
    this.bytes(encoded);
    return this.zeros(size - encoded.length);
  }

  /** Pads with zeros until the length counted from `start` is a multiple of `alignment`. */
  padTo(alignment: number, start = 0): this {
    const remainder = (this.offset - start) % alignment;
    return remainder === 0 ? this : this.zeros(alignment - remainder);
  }

  /** Reserves a 16-bit length field here; the length is counted from `start` (default: here). */
  beginLength(start = this.offset): LengthMark {
    const mark = { fieldOffset: this.offset, startOffset: start };
    this.u16(0);
    return mark;
  }

  /** Writes into `mark` the number of bytes from its start offset to the current end. */
  endLength(mark: LengthMark): number {
    const length = this.offset - mark.startOffset;
    if (length > 0xffff) throw new RangeError(`structure of ${length} bytes exceeds the 16-bit length field`);
    this.buffer.writeUInt16BE(length, mark.fieldOffset);
    return length;
  }

  /** Overwrites a 16-bit value written earlier (for counts known only at the end). */
  patchU16(offset: number, value: number): void {
    this.buffer.writeUInt16BE(value, offset);
  }

  /** Overwrites a 32-bit value written earlier. */
  patchU32(offset: number, value: number): void {
    this.buffer.writeUInt32BE(value >>> 0, offset);
  }

  /** Returns a copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.offset));
  }
}
