import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCidr } from "../../../common/net/cidr.ts";
import { gatewayAddress, routeCommands, syncHostRoutes } from "../../../agent/host/routes.ts";
import { detectSnatBackend, iptablesRules, nftScript, SnatError } from "../../../agent/host/snat.ts";
import type { PeerRoute } from "../../../agent/forwarding/peers.ts";

function route(cidr: string, ip: string, via: "tunnel" | "underlay"): PeerRoute {
  return { cidr: parseCidr(cidr), key: cidr, node: "n2", transportIP: ip, via };
}

test("gatewayAddress: first host address", () => {
  assert.equal(gatewayAddress(parseCidr("10.244.2.0/24")), "10.244.2.1");
  assert.equal(gatewayAddress(parseCidr("fd00:10:244:2::/64")), "fd00:10:244:2::1");
});

test("routeCommands: tunnel route via peer gateway on-link", () => {
  assert.deepEqual(routeCommands(route("10.244.2.0/24", "192.168.1.12", "tunnel"), "sy-gw0"), [
    ["ip", "neigh", "replace", "10.244.2.1", "lladdr", "aa:bb:cc:dd:ee:ff", "dev", "sy-gw0", "nud", "permanent"],
    ["ip", "route", "replace", "10.244.2.0/24", "via", "10.244.2.1", "dev", "sy-gw0", "onlink", "proto", "83"],
  ]);
});

test("routeCommands: underlay route via peer node", () => {
  assert.deepEqual(routeCommands(route("10.244.3.0/24", "192.168.1.13", "underlay"), "sy-gw0"), [
    ["ip", "route", "replace", "10.244.3.0/24", "via", "192.168.1.13", "proto", "83"],
  ]);
});

test("syncHostRoutes: deletes only stale proto-83 routes", async () => {
  const calls: string[] = [];
  const run = async (argv: readonly string[]): Promise<string> => {
    calls.push(argv.join(" "));
    if (argv.includes("-j")) return JSON.stringify([{ dst: "10.244.3.0/24" }, { dst: "10.244.9.0/24" }]);
    return "";
  };
  const result = await syncHostRoutes(run, { routes: [route("10.244.3.0/24", "192.168.1.13", "underlay")], gatewayName: "sy-gw0" });
  assert.deepEqual(result.deleted, ["10.244.9.0/24"]);
  assert.deepEqual(calls, [
    "ip route replace 10.244.3.0/24 via 192.168.1.13 proto 83",
    "ip -j -4 route show proto 83",
    "ip route del 10.244.9.0/24 proto 83",
  ]);
});

const rules = { localPodCIDR: parseCidr("10.244.1.0/24"), podCIDRs: [parseCidr("10.244.1.0/24"), parseCidr("10.244.2.0/24")], gatewayName: "sy-gw0" };

test("nftScript: masquerade outside pod CIDRs", () => {
  assert.equal(
    nftScript(rules),
    [
      "table ip switchyard",
      "delete table ip switchyard",
      "table ip switchyard {",
      "  set pod-cidrs {",
      "    type ipv4_addr",
      "    flags interval",
      "    elements = { 10.244.1.0/24, 10.244.2.0/24 }",
      "  }",
      "  chain postrouting {",
      "    type nat hook postrouting priority srcnat; policy accept;",
      '    ip saddr 10.244.1.0/24 oifname != "sy-gw0" ip daddr != @pod-cidrs masquerade',
      "  }",
      "}",
      "",
    ].join("\n"),
  );
});

test("iptablesRules: chain and jump", () => {
  const result = iptablesRules(rules);
  assert.equal(
    result.restore,
    ["*nat", ":SWITCHYARD-SNAT - [0:0]", "-F SWITCHYARD-SNAT", "-A SWITCHYARD-SNAT -d 10.244.1.0/24 -j RETURN", "-A SWITCHYARD-SNAT -d 10.244.2.0/24 -j RETURN", "-A SWITCHYARD-SNAT -j MASQUERADE", "COMMIT", ""].join("\n"),
  );
  assert.deepEqual(result.jump, ["-s", "10.244.1.0/24", "!", "-o", "sy-gw0", "-j", "SWITCHYARD-SNAT"]);
});

test("detectSnatBackend: nft, then iptables, then error", async () => {
  const only = (tool: string | undefined) => async (argv: readonly string[]): Promise<string> => {
    if (argv[0] === tool) return "";
    throw new Error(`${argv[0]}: not found`);
  };
  assert.equal(await detectSnatBackend(only("nft")), "nft");
  assert.equal(await detectSnatBackend(only("iptables")), "iptables");
  await assert.rejects(detectSnatBackend(only(undefined)), SnatError);
});
