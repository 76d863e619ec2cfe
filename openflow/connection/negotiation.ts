// OpenFlow version negotiation: each side sends HELLO, and the version used is the highest
// one both support. A HELLO with a version bitmap lists the sender's versions exactly. A
// HELLO without one means the sender supports every version up to its header version.
import type { HelloMessage } from "../messages/types.ts";
import { OpenFlowVersion } from "../version.ts";

/** Versions this codec implements, highest first. */
export const SUPPORTED_VERSIONS: readonly OpenFlowVersion[] = [OpenFlowVersion.OF15, OpenFlowVersion.OF13];

/** Builds our HELLO: header version is our highest, and the bitmap lists every version we accept. */
export function buildHello(versions: readonly OpenFlowVersion[], xid: number): HelloMessage {
  const sorted = [...versions].sort((a, b) => a - b);
  const highest = sorted[sorted.length - 1] ?? OpenFlowVersion.OF15;
  return { kind: "hello", version: highest, xid, bitmapVersions: sorted };
}

/** Returns the highest version both sides support, or undefined when there is none. */
export function chooseVersion(ours: readonly OpenFlowVersion[], peer: HelloMessage): OpenFlowVersion | undefined {
  const peerSupports = (v: number): boolean =>
    peer.bitmapVersions !== undefined ? peer.bitmapVersions.includes(v) : v <= peer.version;
  const common = ours.filter(peerSupports).sort((a, b) => b - a);
  return common[0];
}
