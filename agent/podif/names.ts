// Host-side interface names and pod MAC addresses.
import { createHash, randomBytes } from "node:crypto";

/** Linux interface names hold at most 15 bytes (IFNAMSIZ 16 with the terminating NUL). */
export const MAX_INTERFACE_NAME_BYTES = 15;
const HASH_CHARS = 8;
const PREFIX_CHARS = MAX_INTERFACE_NAME_BYTES - HASH_CHARS - 1;

/**
 * Derives the host end's name: up to 6 characters of the pod name (letters and digits
 * only), "-", then 8 hex digits of SHA-256 over container ID and interface name. The same
 * attachment always gets the same name, so DEL finds the interface without stored state.
 */
export function hostInterfaceName(options: { podName?: string; containerId: string; ifName: string }): string {
  const hash = createHash("sha256").update(`${options.containerId}/${options.ifName}`).digest("hex").slice(0, HASH_CHARS);
  const prefix = (options.podName ?? "").toLowerCase().replace(/[^a-z0-9]/g, "").slice(0, PREFIX_CHARS);
  return `${prefix === "" ? "pod" : prefix}-${hash}`;
}

/** Generates a random locally administered unicast MAC address (bit 1 of the first octet set, bit 0 clear). */
export function randomPodMac(): string {
  const bytes = randomBytes(6);
  bytes[0] = ((bytes[0] ?? 0) & 0xfc) | 0x02;
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join(":");
}
