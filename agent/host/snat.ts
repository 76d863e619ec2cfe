// Source NAT of pod traffic that leaves the pod network through the node. Packets from the
// local pod CIDR that leave by an interface other than the gateway, toward an address
// outside every known pod CIDR, get the outgoing interface's address (masquerade). Each
// call replaces the whole rule set in one atomic load, so it is idempotent.
import { formatCidr, type Cidr } from "../../common/net/cidr.ts";
import type { HostRunner } from "./command.ts";

export type SnatBackend = "nft" | "iptables";

export interface SnatRules {
  readonly localPodCIDR: Cidr;
  /** Every pod CIDR of the cluster known so far (local and peers): traffic toward them is not translated. */
  readonly podCIDRs: readonly Cidr[];
  readonly gatewayName: string;
}

/** nft table holding the agent's rules. */
export const NFT_TABLE = "switchyard";
/** iptables nat chain holding the agent's rules. */
export const IPTABLES_CHAIN = "SWITCHYARD-SNAT";

/** Returns the `nft -f` script that replaces table ip switchyard. */
export function nftScript(rules: SnatRules): string {
  const lines = [
    // Creating then deleting the table makes the delete succeed whether or not it existed.
    `table ip ${NFT_TABLE}`,
    `delete table ip ${NFT_TABLE}`,
    `table ip ${NFT_TABLE} {`,
    "  set pod-cidrs {",
    "    type ipv4_addr",
    "    flags interval",
  ];
  if (rules.podCIDRs.length > 0) lines.push(`    elements = { ${rules.podCIDRs.map(formatCidr).join(", ")} }`);
  lines.push(
    "  }",
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    `    ip saddr ${formatCidr(rules.localPodCIDR)} oifname != "${rules.gatewayName}" ip daddr != @pod-cidrs masquerade`,
    "  }",
    "}",
    "",
  );
  return lines.join("\n");
}

/** The iptables form: an `iptables-restore --noflush` input refilling the chain, and the POSTROUTING rule that jumps to it. */
export interface IptablesRules {
  readonly restore: string;
  /** Rule specification of the jump, without -A/-C and the chain name POSTROUTING. */
  readonly jump: readonly string[];
}

export function iptablesRules(rules: SnatRules): IptablesRules {
  const restore = [
    "*nat",
    `:${IPTABLES_CHAIN} - [0:0]`,
    `-F ${IPTABLES_CHAIN}`,
    ...rules.podCIDRs.map((cidr) => `-A ${IPTABLES_CHAIN} -d ${formatCidr(cidr)} -j RETURN`),
    `-A ${IPTABLES_CHAIN} -j MASQUERADE`,
    "COMMIT",
    "",
  ].join("\n");
  return { restore, jump: ["-s", formatCidr(rules.localPodCIDR), "!", "-o", rules.gatewayName, "-j", IPTABLES_CHAIN] };
}

export class SnatError extends Error {
  readonly code = "SNAT_UNAVAILABLE";
}

/** Picks nft when installed, else iptables. Raises SnatError when neither runs. */
export async function detectSnatBackend(run: HostRunner): Promise<SnatBackend> {
  for (const backend of ["nft", "iptables"] as const) {
    try {
      await run([backend, "--version"]);
      return backend;
    } catch {
      // Not installed or not runnable: try the next tool.
    }
  }
  throw new SnatError("SNAT needs nft or iptables, and neither runs on this node: install the Debian package nftables, or set snat.enabled to false");
}

/** Installs the rules with the given backend. Idempotent; the nft path is atomic. */
export async function applySnat(run: HostRunner, options: { backend: SnatBackend; rules: SnatRules }): Promise<void> {
  if (options.backend === "nft") {
    await run(["nft", "-f", "-"], { input: nftScript(options.rules) });
    return;
  }
  const iptables = iptablesRules(options.rules);
  await run(["iptables-restore", "--noflush"], { input: iptables.restore });
  try {
    await run(["iptables", "-t", "nat", "-C", "POSTROUTING", ...iptables.jump]);
  } catch {
    await run(["iptables", "-t", "nat", "-A", "POSTROUTING", ...iptables.jump]);
  }
}

/** Removes the agent's rules: the nft table, or every POSTROUTING jump to the chain and the chain. Idempotent. */
export async function removeSnat(run: HostRunner, backend: SnatBackend): Promise<void> {
  if (backend === "nft") {
    await run(["nft", "-f", "-"], { input: `table ip ${NFT_TABLE}\ndelete table ip ${NFT_TABLE}\n` });
    return;
  }
  const rules = await run(["iptables", "-t", "nat", "-S", "POSTROUTING"]);
  for (const line of rules.split("\n")) {
    if (!line.startsWith("-A POSTROUTING ") || !line.endsWith(`-j ${IPTABLES_CHAIN}`)) continue;
    await run(["iptables", "-t", "nat", "-D", ...line.slice("-A ".length).split(" ")]);
  }
  try {
    await run(["iptables", "-t", "nat", "-F", IPTABLES_CHAIN]);
    await run(["iptables", "-t", "nat", "-X", IPTABLES_CHAIN]);
  } catch {
    // The chain does not exist: nothing to remove.
  }
}
