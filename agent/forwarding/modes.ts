// Forwarding modes and tunnel types of the agent, shared by configuration, MTU and routing.

/** Forwarding mode of pod traffic toward other nodes. */
export const ENCAP_MODES = ["encap", "noEncap", "hybrid"] as const;
export type EncapMode = (typeof ENCAP_MODES)[number];

export const TUNNEL_TYPES = ["geneve", "vxlan", "gre"] as const;
export type TunnelType = (typeof TUNNEL_TYPES)[number];

/** IANA-assigned UDP destination ports (RFC 8926 for Geneve, RFC 7348 for VXLAN); GRE has none. */
export const DEFAULT_TUNNEL_PORT: Readonly<Record<TunnelType, number | undefined>> = {
  geneve: 6081,
  vxlan: 4789,
  gre: undefined,
};
