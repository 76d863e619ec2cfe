// Subject names of the certificates the controller CA issues. The CN carries the node or
// operator name and the O carries the role, so one CA serves both kinds of client.

/** Organization (O) of a node (agent) client certificate. */
export const NODE_ORGANIZATION = "switchyard:nodes";
/** Organization (O) of an operator client certificate, which may read every node's status. */
export const OPERATOR_ORGANIZATION = "switchyard:operators";

export type ClientRole = "node" | "operator";

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Returns whether a name is a valid Kubernetes object name (RFC 1123 subdomain, at most 253 characters). */
export function isValidNodeName(name: string): boolean {
  return name.length > 0 && name.length <= 253 && DNS_SUBDOMAIN.test(name);
}

export function organizationFor(role: ClientRole): string {
  return role === "node" ? NODE_ORGANIZATION : OPERATOR_ORGANIZATION;
}
