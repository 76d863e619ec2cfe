// Caller identity, derived only from a client certificate the controller CA signed.
import type { TLSSocket } from "node:tls";
import { NODE_ORGANIZATION, OPERATOR_ORGANIZATION, isValidNodeName } from "../certs/subject.ts";

export type PeerIdentity =
  | { readonly kind: "node"; readonly node: string }
  | { readonly kind: "operator"; readonly name: string }
  | { readonly kind: "rejected"; readonly status: 401 | 403; readonly reason: string };

/**
 * Reads the caller's identity from a TLS socket of a server created with requestCert.
 * A missing certificate or one not signed by the CA gives 401; a valid certificate with
 * an unknown role or a malformed name gives 403.
 */
export function peerIdentity(socket: TLSSocket): PeerIdentity {
  const certificate = socket.getPeerCertificate();
  // Without a client certificate Node.js still sets authorizationError (to
  // UNABLE_TO_GET_ISSUER_CERT on Node.js 24), so the empty certificate is checked first.
  if (Object.keys(certificate).length === 0) {
    return { kind: "rejected", status: 401, reason: "no client certificate: present one issued by switchyard-controller issue-cert" };
  }
  if (!socket.authorized) {
    const reason = socket.authorizationError === null || socket.authorizationError === undefined ? "not verified" : String(socket.authorizationError);
    return { kind: "rejected", status: 401, reason: `client certificate rejected: ${reason}` };
  }
  const commonName = firstValue(certificate.subject?.CN);
  const organizations = allValues(certificate.subject?.O);
  if (commonName === undefined || !isValidNodeName(commonName)) {
    return { kind: "rejected", status: 403, reason: `client certificate CN ${JSON.stringify(commonName ?? "")} is not a valid node name` };
  }
  if (organizations.includes(NODE_ORGANIZATION)) return { kind: "node", node: commonName };
  if (organizations.includes(OPERATOR_ORGANIZATION)) return { kind: "operator", name: commonName };
  return {
    kind: "rejected",
    status: 403,
    reason: `client certificate O ${JSON.stringify(organizations)} is neither ${NODE_ORGANIZATION} nor ${OPERATOR_ORGANIZATION}`,
  };
}

function allValues(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return allValues(value)[0];
}
