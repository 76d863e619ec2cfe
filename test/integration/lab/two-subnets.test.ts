// Four nodes on two segments joined by a router, and TCP from the outside namespace.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { rm } from "node:fs/promises";
import { after, before, describe, test } from "node:test";

import { downLab, labStatus, upLab } from "../../lab/index.ts";
import type { Lab } from "../../lab/index.ts";
import { namespacesOf, pingTtl, tempStateRoot, uniqueLabName } from "./helpers.ts";

// Accepts one connection, counts the bytes until the peer closes, writes the count back.
const countingServer = `
const net = require("node:net");
const server = net.createServer((socket) => {
  let bytes = 0;
  socket.on("data", (chunk) => { bytes += chunk.length; });
  socket.on("end", () => { socket.end(String(bytes)); server.close(); });
});
server.listen(5201, process.argv[1], () => console.log("listening"));
`;

// Sends N bytes of zeros to HOST:5201 and prints what the server writes back.
const sendingClient = `
const net = require("node:net");
const [host, size] = process.argv.slice(1);
const socket = net.connect(5201, host, () => socket.end(Buffer.alloc(Number(size))));
let reply = "";
socket.on("data", (chunk) => { reply += chunk; });
socket.on("end", () => console.log(reply));
setTimeout(() => { console.error("timed out"); process.exit(1); }, 10000).unref();
`;

describe("lab with four nodes on two subnets", () => {
  const name = uniqueLabName("two");
  let stateDir = "";
  let lab: Lab;

  before(async () => {
    stateDir = await tempStateRoot();
    lab = await upLab({ name, nodes: 4, subnets: 2, stateDir });
  });

  after(async () => {
    await downLab({ name, stateDir });
    await rm(stateDir, { recursive: true, force: true });
  });

  test("creates a router namespace and two segments", () => {
    assert.ok(namespacesOf(name).includes(`${name}-rt`));
    assert.equal(lab.segments.length, 2);
    assert.notEqual(lab.segments[0]?.cidr, lab.segments[1]?.cidr);
    const forwarding = execFileSync("ip", ["netns", "exec", `${name}-rt`, "sysctl", "-n", "net.ipv4.ip_forward"], { encoding: "utf8" });
    assert.equal(forwarding.trim(), "1");
  });

  test("nodes alternate between the subnets", () => {
    assert.deepEqual(lab.nodes.map((node) => node.subnet), [lab.segments[0]?.cidr, lab.segments[1]?.cidr, lab.segments[0]?.cidr, lab.segments[1]?.cidr]);
    for (const node of lab.nodes) {
      const segment = lab.segments.find((candidate) => candidate.cidr === node.subnet);
      assert.equal(node.gateway, segment?.gateway, node.name);
    }
  });

  test("each node routes the other subnet via the router", () => {
    for (const node of lab.nodes) {
      const other = lab.segments.find((segment) => segment.cidr !== node.subnet);
      const routes = execFileSync("ip", ["-n", node.netns, "-4", "route", "show", other?.cidr ?? ""], { encoding: "utf8" });
      assert.match(routes, new RegExp(`via ${node.gateway?.replaceAll(".", "\\.")} dev br-phy`), node.name);
    }
  });

  test("same-subnet ping is direct, cross-subnet ping crosses the router", () => {
    for (const from of lab.nodes) {
      for (const to of lab.nodes) {
        if (from === to) continue;
        const expectedTtl = from.subnet === to.subnet ? 64 : 63;
        assert.equal(pingTtl(from.netns, to.underlayIp), expectedTtl, `${from.name} -> ${to.name}`);
      }
    }
  });

  test("the outside is reachable from every node", () => {
    for (const node of lab.nodes) {
      const expectedTtl = node.subnet === lab.segments[0]?.cidr ? 64 : 63;
      assert.equal(pingTtl(node.netns, lab.outside.ip), expectedTtl, node.name);
    }
  });

  test("TCP from the outside reaches a node on the far subnet", async () => {
    const target = lab.node(2);
    const server = target.spawn([process.execPath, "-e", countingServer, target.underlayIp], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      assert.ok(server.stdout !== null);
      await once(server.stdout, "data");
      const size = 1_000_000;
      const reply = await lab.outside.exec([process.execPath, "-e", sendingClient, target.underlayIp, String(size)], { timeoutMs: 15_000 });
      assert.equal(reply.trim(), String(size), "every byte arrived with a valid TCP checksum");
    } finally {
      server.kill("SIGKILL");
    }
  });

  test("a Geneve tunnel between nodes crosses the router", async () => {
    // node1 and node2 sit on different segments. Each gets a netdev bridge with a Geneve
    // port to the other's underlay address and an internal port with an overlay address.
    const [first, second] = [lab.node(1), lab.node(2)];
    const pairs = [
      { node: first, remote: second.underlayIp, overlay: "172.31.0.1" },
      { node: second, remote: first.underlayIp, overlay: "172.31.0.2" },
    ];
    for (const { node, remote, overlay } of pairs) {
      await node.vsctl([
        "--", "add-br", "sylint", "--", "set", "bridge", "sylint", "datapath_type=netdev",
        "--", "add-port", "sylint", "syltun0", "--", "set", "interface", "syltun0", "type=geneve", `options:remote_ip=${remote}`,
        "--", "add-port", "sylint", "sylp0", "--", "set", "interface", "sylp0", "type=internal",
      ]);
      await node.exec(["ip", "addr", "add", `${overlay}/24`, "dev", "sylp0"]);
      await node.exec(["ip", "link", "set", "sylp0", "up"]);
    }

    assert.equal(pingTtl(first.netns, "172.31.0.2"), 64, "the overlay hides the router hop");
    const neighbours = execFileSync("ovs-appctl", ["-t", first.vswitchdCtl, "tnl/neigh/show"], { encoding: "utf8" });
    assert.match(neighbours, new RegExp(`^${first.gateway?.replaceAll(".", "\\.")}\\s+\\S+\\s+br-phy$`, "m"), "the tunnel resolved the router's MAC on br-phy");
  });

  test("status lists the router addresses", async () => {
    const status = await labStatus({ name, stateDir });
    assert.equal(status.healthy, true, status.problems.join("; "));
    assert.deepEqual(status.router?.addresses, lab.segments.map((segment) => segment.gateway));
  });
});
