// Port numbers in actions. Actions keep Open vSwitch's 16-bit numbering (reserved ports
// 0xfff8-0xffff); OFPAT_OUTPUT carries 32-bit OpenFlow 1.1+ numbers. Parsing and printing
// come from the match registry so that match and action text agree.

import { PORT, PORT_OFFSET_OF11 } from "./constants.ts";

export { formatPort, parsePort, portToOfp11 } from "../match/fields.ts";

/**
 * Converts a 32-bit OpenFlow 1.1+ port to 16 bits. Returns undefined for 0xff00-0xfffffeff,
 * which have no 16-bit form (Open vSwitch rejects them with OFPBAC_BAD_OUT_PORT).
 */
export function portFromOfp11Strict(port: number): number | undefined {
  if (port < PORT.MAX) return port;
  if (port >= PORT_OFFSET_OF11 + PORT.MAX) return port - PORT_OFFSET_OF11;
  return undefined;
}
