// The agent's vswitch API against ovsdb-server and ovs-vswitchd (netdev datapath) in a
// namespace of our own. Expected values come from ovs-vsctl and ovs-ofctl.
import assert from "node:assert/strict";
import { test } from "node:test";
import { OfportError, OvsdbClient, TimeoutError, Vswitch, VswitchError } from "../../../ovsdb/index.ts";
import { startOvsdbServer, startVswitchd } from "./fixture.ts";
import type { OvsdbServer, Vswitchd } from "./fixture.ts";

type Context = { after: (fn: () => Promise<void> | void) => void };

async function setup(t: Context, options: { vswitchd: boolean }): Promise<{ server: OvsdbServer; vswitch: Vswitch; daemon: Vswitchd | undefined }> {
  const server = await startOvsdbServer();
  t.after(() => server.stop());
  const daemon = options.vswitchd ? await startVswitchd(server) : undefined;
  if (daemon !== undefined) t.after(() => daemon.stop());
  const client = await OvsdbClient.connect(server.endpoint);
  t.after(() => client.close());
  const vswitch = await Vswitch.open(client);
  t.after(() => vswitch.close());
  return { server, vswitch, daemon };
}

async function get(server: OvsdbServer, ...args: string[]): Promise<string> {
  return (await server.vsctl("get", ...args)).trim();
}

test("ensureBridge is idempotent", async (t) => {
  const { server, vswitch } = await setup(t, { vswitchd: false });
  const spec = {
    name: "sydbr0",
    datapathType: "netdev",
    protocols: ["OpenFlow13", "OpenFlow15"] as ("OpenFlow13" | "OpenFlow15")[],
    failMode: "secure" as const,
    otherConfig: { "disable-in-band": "true" },
    externalIds: { owner: "switchyard" },
  };
  const first = await vswitch.ensureBridge(spec);
  assert.equal(first.created, true);
  assert.equal(await get(server, "Bridge", "sydbr0", "_uuid"), first.uuid);
  assert.equal(await get(server, "Bridge", "sydbr0", "datapath_type"), "netdev");
  assert.equal(await get(server, "Bridge", "sydbr0", "protocols"), '[OpenFlow13, OpenFlow15]');
  assert.equal(await get(server, "Bridge", "sydbr0", "fail_mode"), "secure");
  assert.equal(await get(server, "Bridge", "sydbr0", "other_config:disable-in-band"), '"true"');
  assert.equal((await server.vsctl("list-ports", "sydbr0")).trim(), "");
  assert.equal(await get(server, "Interface", "sydbr0", "type"), "internal");

  const second = await vswitch.ensureBridge(spec);
  assert.deepEqual(second, { uuid: first.uuid, created: false, updated: false });

  const third = await vswitch.ensureBridge({ ...spec, failMode: "standalone", externalIds: { owner: "other" } });
  assert.equal(third.updated, true);
  assert.equal(await get(server, "Bridge", "sydbr0", "fail_mode"), "standalone");
  assert.equal(await get(server, "Bridge", "sydbr0", "external_ids:owner"), "other");
});

test("addPort, ofport, deletePort", async (t) => {
  const { server, vswitch, daemon } = await setup(t, { vswitchd: true });
  await vswitch.ensureBridge({ name: "sydbr1", datapathType: "netdev" });
  const spec = { bridge: "sydbr1", name: "sydp1", type: "internal", externalIds: { "k8s-pod": "default/web" }, ofportRequest: 17, mtuRequest: 1400 };
  const added = await vswitch.addPort(spec);
  assert.equal(added.created, true);
  const ofport = await vswitch.waitForOfport("sydp1", { timeoutMs: 10_000 });
  assert.equal(ofport, 17);
  assert.equal(await get(server, "Interface", "sydp1", "ofport"), "17");
  assert.equal((await server.vsctl("list-ports", "sydbr1")).trim(), "sydp1");
  assert.equal(await get(server, "Port", "sydp1", "external_ids:k8s-pod"), '"default/web"');
  assert.match(await daemon!.ofctl("show", "sydbr1"), /17\(sydp1\)/);

  assert.deepEqual(await vswitch.addPort(spec), { ...added, created: false, updated: false });
  assert.deepEqual(vswitch.findPorts({ externalIds: { "k8s-pod": "default/web" } }).map((p) => p.name), ["sydp1"]);
  assert.deepEqual(vswitch.findPorts({ externalIds: { "k8s-pod": "other" } }), []);

  assert.equal(await vswitch.deletePort({ bridge: "sydbr1", name: "sydp1" }), true);
  assert.equal((await server.vsctl("list-ports", "sydbr1")).trim(), "");
  assert.equal((await server.vsctl("--bare", "--columns=name", "find", "Interface", "name=sydp1")).trim(), "");
  assert.equal((await server.vsctl("--bare", "--columns=name", "find", "Port", "name=sydp1")).trim(), "");
  assert.equal(await vswitch.deletePort({ bridge: "sydbr1", name: "sydp1" }), false);
});

test("waitForVswitchd times out without daemon", async (t) => {
  const { vswitch } = await setup(t, { vswitchd: false });
  await assert.rejects(vswitch.waitForVswitchd({ timeoutMs: 200 }), /apply next_cfg 1 timed out after 200 ms; check that ovs-vswitchd is running/);
});

test("tunnel port options", async (t) => {
  const { server, vswitch, daemon } = await setup(t, { vswitchd: true });
  await vswitch.ensureBridge({ name: "sydbr2", datapathType: "netdev" });
  await vswitch.addPort({ bridge: "sydbr2", name: "sydgnv0", type: "geneve", options: { remote_ip: "flow", key: "flow", dst_port: "6081", csum: "true" } });
  assert.ok((await vswitch.waitForOfport("sydgnv0", { timeoutMs: 10_000 })) > 0);
  assert.equal(await get(server, "Interface", "sydgnv0", "type"), "geneve");
  assert.equal(await get(server, "Interface", "sydgnv0", "options"), '{csum="true", dst_port="6081", key=flow, remote_ip=flow}');

  await vswitch.setInterfaceOptions("sydgnv0", { type: "vxlan", options: { remote_ip: "flow", key: "flow", dst_port: "4789" } });
  assert.equal(await get(server, "Interface", "sydgnv0", "type"), "vxlan");
  assert.equal(await get(server, "Interface", "sydgnv0", "options"), '{dst_port="4789", key=flow, remote_ip=flow}');
  assert.match(await daemon!.ofctl("show", "sydbr2"), /\(sydgnv0\)/);

  await vswitch.addPort({ bridge: "sydbr2", name: "sydgre0", type: "gre", options: { remote_ip: "flow", key: "flow" } });
  assert.equal(await get(server, "Interface", "sydgre0", "type"), "gre");
});

test("ofport -1 reports Interface.error", async (t) => {
  const { server, vswitch } = await setup(t, { vswitchd: true });
  await vswitch.ensureBridge({ name: "sydbr3", datapathType: "netdev" });
  // A system interface that does not exist in the namespace cannot be opened.
  await vswitch.addPort({ bridge: "sydbr3", name: "sydmissing0" });
  await assert.rejects(vswitch.waitForOfport("sydmissing0", { timeoutMs: 10_000 }), (error: unknown) => {
    assert.ok(error instanceof OfportError);
    assert.match(error.message, /interface sydmissing0 has ofport -1/);
    assert.ok(error.interfaceError !== null);
    return true;
  });
  const reference = await get(server, "Interface", "sydmissing0", "error");
  assert.ok(reference.includes("could not open network device sydmissing0"), reference);
});

test("waitForOfport times out without vswitchd", async (t) => {
  const { vswitch } = await setup(t, { vswitchd: false });
  await vswitch.ensureBridge({ name: "sydbr4", datapathType: "netdev" });
  await vswitch.addPort({ bridge: "sydbr4", name: "sydp4", type: "internal" });
  await assert.rejects(vswitch.waitForOfport("sydp4", { timeoutMs: 200 }), (error: unknown) => {
    assert.ok(error instanceof TimeoutError);
    assert.match(error.message, /ofport of interface sydp4 timed out after 200 ms/);
    return true;
  });
  await assert.rejects(vswitch.addPort({ bridge: "sydnone", name: "sydp5" }), VswitchError);
});

test("Open_vSwitch other_config keys", async (t) => {
  const { server, vswitch } = await setup(t, { vswitchd: false });
  await server.vsctl("set", "Open_vSwitch", ".", "other_config:keep=1");
  await vswitch.setOpenVSwitchOtherConfig({ "hw-offload": "false", "flow-restore-wait": "true" });
  assert.equal(await get(server, "Open_vSwitch", ".", "other_config"), '{flow-restore-wait="true", hw-offload="false", keep="1"}');
  await vswitch.setOpenVSwitchOtherConfig({ "flow-restore-wait": null, "hw-offload": "true" });
  assert.equal(await get(server, "Open_vSwitch", ".", "other_config"), '{hw-offload="true", keep="1"}');
});

test("named flow tables in ovs-ofctl", async (t) => {
  const { server, vswitch, daemon } = await setup(t, { vswitchd: true });
  await vswitch.ensureBridge({ name: "sydbr5", datapathType: "netdev", protocols: ["OpenFlow15"] });
  await vswitch.nameFlowTables("sydbr5", { 0: "Classifier", 10: "SpoofGuard" });
  await vswitch.nameFlowTables("sydbr5", { 0: "Classifier", 10: "SpoofGuard" });
  await vswitch.waitForVswitchd({ timeoutMs: 10_000 });
  assert.equal((await server.vsctl("--bare", "--columns=name", "list", "Flow_Table")).split("\n").filter((l) => l !== "").sort().join(","), "Classifier,SpoofGuard");
  await daemon!.ofctl("add-flow", "sydbr5", "table=10,priority=5,actions=drop");
  const flows = await daemon!.ofctl("dump-flows", "sydbr5", "--names");
  assert.match(flows, /table=SpoofGuard, .*priority=5 actions=drop/);
});

test("concurrent addPort of one port", async (t) => {
  const { server, vswitch } = await setup(t, { vswitchd: false });
  await vswitch.ensureBridge({ name: "sydbr6", datapathType: "netdev" });
  const spec = { bridge: "sydbr6", name: "sydp6", type: "internal" };
  const results = await Promise.all([vswitch.addPort(spec), vswitch.addPort(spec), vswitch.addPort(spec)]);
  assert.equal(results.filter((result) => result.created).length, 1);
  assert.equal(new Set(results.map((result) => result.portUuid)).size, 1);
  assert.equal((await server.vsctl("list-ports", "sydbr6")).trim(), "sydp6");
});
