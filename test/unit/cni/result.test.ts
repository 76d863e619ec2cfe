import { test } from "node:test";
import assert from "node:assert/strict";
import { convertResult } from "../../../cni/result.ts";
import type { CniResult } from "../../../cni/result.ts";

const RESULT: CniResult = {
  interfaces: [
    { name: "web-1a2b3c4d", mac: "0a:00:00:00:00:01" },
    { name: "eth0", mac: "02:00:00:00:00:02", mtu: 1450, sandbox: "/run/netns/p" },
  ],
  ips: [
    { address: "10.0.0.5/24", gateway: "10.0.0.1", interface: 1 },
    { address: "fd00::5/64", gateway: "fd00::1", interface: 1 },
  ],
  routes: [
    { dst: "0.0.0.0/0", gw: "10.0.0.1", mtu: 1400, priority: 5 },
    { dst: "::/0", gw: "fd00::1" },
  ],
  dns: { nameservers: ["10.96.0.10"] },
};

// Expected documents written out from the specification's result examples for each version.
test("result as 1.1.0 keeps interface and route mtu", () => {
  assert.deepEqual(convertResult(RESULT, "1.1.0"), {
    cniVersion: "1.1.0",
    interfaces: [
      { name: "web-1a2b3c4d", mac: "0a:00:00:00:00:01" },
      { name: "eth0", mac: "02:00:00:00:00:02", mtu: 1450, sandbox: "/run/netns/p" },
    ],
    ips: [
      { address: "10.0.0.5/24", gateway: "10.0.0.1", interface: 1 },
      { address: "fd00::5/64", gateway: "fd00::1", interface: 1 },
    ],
    routes: [
      { dst: "0.0.0.0/0", gw: "10.0.0.1", mtu: 1400, priority: 5 },
      { dst: "::/0", gw: "fd00::1" },
    ],
    dns: { nameservers: ["10.96.0.10"] },
  });
});

test("result as 1.0.0 drops 1.1 fields", () => {
  assert.deepEqual(convertResult(RESULT, "1.0.0"), {
    cniVersion: "1.0.0",
    interfaces: [
      { name: "web-1a2b3c4d", mac: "0a:00:00:00:00:01" },
      { name: "eth0", mac: "02:00:00:00:00:02", sandbox: "/run/netns/p" },
    ],
    ips: [
      { address: "10.0.0.5/24", gateway: "10.0.0.1", interface: 1 },
      { address: "fd00::5/64", gateway: "fd00::1", interface: 1 },
    ],
    routes: [
      { dst: "0.0.0.0/0", gw: "10.0.0.1" },
      { dst: "::/0", gw: "fd00::1" },
    ],
    dns: { nameservers: ["10.96.0.10"] },
  });
});

for (const version of ["0.3.0", "0.3.1", "0.4.0"] as const) {
  test(`result as ${version} carries ips version`, () => {
    const converted = convertResult(RESULT, version);
    assert.equal(converted.cniVersion, version);
    assert.deepEqual(converted.ips, [
      { version: "4", address: "10.0.0.5/24", gateway: "10.0.0.1", interface: 1 },
      { version: "6", address: "fd00::5/64", gateway: "fd00::1", interface: 1 },
    ]);
    assert.deepEqual(converted.interfaces, [
      { name: "web-1a2b3c4d", mac: "0a:00:00:00:00:01" },
      { name: "eth0", mac: "02:00:00:00:00:02", sandbox: "/run/netns/p" },
    ]);
    assert.deepEqual(converted.routes, [
      { dst: "0.0.0.0/0", gw: "10.0.0.1" },
      { dst: "::/0", gw: "fd00::1" },
    ]);
  });
}

test("result without dns gets an empty dns object", () => {
  assert.deepEqual(convertResult({ ips: [] }, "1.0.0"), { cniVersion: "1.0.0", ips: [], dns: {} });
});

test("result conversion leaves the input unchanged", () => {
  const before = JSON.stringify(RESULT);
  convertResult(RESULT, "0.3.0");
  assert.equal(JSON.stringify(RESULT), before);
});
