// Names the pod runner derives from a Pod: its network namespace and its sandbox id.
import { createHash } from "node:crypto";

/** Folder where `ip netns` keeps named network namespaces. */
export const netnsRunDir = "/run/netns";

/** Characters of the uid hash in a pod's namespace name. */
const uidHashLength = 8;

/** Maximum length of the namespace and pod name part, so the file name stays well below 255 bytes. */
const maxNamePartLength = 180;

/**
 * Returns the network namespace name of a pod: PREFIX + NAMESPACE-NAME- + the first 8 hex
 * digits of sha256(uid). The hash keeps two pods of the same name (one deleted, one new)
 * apart. The same inputs always give the same name, so probes can find a pod's namespace.
 */
export function podNetnsName(options: { prefix: string; namespace: string; name: string; uid: string }): string {
  const hash = createHash("sha256").update(options.uid).digest("hex").slice(0, uidHashLength);
  const namePart = `${options.namespace}-${options.name}`.slice(0, maxNamePartLength);
  return `${options.prefix}${namePart}-${hash}`;
}

/** Returns the path passed as CNI_NETNS for a named network namespace. */
export function netnsPath(netns: string): string {
  return `${netnsRunDir}/${netns}`;
}

/** Returns the sandbox id (CNI_CONTAINERID) of a pod: sha256("sandbox:" + uid) in hex, 64 characters like a runtime's id. */
export function sandboxId(uid: string): string {
  return createHash("sha256").update(`sandbox:${uid}`).digest("hex");
}
