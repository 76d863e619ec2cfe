// Named bit flags of ct_state, tcp_flags and tun_flags, and the two ways ovs-ofctl prints
// them: "a|b" when every bit is significant, "+a-b" when only the masked bits are.

export interface FlagNames {
  /** Field name used in error messages. */
  readonly field: string;
  /** Bit value to name; a bit without a name prints through `unnamed`. */
  readonly names: ReadonlyMap<number, string>;
  /** Spelling of a bit that has no name in masked form ("+[Unknown]" in OVS 3.1). */
  readonly unnamedMasked: string;
}

/** Connection-tracking state bits, as OVS 3.1 defines them. */
export const CT_STATE_FLAGS: FlagNames = {
  field: "ct_state",
  names: new Map([
    [0x01, "new"],
    [0x02, "est"],
    [0x04, "rel"],
    [0x08, "rpl"],
    [0x10, "inv"],
    [0x20, "trk"],
    [0x40, "snat"],
    [0x80, "dnat"],
  ]),
  unnamedMasked: "[Unknown]",
};

/** TCP header flag bits; OVS names the three reserved bits by their hex value. */
export const TCP_FLAGS: FlagNames = {
  field: "tcp_flags",
  names: new Map([
    [0x001, "fin"],
    [0x002, "syn"],
    [0x004, "rst"],
    [0x008, "psh"],
    [0x010, "ack"],
    [0x020, "urg"],
    [0x040, "ece"],
    [0x080, "cwr"],
    [0x100, "ns"],
    [0x200, "[200]"],
    [0x400, "[400]"],
    [0x800, "[800]"],
  ]),
  unnamedMasked: "[Unknown]",
};

/** Tunnel flags that OpenFlow can see; OVS 3.1 exposes only "oam". */
export const TUNNEL_FLAGS: FlagNames = {
  field: "tun_flags",
  names: new Map([[0x1, "oam"]]),
  unnamedMasked: "[Unknown]",
};

function lowestBit(value: number): number {
  return (value & -value) >>> 0;
}

/** Prints every set bit joined by "|", unnamed bits last as one hex number, "0" for none. */
export function formatFlags(names: FlagNames, flags: number): string {
  if (flags === 0) return "0";
  const parts: string[] = [];
  let unnamed = 0;
  let remaining = flags >>> 0;
  while (remaining !== 0) {
    const bit = lowestBit(remaining);
    const name = names.names.get(bit);
    if (name === undefined) unnamed = (unnamed | bit) >>> 0;
    else parts.push(name);
    remaining = (remaining & ~bit) >>> 0;
  }
  if (unnamed !== 0) parts.push(`0x${unnamed.toString(16)}`);
  return parts.join("|");
}

/** Flag bits, the bits that matter, and the mask meaning "every bit matters". */
export interface MaskedFlags {
  flags: number;
  mask: number;
  fullMask: number;
}

/**
 * Prints flags the way OVS's format_flags_masked does: the "|" form when `mask` equals
 * `fullMask`, "0/0" for an empty mask, else "+name" or "-name" for each masked bit.
 */
export function formatFlagsMasked(names: FlagNames, masked: MaskedFlags): string {
  const { flags, mask, fullMask } = masked;
  if (mask >>> 0 === fullMask >>> 0) return formatFlags(names, flags);
  if (mask === 0) return "0/0";
  let text = "";
  let remaining = mask >>> 0;
  while (remaining !== 0) {
    const bit = lowestBit(remaining);
    text += (flags & bit) !== 0 ? "+" : "-";
    text += names.names.get(bit) ?? names.unnamedMasked;
    remaining = (remaining & ~bit) >>> 0;
  }
  return text;
}

function bitForName(names: FlagNames, name: string): number | undefined {
  for (const [bit, candidate] of names.names) {
    if (candidate === name) return bit;
  }
  return undefined;
}

/** Result of parsing flag text, or the message describing why it is invalid. */
export type FlagParseResult = { ok: true; value: number; mask: number } | { ok: false; problem: string };

/**
 * Parses "+syn-ack" (masked: only the named bits matter) or "syn|ack" / "syn" (every bit
 * in `fullMask` matters, unnamed bits must be 0). Integers are handled by the caller.
 */
export function parseFlags(names: FlagNames, text: string, fullMask: number): FlagParseResult {
  const signed = text.startsWith("+") || text.startsWith("-");
  const tokens = signed ? [...text.matchAll(/([+-])([^+-]*)/g)] : text.split("|").map((name) => ["", "+", name]);
  let value = 0;
  let mask = 0;
  for (const token of tokens) {
    const sign = token[1];
    const name = token[2] ?? "";
    const bit = bitForName(names, name);
    if (bit === undefined) {
      return { ok: false, problem: `unknown ${names.field} flag "${name}" (known: ${[...names.names.values()].join(", ")})` };
    }
    if ((mask & bit) !== 0) return { ok: false, problem: `${names.field} flag "${name}" is given more than once` };
    mask |= bit;
    if (sign === "+") value |= bit;
  }
  return signed ? { ok: true, value, mask } : { ok: true, value, mask: fullMask };
}
