// Pod interface MTU per forwarding mode and tunnel type.
import type { EncapMode, TunnelType } from "./modes.ts";

/**
 * Bytes a tunnel adds to a pod's IP packet over an IPv4 underlay. Geneve and VXLAN add 50
 * (IPv4 20 + UDP 8 + Geneve or VXLAN header 8 + inner Ethernet 14). GRE with a key adds 42
 * (IPv4 20 + GRE 8 + inner Ethernet 14).
 */
export const TUNNEL_OVERHEAD: Readonly<Record<TunnelType, number>> = {
  geneve: 50,
  vxlan: 50,
  gre: 42,
};

/** Extra bytes of an IPv6 outer header compared with IPv4 (40 instead of 20). */
export const IPV6_UNDERLAY_EXTRA = 20;

/** Upper bound of the pod MTU when traffic is tunnelled. */
export const MAX_ENCAP_MTU = 65000;

/** Lowest MTU Linux accepts on an IPv4 interface (RFC 791: 68 octets). */
export const MIN_MTU = 68;

export class MtuError extends Error {
  readonly code = "MTU_INVALID";
}

export interface PodMtuOptions {
  readonly mode: EncapMode;
  readonly tunnelType: TunnelType;
  /** MTU of the node's transport interface (the one carrying the node's address). */
  readonly transportMtu: number;
  /** Address family of the underlay between nodes. */
  readonly underlayFamily: "IPv4" | "IPv6";
}

/**
 * Returns the MTU for pod interfaces and the gateway. noEncap uses the transport MTU as is;
 * encap and hybrid (which tunnels across subnets) subtract the tunnel overhead, then cap the
 * result at 65000. Throws MtuError when the result would be below 68.
 */
export function podMtu(options: PodMtuOptions): number {
  if (!Number.isInteger(options.transportMtu) || options.transportMtu < MIN_MTU) {
    throw new MtuError(`invalid transport MTU ${options.transportMtu}: expected an integer of at least ${MIN_MTU}`);
  }
  if (options.mode === "noEncap") return options.transportMtu;
  const overhead = TUNNEL_OVERHEAD[options.tunnelType] + (options.underlayFamily === "IPv6" ? IPV6_UNDERLAY_EXTRA : 0);
  const mtu = Math.min(options.transportMtu - overhead, MAX_ENCAP_MTU);
  if (mtu < MIN_MTU) {
    throw new MtuError(
      `transport MTU ${options.transportMtu} leaves ${mtu} bytes after the ${overhead}-byte ${options.tunnelType} overhead: ` +
        `raise the transport MTU or set mtu explicitly`,
    );
  }
  return mtu;
}
