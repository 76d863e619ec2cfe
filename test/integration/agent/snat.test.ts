// SNAT rules installed with both backends in a namespace of their own, read back with the
// tools themselves.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { parseCidr } from "../../../common/net/cidr.ts";
import { applySnat, removeSnat } from "../../../agent/host/snat.ts";
import type { HostRunner } from "../../../agent/host/command.ts";
import { createNamespaces, deleteNamespaces, run } from "../../lab/index.ts";

const netns = `syasn${process.pid}`;
const runner: HostRunner = (argv, options) => run(argv, { netns, input: options?.input });
const rules = { localPodCIDR: parseCidr("10.244.1.0/24"), podCIDRs: [parseCidr("10.244.1.0/24"), parseCidr("10.244.2.0/24")], gatewayName: "sy-gw0" };

before(async () => {
  await createNamespaces([netns]);
});

after(async () => {
  await deleteNamespaces([netns]);
});

test("snat: nft table replaced atomically", async () => {
  await applySnat(runner, { backend: "nft", rules });
  await applySnat(runner, { backend: "nft", rules: { ...rules, podCIDRs: [...rules.podCIDRs, parseCidr("10.244.3.0/24")] } });
  const text = await run(["nft", "list", "table", "ip", "switchyard"], { netns });
  assert.match(text, /elements = \{ 10\.244\.1\.0\/24, 10\.244\.2\.0\/24,\s+10\.244\.3\.0\/24 \}/);
  assert.equal((text.match(/masquerade/g) ?? []).length, 1);
  await removeSnat(runner, "nft");
  await assert.rejects(run(["nft", "list", "table", "ip", "switchyard"], { netns }));
});

test("snat: iptables chain refilled, one jump", async () => {
  await applySnat(runner, { backend: "iptables", rules });
  await applySnat(runner, { backend: "iptables", rules });
  const text = await run(["iptables", "-t", "nat", "-S"], { netns });
  const lines = text.split("\n").filter((line) => line.includes("SWITCHYARD-SNAT"));
  assert.deepEqual(lines, [
    "-N SWITCHYARD-SNAT",
    "-A POSTROUTING -s 10.244.1.0/24 ! -o sy-gw0 -j SWITCHYARD-SNAT",
    "-A SWITCHYARD-SNAT -d 10.244.1.0/24 -j RETURN",
    "-A SWITCHYARD-SNAT -d 10.244.2.0/24 -j RETURN",
    "-A SWITCHYARD-SNAT -j MASQUERADE",
  ]);
  await removeSnat(runner, "iptables");
  const after = await run(["iptables", "-t", "nat", "-S"], { netns });
  assert.doesNotMatch(after, /SWITCHYARD-SNAT/);
});
