// Bit ranges of big-endian field values. Bit 0 is the least significant bit of the last
// byte, the numbering NXM subfields use (`reg0[0..7]` is the low byte).

/** Reads a big-endian buffer as an unsigned integer. */
export function bufferToBigInt(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** Writes `value` as a big-endian buffer of `size` bytes, dropping higher bits. */
export function bigIntToBuffer(value: bigint, size: number): Buffer {
  const out = Buffer.alloc(size);
  let rest = value;
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/** Returns a mask with bits [offset, offset + nBits) set, `size` bytes long. */
export function rangeMask(size: number, offset: number, nBits: number): Buffer {
  return bigIntToBuffer(((1n << BigInt(nBits)) - 1n) << BigInt(offset), size);
}

/** Returns bits [offset, offset + nBits) of `bytes` as an integer. */
export function extractBits(bytes: Uint8Array, offset: number, nBits: number): bigint {
  return (bufferToBigInt(bytes) >> BigInt(offset)) & ((1n << BigInt(nBits)) - 1n);
}

/** Returns a `size`-byte value holding `value` at bit `offset` and zeros elsewhere. */
export function placeBits(value: bigint, size: number, offset: number): Buffer {
  return bigIntToBuffer(value << BigInt(offset), size);
}

export function isAllOnes(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0xff);
}

/** A contiguous run of set bits in a mask. */
export interface BitRun {
  offset: number;
  nBits: number;
}

/**
 * Splits a mask into runs of set bits, lowest first, each at most 64 bits and none past
 * `fieldBits`, the way Open vSwitch splits a partial set_field into NXAST_REG_LOAD actions.
 */
export function maskRuns(mask: Uint8Array, fieldBits: number): BitRun[] {
  const bits = bufferToBigInt(mask);
  const isSet = (bit: number): boolean => ((bits >> BigInt(bit)) & 1n) === 1n;
  const runs: BitRun[] = [];
  let bit = 0;
  while (bit < fieldBits) {
    if (!isSet(bit)) {
      bit++;
      continue;
    }
    const offset = bit;
    const limit = Math.min(offset + 64, fieldBits);
    bit++;
    while (bit < limit && isSet(bit)) bit++;
    runs.push({ offset, nBits: bit - offset });
  }
  return runs;
}

/** Formats an integer as C's "%#x" does: "0" for zero, "0x..." otherwise. */
export function formatHexInteger(value: bigint | number): string {
  return value === 0n || value === 0 ? "0" : `0x${value.toString(16)}`;
}

/** Formats bytes as Open vSwitch's ds_put_hex does: "0x" and the digits without leading zero bytes. */
export function formatHexBytes(bytes: Uint8Array): string {
  const first = bytes.findIndex((byte) => byte !== 0);
  if (first === -1) return "0";
  const digits = Buffer.from(bytes.subarray(first)).toString("hex");
  return `0x${digits.replace(/^0/, "")}`;
}
