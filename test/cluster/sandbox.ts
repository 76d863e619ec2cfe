// A pod's network namespace: created with `ip netns add` so it appears in `ip netns list`
// and can be entered by path (/run/netns/NAME), the way CRI runtimes pin theirs.
import { access } from "node:fs/promises";

import { run } from "../lab/index.ts";
import { netnsPath } from "./names.ts";

/** Creates the namespace unless it exists and brings its loopback up. Idempotent. */
export async function ensurePodNetns(netns: string): Promise<void> {
  if (!(await netnsExists(netns))) await run(["ip", "netns", "add", netns]);
  // Runtimes bring lo up themselves (or with the loopback plugin). The conflist only adds eth0.
  await run(["ip", "-n", netns, "link", "set", "lo", "up"]);
}

/** Deletes the namespace and with it every interface left inside. Idempotent. */
export async function removePodNetns(netns: string): Promise<void> {
  if (await netnsExists(netns)) await run(["ip", "netns", "del", netns]);
}

export async function netnsExists(netns: string): Promise<boolean> {
  try {
    await access(netnsPath(netns));
    return true;
  } catch {
    return false;
  }
}
