// OpenFlow protocol versions the codec speaks, as the wire carries them in ofp_header.version.
export const OpenFlowVersion = {
  OF13: 0x04,
  OF15: 0x06,
} as const;

export type OpenFlowVersion = (typeof OpenFlowVersion)[keyof typeof OpenFlowVersion];

/** Returns the name ovs-ofctl uses for a version ("OpenFlow13"). */
export function versionName(version: OpenFlowVersion): string {
  return version === OpenFlowVersion.OF13 ? "OpenFlow13" : "OpenFlow15";
}
