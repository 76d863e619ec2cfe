// Match helpers for printing: the packet-out pipeline fields with in_port put back, and the
// field list of a group's selection method.
import { formatFieldValue, lookupField } from "../match/fields.ts";
import { matchFromEntries } from "../match/match.ts";
import type { Match } from "../match/match.ts";
import { CANONICAL_ORDER } from "../match/index.ts";
import type { WireEntry } from "../match/index.ts";
import type { PacketOutMessage } from "../messages/types.ts";

/** Returns the packet-out's pipeline fields including in_port, as ovs-ofctl prints them. */
export function matchWithInPort(m: PacketOutMessage): Match {
  const field = lookupField("in_port_oxm");
  if (field === undefined) throw new Error("the field registry has no in_port_oxm field");
  const value = Buffer.alloc(4);
  value.writeUInt32BE(m.inPort >>> 0);
  return matchFromEntries([...(m.match?.entries ?? []), { field, value }]);
}

/**
 * Formats hashed fields as ovs-ofctl does: in Open vSwitch's field order, the name alone
 * when every bit is used, otherwise name=mask (the OXM value of a selection-method field is
 * its mask).
 */
export function formatFieldList(fields: readonly WireEntry[]): string[] {
  const rank = (entry: WireEntry): number => {
    const index = CANONICAL_ORDER.indexOf(entry.field.name);
    return index === -1 ? CANONICAL_ORDER.length : index;
  };
  return [...fields].sort((a, b) => rank(a) - rank(b)).map((entry) => {
    const full = entry.value.every((byte) => byte === 0xff);
    return full ? entry.field.name : `${entry.field.name}=${formatFieldValue(entry.field, entry.value)}`;
  });
}
