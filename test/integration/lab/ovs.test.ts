// startOvs and stopOvs on their own, as other suites use them.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { LabError, LabErrorCode, createNamespaces, deleteNamespaces, startOvs, stopOvs } from "../../lab/index.ts";
import type { OvsDaemon } from "../../lab/index.ts";
import { isPidLive, liveProcessesMentioning, tempStateRoot, uniqueLabName } from "./helpers.ts";

describe("startOvs and stopOvs", () => {
  const netns = `${uniqueLabName("ovs")}-ns`;
  let root = "";

  before(async () => {
    root = await tempStateRoot();
    await createNamespaces([netns]);
  });

  after(async () => {
    await stopOvs({ dir: join(root, "one") });
    await deleteNamespaces([netns]);
    await rm(root, { recursive: true, force: true });
  });

  test("start, use, stop and stop again", async () => {
    const dir = join(root, "one");
    const reported: Array<[OvsDaemon, number]> = [];
    const ovs = await startOvs({ dir, netns, onPid: (daemon, pid) => void reported.push([daemon, pid]) });
    assert.deepEqual(reported, [
      ["ovsdb-server", ovs.ovsdbPid],
      ["ovs-vswitchd", ovs.vswitchdPid],
    ]);

    await ovs.vsctl(["add-br", "sylbr0", "--", "set", "bridge", "sylbr0", "datapath_type=netdev"]);
    const bridges = execFileSync("ovs-vsctl", [`--db=unix:${ovs.dbSocket}`, "list-br"], { encoding: "utf8" });
    assert.equal(bridges, "sylbr0\n");
    const flows = execFileSync("ovs-ofctl", ["dump-flows", `unix:${ovs.mgmtSocket("sylbr0")}`], { encoding: "utf8" });
    assert.match(flows, /actions=NORMAL/);
    const tap = execFileSync("ip", ["-n", netns, "-o", "link", "show", "dev", "sylbr0"], { encoding: "utf8" });
    assert.match(tap, /sylbr0/, "the bridge's tap device is inside the namespace");

    const vswitchdPid = ovs.vswitchdPid;
    assert.ok(vswitchdPid !== undefined);
    const stopped = await stopOvs({ dir });
    assert.deepEqual([...stopped].sort(), [ovs.ovsdbPid, vswitchdPid].sort());
    assert.equal(await isPidLive(ovs.ovsdbPid), false);
    assert.equal(await isPidLive(vswitchdPid), false);
    assert.deepEqual(await liveProcessesMentioning(dir), []);
    assert.deepEqual(await stopOvs({ dir }), [], "a second stop finds nothing");
  });

  test("ovsdb-server alone with vswitchd false", async () => {
    const dir = join(root, "db-only");
    const ovs = await startOvs({ dir, netns, vswitchd: false });
    try {
      assert.equal(ovs.vswitchdPid, undefined);
      const show = execFileSync("ovsdb-client", ["list-dbs", `unix:${ovs.dbSocket}`], { encoding: "utf8" });
      assert.match(show, /^Open_vSwitch$/m);
    } finally {
      assert.deepEqual(await stopOvs({ dir }), [ovs.ovsdbPid]);
    }
  });

  test("failure names the daemon, the log and the cause", async () => {
    const dir = join(root, "broken");
    await assert.rejects(startOvs({ dir, netns: `${netns}-missing` }), (error: unknown) => {
      assert.ok(error instanceof LabError);
      assert.equal(error.code, LabErrorCode.OvsStartFailed);
      assert.match(error.message, new RegExp(`^ovsdb-server in ${netns}-missing failed to start: see ${dir}/ovsdb\\.log`));
      assert.match(error.message, /Cannot open network namespace/);
      return true;
    });
    assert.deepEqual(await liveProcessesMentioning(dir), []);
  });
});
