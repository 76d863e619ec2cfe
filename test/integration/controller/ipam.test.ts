// Node IPAM against the local API server, checked with kubectl.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ControllerHarness, waitFor } from "./harness.ts";

/** spec.podCIDRs of every node as kubectl prints them: "name=cidr,cidr" lines. */
async function podCidrsByKubectl(harness: ControllerHarness): Promise<Map<string, string>> {
  const text = await harness.kubectl(["get", "nodes", "-o", "jsonpath={range .items[*]}{.metadata.name}={.spec.podCIDRs[*]}|{.spec.podCIDR}{\"\\n\"}{end}"]);
  const result = new Map<string, string>();
  for (const line of text.trim().split("\n")) {
    if (line === "") continue;
    const [name, cidrs] = line.split("=");
    result.set(name ?? "", cidrs ?? "");
  }
  return result;
}

describe("node IPAM with the API server", () => {
  let harness: ControllerHarness;

  before(async () => {
    harness = await ControllerHarness.create();
    const core = harness.core();
    await core.createNode({ body: { metadata: { name: "ipam-a" } } });
    await core.createNode({ body: { metadata: { name: "ipam-kept" }, spec: { podCIDR: "10.244.0.0/24", podCIDRs: ["10.244.0.0/24", "fd00:10::/64"] } } });
    await core.createNode({ body: { metadata: { name: "ipam-foreign" }, spec: { podCIDR: "192.168.7.0/24", podCIDRs: ["192.168.7.0/24"] } } });
    await harness.startController();
  });

  after(async () => {
    await harness?.close();
  });

  it("writes dual-stack pod CIDRs to nodes", async () => {
    await waitFor("ipam-a to get pod CIDRs", async () => (await podCidrsByKubectl(harness)).get("ipam-a") !== " |");
    const cidrs = await podCidrsByKubectl(harness);
    // ipam-kept already has the first subnets, so ipam-a gets the second of each family.
    assert.equal(cidrs.get("ipam-a"), "10.244.1.0/24 fd00:10:0:1::/64|10.244.1.0/24");
    assert.equal(cidrs.get("ipam-kept"), "10.244.0.0/24 fd00:10::/64|10.244.0.0/24");
    assert.equal(cidrs.get("ipam-foreign"), "192.168.7.0/24|192.168.7.0/24");
  });

  it("records an Event for a CIDR outside the cluster", async () => {
    await waitFor("event for ipam-foreign", async () => {
      const text = await harness.kubectl(["get", "events", "-n", "default", "-o", "jsonpath={range .items[*]}{.involvedObject.name} {.reason} {.type}{\"\\n\"}{end}"]);
      return text.includes("ipam-foreign PodCIDRRejected Warning");
    });
  });

  it("allocates to a node created later", async () => {
    await harness.core().createNode({ body: { metadata: { name: "ipam-b" } } });
    await waitFor("ipam-b to get pod CIDRs", async () => (await podCidrsByKubectl(harness)).get("ipam-b") !== " |");
    assert.equal((await podCidrsByKubectl(harness)).get("ipam-b"), "10.244.2.0/24 fd00:10:0:2::/64|10.244.2.0/24");
  });

  it("rebuilds the same map after a controller restart", async () => {
    await harness.stopController();
    await harness.startController();
    await harness.core().createNode({ body: { metadata: { name: "ipam-c" } } });
    await waitFor("ipam-c to get pod CIDRs", async () => (await podCidrsByKubectl(harness)).get("ipam-c") !== " |");
    const cidrs = await podCidrsByKubectl(harness);
    assert.equal(cidrs.get("ipam-a"), "10.244.1.0/24 fd00:10:0:1::/64|10.244.1.0/24");
    assert.equal(cidrs.get("ipam-b"), "10.244.2.0/24 fd00:10:0:2::/64|10.244.2.0/24");
    assert.equal(cidrs.get("ipam-c"), "10.244.3.0/24 fd00:10:0:3::/64|10.244.3.0/24");
  });

  it("releases the CIDR of a deleted node", async () => {
    await harness.core().deleteNode({ name: "ipam-a" });
    await waitFor("IPAM gauge to drop", async () => {
      const text = await (await fetch(`http://127.0.0.1:${harness.daemon?.metricsPort ?? 0}/metrics`)).text();
      return /switchyard_controller_ipam_allocated_subnets\{cluster_cidr="10\.244\.0\.0\/16"\} 3\b/.test(text);
    });
  });
});
