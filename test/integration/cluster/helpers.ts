// Helpers of the cluster integration tests that read the system directly (ip, kubectl, the
// file system) instead of going through the pod runner, so the checks are independent of it.
import { execFile, execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Runs kubectl against the test's API server and resolves with stdout. `input` goes to stdin.
 * Asynchronous because the API server runs in this process and must keep serving requests.
 */
export function kubectl(kubeconfigPath: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile("kubectl", ["--kubeconfig", kubeconfigPath, ...args], { encoding: "utf8" }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`kubectl ${args.join(" ")} failed: ${stderr.trim()}`, { cause: error }));
    });
    child.stdin?.end(input ?? "");
  });
}

/** Resolves with `kubectl get pod -o json` parsed, or undefined when the pod does not exist. */
export async function getPodJson(kubeconfigPath: string, namespace: string, name: string): Promise<PodJson | undefined> {
  try {
    return JSON.parse(await kubectl(kubeconfigPath, ["get", "pod", "-n", namespace, name, "-o", "json"])) as PodJson;
  } catch {
    return undefined;
  }
}

/** The fields of a Pod the tests read. */
export interface PodJson {
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string };
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    hostIP?: string;
    startTime?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: { name: string; ready: boolean; restartCount: number; state?: Record<string, unknown> }[];
  };
}

/** Named namespaces from `ip netns list` that start with `prefix`. */
export function netnsWithPrefix(prefix: string): string[] {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(prefix));
}

/** Names of the veth links enslaved to `bridge` inside `netns`, from `ip -o link show type veth master BRIDGE`. */
export function bridgeVeths(netns: string, bridge: string): string[] {
  return execFileSync("ip", ["-n", netns, "-o", "link", "show", "type", "veth", "master", bridge], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => (line.split(": ")[1] ?? "").split("@")[0] ?? "");
}

/** IPv4 addresses (without prefix) of `dev` inside `netns`, from `ip -4 -o addr`. */
export function ipv4Addresses(netns: string, dev: string): string[] {
  return execFileSync("ip", ["-n", netns, "-4", "-o", "addr", "show", "dev", dev], { encoding: "utf8" })
    .split("\n")
    .flatMap((line) => {
      const match = / inet (\d+\.\d+\.\d+\.\d+)\//.exec(line);
      return match?.[1] === undefined ? [] : [match[1]];
    });
}

/** MTU of `dev` inside `netns`, from `ip -o link`. */
export function linkMtu(netns: string, dev: string): number {
  const line = execFileSync("ip", ["-n", netns, "-o", "link", "show", "dev", dev], { encoding: "utf8" });
  return Number(/ mtu (\d+) /.exec(line)?.[1]);
}

/** Polls `condition` every 100 ms until it returns true. Fails naming `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Writes a conflist for one node: the Linux bridge plugin with host-local IPAM, then tuning (MTU). */
export async function writeBridgeConflist(options: { confDir: string; bridge: string; subnet: string; ipamDir: string; mtu: number; firstPlugin?: string }): Promise<void> {
  await mkdir(options.confDir, { recursive: true });
  const conflist = {
    cniVersion: "1.0.0",
    name: "syr-lab",
    plugins: [
      {
        type: options.firstPlugin ?? "bridge",
        bridge: options.bridge,
        isGateway: true,
        ipMasq: false,
        ipam: { type: "host-local", ranges: [[{ subnet: options.subnet }]], dataDir: options.ipamDir },
      },
      { type: "tuning", mtu: options.mtu },
    ],
  };
  await writeFile(join(options.confDir, "10-syr.conflist"), JSON.stringify(conflist, null, 2));
}
