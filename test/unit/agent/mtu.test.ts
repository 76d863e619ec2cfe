import { test } from "node:test";
import assert from "node:assert/strict";
import { MtuError, podMtu } from "../../../agent/forwarding/mtu.ts";

const cases = [
  { mode: "encap", tunnelType: "geneve", transportMtu: 1500, underlayFamily: "IPv4", expected: 1450 },
  { mode: "encap", tunnelType: "vxlan", transportMtu: 1500, underlayFamily: "IPv4", expected: 1450 },
  { mode: "encap", tunnelType: "gre", transportMtu: 1500, underlayFamily: "IPv4", expected: 1458 },
  { mode: "encap", tunnelType: "geneve", transportMtu: 1500, underlayFamily: "IPv6", expected: 1430 },
  { mode: "encap", tunnelType: "gre", transportMtu: 1500, underlayFamily: "IPv6", expected: 1438 },
  { mode: "encap", tunnelType: "geneve", transportMtu: 9000, underlayFamily: "IPv4", expected: 8950 },
  { mode: "encap", tunnelType: "geneve", transportMtu: 65536, underlayFamily: "IPv4", expected: 65000 },
  { mode: "hybrid", tunnelType: "vxlan", transportMtu: 1500, underlayFamily: "IPv4", expected: 1450 },
  { mode: "noEncap", tunnelType: "geneve", transportMtu: 1500, underlayFamily: "IPv4", expected: 1500 },
  { mode: "noEncap", tunnelType: "geneve", transportMtu: 65536, underlayFamily: "IPv4", expected: 65536 },
] as const;

for (const c of cases) {
  test(`podMtu: ${c.mode} ${c.tunnelType} over ${c.underlayFamily} ${c.transportMtu}`, () => {
    assert.equal(podMtu(c), c.expected);
  });
}

test("podMtu: rejects a result below 68", () => {
  assert.throws(() => podMtu({ mode: "encap", tunnelType: "geneve", transportMtu: 100, underlayFamily: "IPv4" }), MtuError);
  assert.throws(() => podMtu({ mode: "noEncap", tunnelType: "geneve", transportMtu: 10, underlayFamily: "IPv4" }), MtuError);
});
