// Resolution of a rule's named port against the members it applies to, for the agent.
import type { NamedPort, Protocol } from "./types.ts";

/**
 * Splits members by the port number a named rule port resolves to on each of them: the
 * number of the member's named port with that name and protocol. Members without such a
 * port are left out, because the rule port does not match them. For an ingress rule pass
 * the applied-to members, for an egress rule the address members of the rule's peers.
 * Returns port number -> members in input order; pure.
 */
export function resolveNamedPort<M extends { namedPorts: readonly NamedPort[] }>(
  port: { portName: string; protocol: Protocol },
  members: Iterable<M>,
): Map<number, M[]> {
  const byNumber = new Map<number, M[]>();
  for (const member of members) {
    const match = member.namedPorts.find((named) => named.name === port.portName && named.protocol === port.protocol);
    if (match === undefined) continue;
    const list = byNumber.get(match.port);
    if (list === undefined) {
      byNumber.set(match.port, [member]);
    } else {
      list.push(member);
    }
  }
  return byNumber;
}
