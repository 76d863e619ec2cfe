import { test } from "node:test";
import assert from "node:assert/strict";
import type { MessageBody, OpenFlowConnection } from "../../../openflow/index.ts";
import { parseCidr } from "../../../common/net/cidr.ts";
import { createSilentLogger } from "../../../common/log/logger.ts";
import { NodeNetwork } from "../../../agent/node-network.ts";
import { FlowSync } from "../../../agent/pipeline/flow-sync.ts";
import type { PeerNode } from "../../../agent/forwarding/peers.ts";

/** Records bundles instead of sending them; `fail` makes the next bundle reject. */
class RecordingConnection {
  readonly bundles: (readonly MessageBody[])[] = [];
  fail = false;

  async bundle(messages: readonly MessageBody[]): Promise<void> {
    if (this.fail) {
      this.fail = false;
      throw new Error("bundle rejected");
    }
    this.bundles.push(messages);
  }
}

/** OFPFC_* command of each FLOW_MOD in a bundle (OpenFlow 1.5: ADD 0, MODIFY_STRICT 2, DELETE_STRICT 4). */
function commands(bundle: readonly MessageBody[] | undefined): number[] {
  return (bundle ?? []).map((message) => (message as { command: number }).command);
}

/** Owner field (bits 31..0) of each FLOW_MOD's cookie in a bundle: the pod's ofport for pod flows. */
function cookieOwners(bundle: readonly MessageBody[] | undefined): number[] {
  return (bundle ?? []).map((message) => Number((message as { cookie: bigint }).cookie & 0xffff_ffffn));
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

test("node network: pods restored in one bundle", async () => {
  const { network, connection, sync } = setup();
  const pods = [11, 12, 13].map((ofport) => ({ ofport, mac: `0a:00:00:00:00:${ofport}`, ips: [`10.244.1.${ofport}`] }));
  await network.setPods(pods);
  assert.equal(connection.bundles.length, 1);
  // Five ADDs per pod: Classifier, SpoofGuard IP and ARP, L3Forwarding, L2Forwarding.
  assert.deepEqual(commands(connection.bundles[0]), Array(15).fill(0));
  assert.deepEqual(cookieOwners(connection.bundles[0]).sort(), [11, 11, 11, 11, 11, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13]);
  assert.deepEqual(network.pods().map((pod) => pod.ofport), [11, 12, 13]);
  assert.deepEqual(sync.owners(), ["pod:11", "pod:12", "pod:13"]);
});

test("node network: setPods again sends nothing", async () => {
  const { network, connection } = setup();
  const pods = [11, 12].map((ofport) => ({ ofport, mac: `0a:00:00:00:00:${ofport}`, ips: [`10.244.1.${ofport}`] }));
  await network.setPods(pods);
  await network.setPods(pods);
  await network.setPods([]);
  assert.equal(connection.bundles.length, 1);
});

test("node network: same ofport twice, later wins", async () => {
  const { network, connection } = setup();
  await network.setPods([
    { ofport: 11, mac: "0a:00:00:00:00:11", ips: ["10.244.1.11"] },
    { ofport: 11, mac: "0a:00:00:00:00:12", ips: ["10.244.1.12"] },
  ]);
  assert.equal(connection.bundles[0]?.length, 5);
  assert.deepEqual(network.pods(), [{ ofport: 11, mac: "0a:00:00:00:00:12", ips: ["10.244.1.12"] }]);
});

test("node network: failed setPods changes nothing", async () => {
  const { network, connection, sync } = setup();
  await network.setPod({ ofport: 11, mac: "0a:00:00:00:00:11", ips: ["10.244.1.11"] });
  connection.fail = true;
  const pods = [12, 13].map((ofport) => ({ ofport, mac: `0a:00:00:00:00:${ofport}`, ips: [`10.244.1.${ofport}`] }));
  await assert.rejects(network.setPods(pods), /bundle rejected/);
  assert.deepEqual(network.pods().map((pod) => pod.ofport), [11]);
  assert.deepEqual(sync.owners(), ["pod:11"]);
  await network.setPods(pods);
  assert.deepEqual(network.pods().map((pod) => pod.ofport), [11, 12, 13]);
});

test("node network: stale pods removed in one bundle", async () => {
  const { network, connection, sync } = setup();
  const pods = [11, 12, 13].map((ofport) => ({ ofport, mac: `0a:00:00:00:00:${ofport}`, ips: [`10.244.1.${ofport}`] }));
  await network.setPods(pods);
  await network.removePods([11, 13, 99]);
  assert.equal(connection.bundles.length, 2);
  assert.deepEqual(commands(connection.bundles[1]), Array(10).fill(4));
  assert.deepEqual(cookieOwners(connection.bundles[1]).sort(), [11, 11, 11, 11, 11, 13, 13, 13, 13, 13]);
  assert.deepEqual(network.pods().map((pod) => pod.ofport), [12]);
  assert.deepEqual(sync.owners(), ["pod:12"]);
  await network.removePods([]);
  assert.equal(connection.bundles.length, 2);
});

test("node network: bad pod record named", async () => {
  const { network, connection } = setup();
  const pods = [
    { ofport: 11, mac: "0a:00:00:00:00:11", ips: ["10.244.1.11"] },
    { ofport: 12, mac: "0a:00:00:00:00:zz", ips: ["10.244.1.12"] },
  ];
  await assert.rejects(network.setPods(pods), (error: Error) => {
    assert.equal((error as { code?: string }).code, "FLOW_BUILD_INVALID");
    assert.match(error.message, /^invalid pod at ofport 12: invalid MAC address "0a:00:00:00:00:zz"/);
    return true;
  });
  assert.equal(connection.bundles.length, 0);
  assert.deepEqual(network.pods(), []);
});
