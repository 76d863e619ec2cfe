// OXM and NXM header arithmetic. A header is 32 bits: class (16), field (7), has-mask (1),
// length (8). The length counts the value plus the mask, and for experimenter OXMs
// (class 0xffff) it also counts the 4-byte experimenter id that follows the header.

/** OXM and NXM classes used by Open vSwitch 3.1. */
export const OxmClass = {
  /** NXM_OF_*: Nicira's copies of the OpenFlow 1.0 fields. */
  NXM_0: 0x0000,
  /** NXM_NX_*: Nicira extension fields (registers, conntrack, tunnel). */
  NXM_1: 0x0001,
  /** OXM_OF_*: the OpenFlow basic class. */
  OPENFLOW_BASIC: 0x8000,
  /** OXM_OF_PKT_REG*: the OpenFlow 1.5 packet registers (64-bit xregs). */
  PACKET_REGS: 0x8001,
  /** Experimenter OXMs: a 4-byte experimenter id follows the header. */
  EXPERIMENTER: 0xffff,
} as const;

/** Experimenter ids that appear after an experimenter OXM header. */
export const OxmExperimenter = {
  /** ONF extensions for OpenFlow 1.3 (ONFOXM_ET_TCP_FLAGS, ONFOXM_ET_ACTSET_OUTPUT). */
  ONF: 0x4f4e4600,
  /** Nicira extensions carried as OXMs (NXOXM_ET_*). */
  NICIRA: 0x00002320,
} as const;

/** Builds a header without the has-mask bit; `length` is the unmasked payload length. */
export function makeHeader(oxmClass: number, field: number, length: number): number {
  return ((oxmClass << 16) | (field << 9) | length) >>> 0;
}

export function headerClass(header: number): number {
  return header >>> 16;
}

export function headerField(header: number): number {
  return (header >>> 9) & 0x7f;
}

export function headerHasMask(header: number): boolean {
  return (header & 0x100) !== 0;
}

export function headerLength(header: number): number {
  return header & 0xff;
}

/**
 * Returns the header with the has-mask bit set or cleared and the length adjusted: a masked
 * header carries the value twice (value then mask), and the experimenter id is counted once.
 */
export function withMask(header: number, hasMask: boolean): number {
  const isExperimenter = headerClass(header) === OxmClass.EXPERIMENTER;
  const wasMasked = headerHasMask(header);
  const extra = isExperimenter ? 4 : 0;
  const valueLength = wasMasked ? (headerLength(header) - extra) / 2 : headerLength(header) - extra;
  const length = (hasMask ? valueLength * 2 : valueLength) + extra;
  const base = (header & 0xfffffe00) >>> 0;
  return (base | (hasMask ? 0x100 : 0) | length) >>> 0;
}

/** Formats a header as eight hex digits, the way OVS prints unknown headers. */
export function formatHeaderHex(header: number): string {
  return header.toString(16).padStart(8, "0");
}
