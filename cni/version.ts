// The specification versions this plugin implements and the per-version rules.

/** Versions in ascending order; the last one is the newest. */
export const SUPPORTED_VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const LATEST_VERSION: CniVersion = "1.1.0";

export function isSupportedVersion(value: string): value is CniVersion {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(value);
}

/** Compares two supported versions: negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: CniVersion, b: CniVersion): number {
  return SUPPORTED_VERSIONS.indexOf(a) - SUPPORTED_VERSIONS.indexOf(b);
}

/** CHECK exists from spec 0.4.0 on. */
export function versionAllowsCheck(version: CniVersion): boolean {
  return compareVersions(version, "0.4.0") >= 0;
}

/** STATUS and GC exist from spec 1.1.0 on. */
export function versionAllowsStatusAndGc(version: CniVersion): boolean {
  return compareVersions(version, "1.1.0") >= 0;
}
