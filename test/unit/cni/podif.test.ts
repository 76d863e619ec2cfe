import { test } from "node:test";
import assert from "node:assert/strict";
import { parseInspectOutput, podSideBatch } from "../../../agent/podif/linux.ts";
import { hostInterfaceName, randomPodMac } from "../../../agent/podif/names.ts";
import { gatewayFlowTexts, podFlowTexts } from "../../../agent/cniserver/flows.ts";
import { KeyedLock } from "../../../agent/cniserver/keyed-lock.ts";

test("host interface name fits 15 bytes", () => {
  const name = hostInterfaceName({ podName: "very-long-pod-name-with-many-parts", containerId: "c1", ifName: "eth0" });
  assert.ok(Buffer.byteLength(name) <= 15, name);
  assert.match(name, /^verylo-[0-9a-f]{8}$/);
  assert.match(hostInterfaceName({ containerId: "c1", ifName: "eth0" }), /^pod-[0-9a-f]{8}$/);
  assert.match(hostInterfaceName({ podName: "ÄÖ__", containerId: "c1", ifName: "eth0" }), /^pod-[0-9a-f]{8}$/);
});

test("host interface name is stable and distinct", () => {
  const a = hostInterfaceName({ podName: "web", containerId: "c1", ifName: "eth0" });
  assert.equal(hostInterfaceName({ podName: "web", containerId: "c1", ifName: "eth0" }), a);
  assert.notEqual(hostInterfaceName({ podName: "web", containerId: "c2", ifName: "eth0" }), a);
  assert.notEqual(hostInterfaceName({ podName: "web", containerId: "c1", ifName: "net1" }), a);
});

test("pod MAC is unicast and locally administered", () => {
  for (let i = 0; i < 100; i++) {
    const mac = randomPodMac();
    assert.match(mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    const first = parseInt(mac.slice(0, 2), 16);
    assert.equal(first & 1, 0, "multicast bit clear");
    assert.equal(first & 2, 2, "local bit set");
  }
});

test("pod-side batch lines", () => {
  const batch = podSideBatch(
    {
      netns: "/run/netns/p",
      ifName: "eth0",
      hostIfName: "web-12345678",
      mac: "02:00:00:00:00:01",
      mtu: 1450,
      addresses: [
        { address: "10.1.0.2", prefixLength: 24, gateway: "10.1.0.1" },
        { address: "fd00::2", prefixLength: 64, gateway: "fd00::1" },
      ],
    },
    4242,
  );
  assert.equal(
    batch,
    [
      "link add eth0 mtu 1450 address 02:00:00:00:00:01 type veth peer name web-12345678 mtu 1450 arp off netns 4242",
      "address add 10.1.0.2/24 dev eth0",
      "address add fd00::2/64 dev eth0 nodad",
      "link set eth0 up",
      "route add 0.0.0.0/0 via 10.1.0.1 dev eth0",
      "route add ::/0 via fd00::1 dev eth0",
      "",
    ].join("\n"),
  );
});

test("inspect output parse", () => {
  // Captured from `ip -j -batch -` (iproute2 6.1) with "address show dev eth0" and "route show table all dev eth0".
  const stdout = [
    '[{"ifindex":2,"link_index":4,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1450,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"02:11:22:33:44:55","broadcast":"ff:ff:ff:ff:ff:ff","link_netnsid":0,"addr_info":[{"family":"inet","local":"10.9.0.5","prefixlen":24,"scope":"global","label":"eth0","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fd00:9::5","prefixlen":64,"scope":"global","nodad":true,"valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fe80::11:22ff:fe33:4455","prefixlen":64,"scope":"link","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]',
    '[{"dst":"default","gateway":"10.9.0.1","flags":[]},{"dst":"10.9.0.0/24","protocol":"kernel","scope":"link","prefsrc":"10.9.0.5","flags":[]},{"type":"local","dst":"10.9.0.5","table":"local","protocol":"kernel","scope":"host","prefsrc":"10.9.0.5","flags":[]},{"dst":"default","gateway":"fd00:9::1","metric":1024,"flags":[],"pref":"medium"}]',
    "",
  ].join("\n");
  assert.deepEqual(parseInspectOutput(stdout), {
    mac: "02:11:22:33:44:55",
    mtu: 1450,
    up: true,
    addresses: ["10.9.0.5/24", "fd00:9::5/64"],
    defaultGateways: ["10.9.0.1", "fd00:9::1"],
  });
});

test("pod flows as ovs-ofctl text", () => {
  assert.deepEqual(podFlowTexts({ ofport: 7, mac: "02:00:00:00:00:07", ips: ["10.1.0.7"] }), [
    "cookie=0x5359000000000007,table=1,priority=200,dl_dst=02:00:00:00:00:07,actions=output:7",
    "cookie=0x5359000000000007,table=0,priority=200,in_port=7,ip,dl_src=02:00:00:00:00:07,nw_src=10.1.0.7,actions=goto_table:1",
    "cookie=0x5359000000000007,table=0,priority=200,in_port=7,arp,dl_src=02:00:00:00:00:07,arp_spa=10.1.0.7,arp_sha=02:00:00:00:00:07,actions=goto_table:1",
    "cookie=0x5359000000000007,table=1,priority=200,arp,arp_tpa=10.1.0.7,actions=output:7",
  ]);
  assert.deepEqual(gatewayFlowTexts({ mac: "02:00:00:00:00:01", ips: ["fd00::1"] }), [
    "cookie=0x5359ffff00000000,table=0,priority=200,in_port=LOCAL,actions=goto_table:1",
    "cookie=0x5359ffff00000000,table=1,priority=200,dl_dst=02:00:00:00:00:01,actions=LOCAL",
    "cookie=0x5359ffff00000000,table=1,priority=200,icmp6,icmp_type=135,nd_target=fd00::1,actions=LOCAL",
  ]);
});

test("keyed lock serialises one key", async () => {
  const lock = new KeyedLock();
  const order: string[] = [];
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  await Promise.all([
    lock.run("a", async () => {
      order.push("a1 start");
      await sleep(20);
      order.push("a1 end");
    }),
    lock.run("a", async () => {
      order.push("a2 start");
      order.push("a2 end");
    }),
    lock.run("b", async () => {
      order.push("b start");
      order.push("b end");
    }),
  ]);
  assert.deepEqual(order, ["a1 start", "b start", "b end", "a1 end", "a2 start", "a2 end"]);
});

test("keyed lock continues after a failure", async () => {
  const lock = new KeyedLock();
  await assert.rejects(lock.run("a", () => Promise.reject(new Error("boom"))), /boom/);
  assert.equal(await lock.run("a", () => Promise.resolve(5)), 5);
});
