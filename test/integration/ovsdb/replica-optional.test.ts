// Optional columns in the replica after update2 "modify": for a column of at most one
// element, ovsdb-server sends the new value, not a difference. A second client (ovs-vsctl)
// changes Interface.mac_in_use the way ovs-vswitchd does; ovs-vsctl reads the expected value.
import assert from "node:assert/strict";
import { test } from "node:test";
import { OvsdbClient, Vswitch } from "../../../ovsdb/index.ts";
import { startOvsdbServer } from "./fixture.ts";

async function waitForValue(read: () => string | null | undefined, expected: string | null): Promise<string | null | undefined> {
  const deadline = Date.now() + 5000;
  let value = read();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    value = read();
  }
  return value;
}

test("replica: mac_in_use follows every change", async (t) => {
  const server = await startOvsdbServer();
  t.after(() => server.stop());
  const client = await OvsdbClient.connect(server.endpoint);
  t.after(() => client.close());
  const vswitch = await Vswitch.open(client);
  t.after(() => vswitch.close());

  await server.vsctl("add-br", "sywbr0", "--", "set", "Bridge", "sywbr0", "datapath_type=netdev");
  const macs = ["0a:00:00:00:00:01", "0a:00:00:00:00:02", "0a:00:00:00:00:03"];
  for (const mac of macs) {
    await server.vsctl("set", "Interface", "sywbr0", `mac_in_use="${mac}"`);
    const expected = (await server.vsctl("get", "Interface", "sywbr0", "mac_in_use")).trim().replace(/"/g, "");
    assert.equal(expected, mac, "ovs-vsctl reads the value it wrote");
    assert.equal(await waitForValue(() => vswitch.interface("sywbr0")?.mac_in_use, mac), mac);
  }

  await server.vsctl("clear", "Interface", "sywbr0", "mac_in_use");
  assert.equal((await server.vsctl("get", "Interface", "sywbr0", "mac_in_use")).trim(), "[]");
  assert.equal(await waitForValue(() => vswitch.interface("sywbr0")?.mac_in_use, null), null);
});
