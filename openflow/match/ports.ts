// OpenFlow port numbers as ovs-ofctl reads and prints them. OVS keeps ports as 16-bit
// OpenFlow 1.0 numbers; OpenFlow 1.1+ carries 32 bits, where the reserved ports 0xfff8-0xffff
// become 0xfffffff8-0xffffffff (and 0xff00-0xfff7 become 0xffffff00-0xfffffff7).

/** Port names chosen by the user (from the bridge), both directions. */
export interface PortNameMap {
  readonly byName: ReadonlyMap<string, number>;
  readonly byNumber: ReadonlyMap<number, string>;
}

/** Reserved 16-bit port numbers and the names ovs-ofctl prints for them. */
export const RESERVED_PORTS: ReadonlyMap<number, string> = new Map([
  [0xfff7, "UNSET"],
  [0xfff8, "IN_PORT"],
  [0xfff9, "TABLE"],
  [0xfffa, "NORMAL"],
  [0xfffb, "FLOOD"],
  [0xfffc, "ALL"],
  [0xfffd, "CONTROLLER"],
  [0xfffe, "LOCAL"],
  [0xffff, "ANY"],
]);

const RESERVED_BY_NAME: ReadonlyMap<string, number> = new Map([
  ...[...RESERVED_PORTS].map(([number, name]): [string, number] => [name, number]),
  ["NONE", 0xffff],
]);

/** Converts a 16-bit port to its OpenFlow 1.1+ 32-bit form. */
export function portToOfp11(port: number): number {
  return port >= 0xff00 ? (port + 0xffff0000) >>> 0 : port;
}

/** Converts a 32-bit OpenFlow 1.1+ port to OVS's 16-bit form; out-of-range ports stay as they are. */
export function portFromOfp11(port: number): number {
  if (port < 0xff00) return port;
  if (port >= 0xffffff00) return port - 0xffff0000;
  return port;
}

/**
 * Parses a port: a reserved name (any case), a user port name, or a decimal number that is
 * either a 16-bit port or a 32-bit OpenFlow 1.1+ reserved port. Returns the 16-bit form, or
 * undefined for any other text (ovs-ofctl also rejects hexadecimal port numbers).
 */
export function parsePort(text: string, names?: PortNameMap): number | undefined {
  const reserved = RESERVED_BY_NAME.get(text.toUpperCase());
  if (reserved !== undefined) return reserved;
  const named = names?.byName.get(text);
  if (named !== undefined) return named;
  if (!/^\d+$/.test(text)) return undefined;
  const number = Number(text);
  if (number <= 0xffff) return number;
  if (number >= 0xffffff00 && number <= 0xffffffff) return number - 0xffff0000;
  return undefined;
}

/** Prints a 16-bit port as ovs-ofctl does: reserved name, user name, or decimal number. */
export function formatPort(port: number, names?: PortNameMap): string {
  const reserved = RESERVED_PORTS.get(port);
  if (reserved !== undefined) return reserved;
  const named = names?.byNumber.get(port);
  if (named !== undefined) return /^[A-Za-z0-9_.-]+$/.test(named) ? named : `"${named}"`;
  return String(port);
}
