import { test } from "node:test";
import assert from "node:assert/strict";
import type { MessageBody, OpenFlowConnection } from "../../../openflow/index.ts";
import { parseCidr } from "../../../controller/ipam/cidr.ts";
import { createSilentLogger } from "../../../controller/log.ts";
import { NodeNetwork } from "../../../agent/node-network.ts";
import { FlowSync } from "../../../agent/pipeline/flow-sync.ts";
import type { PeerNode } from "../../../agent/forwarding/peers.ts";

class RecordingConnection {
  readonly bundles: (readonly MessageBody[])[] = [];

  async bundle(messages: readonly MessageBody[]): Promise<void> {
    this.bundles.push(messages);
  }
}

function setup(): { network: NodeNetwork; commands: string[]; connection: RecordingConnection; sync: FlowSync } {
  const commands: string[] = [];
  const connection = new RecordingConnection();
  const sync = new FlowSync({ connection: connection as unknown as OpenFlowConnection });
  const network = new NodeNetwork({
    nodeName: "n1",
    mode: "encap",
    podCIDR: parseCidr("10.244.1.0/24"),
    localSubnets: [parseCidr("192.168.1.0/24")],
    gatewayName: "sy-gw0",
    flowContext: { round: 1, gateway: { ofport: 2, mac: "0a:00:00:00:00:01", ip: "10.244.1.1" }, tunnel: { ofport: 1 } },
    flowSync: sync,
    run: async (argv) => {
      commands.push(argv.join(" "));
      return argv.includes("-j") ? "[]" : "";
    },
    snatBackend: "nft",
    logger: createSilentLogger(),
  });
  return { network, commands, connection, sync };
}

function peer(name: string, cidr: string, ip: string, createdAtMs: number): PeerNode {
  return { name, podCIDRs: [parseCidr(cidr)], transportIP: ip, createdAtMs };
}

test("node network: no route deleted before peers complete", async () => {
  const { network, commands } = setup();
  await network.start();
  await network.upsertPeer(peer("n2", "10.244.2.0/24", "192.168.1.12", 1));
  assert.ok(commands.includes("ip route replace 10.244.2.0/24 via 10.244.2.1 dev sy-gw0 onlink proto 83"));
  assert.ok(!commands.some((command) => command.startsWith("ip -j -4 route show")), "no listing (and so no deletion) yet");
  assert.ok(!commands.some((command) => command.startsWith("nft")), "no SNAT yet");
  await network.peersComplete();
  assert.ok(commands.some((command) => command.startsWith("ip -j -4 route show proto 83")));
  assert.ok(commands.includes("nft -f -"));
});

test("node network: own node is not a peer", async () => {
  const { network, sync } = setup();
  await network.upsertPeer(peer("n1", "10.244.1.0/24", "192.168.1.11", 1));
  assert.deepEqual(network.routes(), []);
  assert.deepEqual(sync.owners(), []);
});

test("node network: moving CIDR is one bundle", async () => {
  const { network, connection, sync } = setup();
  await network.upsertPeer(peer("old", "10.244.2.0/24", "192.168.1.12", 1000));
  const before = connection.bundles.length;
  await network.upsertPeer(peer("new", "10.244.2.0/24", "192.168.1.14", 2000));
  assert.equal(connection.bundles.length, before + 1);
  assert.deepEqual(
    connection.bundles.at(-1)?.map((message) => (message as { command: number }).command),
    [4, 0],
    "DELETE_STRICT of the old owner's flow, then ADD of the new owner's",
  );
  assert.deepEqual(sync.owners().sort(), ["node:new"]);
  await network.deletePeer("old");
  assert.equal(connection.bundles.length, before + 1, "deleting the old node changes no flow");
  assert.deepEqual(network.routes().map((route) => route.node), ["new"]);
});

test("node network: pod flows set and removed", async () => {
  const { network, sync } = setup();
  await network.setPod({ ofport: 7, mac: "0a:00:00:00:00:07", ips: ["10.244.1.7"] });
  assert.equal(sync.flows("pod:7").length, 5);
  assert.deepEqual(network.pods().map((pod) => pod.ofport), [7]);
  await network.removePod(7);
  assert.equal(sync.flows("pod:7").length, 0);
  assert.deepEqual(network.pods(), []);
});
