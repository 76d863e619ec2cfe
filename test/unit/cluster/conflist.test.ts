// Loading the network configuration list the way runtimes pick it from a folder.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { loadNetworkConfigList, parseNetworkConfigList } from "../../cluster/cni/conflist.ts";
import { ClusterErrorCode } from "../../cluster/errors.ts";

async function withFolder(files: Record<string, string>, body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "syr-conf-"));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("first config file in lexical order wins", async () => {
  const list = (name: string): string => JSON.stringify({ cniVersion: "1.0.0", name, plugins: [{ type: "bridge" }] });
  await withFolder({ "20-b.conflist": list("b"), "10-a.conflist": list("a"), "00-notes.txt": "x" }, async (dir) => {
    const loaded = await loadNetworkConfigList(dir);
    assert.equal(loaded.name, "a");
    assert.equal(loaded.path, join(dir, "10-a.conflist"));
    assert.equal(loaded.bytes.toString("utf8"), list("a"));
  });
});

test("single-plugin .conf becomes a list", async () => {
  await withFolder({ "10-one.conf": JSON.stringify({ cniVersion: "0.4.0", name: "one", type: "ptp", ipam: { type: "host-local" } }) }, async (dir) => {
    const loaded = await loadNetworkConfigList(dir);
    assert.equal(loaded.cniVersion, "0.4.0");
    assert.equal(loaded.plugins.length, 1);
    assert.equal(loaded.plugins[0]?.type, "ptp");
  });
});

test("empty folder is rejected", async () => {
  await withFolder({}, async (dir) => {
    await assert.rejects(loadNetworkConfigList(dir), { code: ClusterErrorCode.CniConfigInvalid, message: `no .conflist, .conf or .json file in CNI configuration folder ${dir}` });
  });
});

test("invalid lists are rejected", () => {
  const cases: [string, string][] = [
    ["{", "is not valid JSON"],
    ["[]", "the top level must be a JSON object"],
    [JSON.stringify({ name: "x", plugins: [{ type: "bridge" }] }), `"cniVersion" must be a non-empty string`],
    [JSON.stringify({ cniVersion: "1.0.0", plugins: [{ type: "bridge" }] }), `"name" must be a non-empty string`],
    [JSON.stringify({ cniVersion: "1.0.0", name: "x", plugins: [] }), `"plugins" must be a non-empty array`],
    [JSON.stringify({ cniVersion: "1.0.0", name: "x", plugins: [{ type: "bridge" }, { mtu: 1 }] }), `plugins[1] must be an object with a non-empty "type"`],
  ];
  for (const [text, problem] of cases) {
    assert.throws(() => parseNetworkConfigList(Buffer.from(text), "t.conflist"), (error: Error & { code?: string }) => {
      assert.equal(error.code, ClusterErrorCode.CniConfigInvalid);
      assert.ok(error.message.includes(problem), `${error.message} should mention ${problem}`);
      return true;
    });
  }
});
