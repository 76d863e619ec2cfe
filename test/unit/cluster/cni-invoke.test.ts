// libcni semantics of the plugin chain: environment, stdin, prevResult chaining, DEL order
// and the result cache. Plugins are fake binaries in a temporary CNI_PATH folder. Expected
// values are literals written from the CNI specification and libcni's cache format.
import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { parseNetworkConfigList } from "../../cluster/cni/conflist.ts";
import { addNetworkList, buildPluginEnv, buildPluginStdin, delNetworkList, processExecutor } from "../../cluster/cni/invoke.ts";
import type { PluginExecution, PluginOutput, RuntimeArgs } from "../../cluster/cni/invoke.ts";
import { ClusterErrorCode, CniPluginError } from "../../cluster/errors.ts";
import { podRuntimeArgs } from "../../cluster/runtime-args.ts";

const runtime: RuntimeArgs = {
  containerId: "c0ffee",
  netnsPath: "/run/netns/syr-default-web-dee35a81",
  ifName: "eth0",
  args: [
    ["IgnoreUnknown", "1"],
    ["K8S_POD_NAMESPACE", "default"],
    ["K8S_POD_NAME", "web"],
    ["K8S_POD_INFRA_CONTAINER_ID", "c0ffee"],
    ["K8S_POD_UID", "0b6f5c7e-1d2a-4c1b-9a55-3f2d7e8c9a10"],
  ],
  capabilityArgs: {},
};

const conflistText = JSON.stringify({
  cniVersion: "1.0.0",
  name: "syr-net",
  plugins: [
    { type: "first", cniVersion: "0.3.1", name: "ignored", mtu: 1400 },
    { type: "second", capabilities: { portMappings: true } },
  ],
});

const firstResult = { cniVersion: "1.0.0", interfaces: [{ name: "eth0" }], ips: [{ address: "10.99.1.2/24", interface: 0 }] };
const secondResult = { ...firstResult, dns: { nameservers: ["10.99.0.10"] } };

/** A fake executor that records each call and returns canned outputs by plugin file name. */
function recordingExecutor(outputs: Record<string, PluginOutput>): { calls: PluginExecution[]; executor: (execution: PluginExecution) => Promise<PluginOutput> } {
  const calls: PluginExecution[] = [];
  return {
    calls,
    executor: (execution) => {
      calls.push(execution);
      const name = execution.binary.split("/").pop() ?? "";
      const output = outputs[name];
      return Promise.resolve(output ?? { exitCode: 0, stdout: "", stderr: "" });
    },
  };
}

describe("CNI plugin chain", () => {
  let binDir = "";
  let cacheDir = "";

  before(async () => {
    binDir = await mkdtemp(join(tmpdir(), "syr-cni-bin-"));
    cacheDir = await mkdtemp(join(tmpdir(), "syr-cni-cache-"));
    for (const name of ["first", "second"]) {
      await writeFile(join(binDir, name), "#!/bin/sh\nexit 0\n");
      await chmod(join(binDir, name), 0o755);
    }
  });

  after(async () => {
    await rm(binDir, { recursive: true, force: true });
    await rm(cacheDir, { recursive: true, force: true });
  });

  test("environment carries the CNI variables", () => {
    assert.deepEqual(buildPluginEnv({ command: "ADD", runtime, cniPath: ["/opt/cni/bin", "/usr/lib/cni"] }), {
      CNI_COMMAND: "ADD",
      CNI_CONTAINERID: "c0ffee",
      CNI_NETNS: "/run/netns/syr-default-web-dee35a81",
      CNI_IFNAME: "eth0",
      CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=c0ffee;K8S_POD_UID=0b6f5c7e-1d2a-4c1b-9a55-3f2d7e8c9a10",
      CNI_PATH: "/opt/cni/bin:/usr/lib/cni",
    });
  });

  test("pod runtime args follow CRI order", () => {
    const args = podRuntimeArgs({ pod: { namespace: "default", name: "web", uid: "u1" }, sandboxId: "s1", netns: "syr-x", portMappings: [] });
    assert.equal(args.netnsPath, "/run/netns/syr-x");
    assert.equal(args.ifName, "eth0");
    assert.deepEqual(args.args, [["IgnoreUnknown", "1"], ["K8S_POD_NAMESPACE", "default"], ["K8S_POD_NAME", "web"], ["K8S_POD_INFRA_CONTAINER_ID", "s1"], ["K8S_POD_UID", "u1"]]);
    assert.deepEqual(args.capabilityArgs, {});
  });

  test("stdin injects name, version and prevResult", () => {
    const list = parseNetworkConfigList(Buffer.from(conflistText), "test.conflist");
    const stdin = JSON.parse(buildPluginStdin({ list, plugin: list.plugins[0] ?? { type: "" }, prevResult: undefined, capabilityArgs: {} })) as Record<string, unknown>;
    assert.deepEqual(stdin, { type: "first", cniVersion: "1.0.0", name: "syr-net", mtu: 1400 });

    const chained = JSON.parse(buildPluginStdin({ list, plugin: list.plugins[1] ?? { type: "" }, prevResult: firstResult, capabilityArgs: {} })) as Record<string, unknown>;
    assert.deepEqual(chained, { type: "second", capabilities: { portMappings: true }, cniVersion: "1.0.0", name: "syr-net", prevResult: firstResult });
  });

  test("runtimeConfig only for declared capabilities", () => {
    const list = parseNetworkConfigList(Buffer.from(conflistText), "test.conflist");
    const mappings = [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }];
    const capabilityArgs = { portMappings: mappings, bandwidth: { ingressRate: 1 } };
    const declared = JSON.parse(buildPluginStdin({ list, plugin: list.plugins[1] ?? { type: "" }, prevResult: undefined, capabilityArgs })) as Record<string, unknown>;
    assert.deepEqual(declared.runtimeConfig, { portMappings: mappings });
    const undeclared = JSON.parse(buildPluginStdin({ list, plugin: list.plugins[0] ?? { type: "" }, prevResult: undefined, capabilityArgs })) as Record<string, unknown>;
    assert.equal(undeclared.runtimeConfig, undefined);
  });

  test("ADD chains results and writes the cache", async () => {
    const list = parseNetworkConfigList(Buffer.from(conflistText), "test.conflist");
    const { calls, executor } = recordingExecutor({
      first: { exitCode: 0, stdout: JSON.stringify(firstResult), stderr: "" },
      second: { exitCode: 0, stdout: JSON.stringify(secondResult), stderr: "" },
    });
    const result = await addNetworkList({ list, runtime, cniPath: [binDir], cacheDir, executor });
    assert.deepEqual(result, secondResult);
    assert.deepEqual(calls.map((call) => [call.binary, call.env.CNI_COMMAND]), [[join(binDir, "first"), "ADD"], [join(binDir, "second"), "ADD"]]);
    assert.equal((JSON.parse(calls[0]?.stdin ?? "{}") as Record<string, unknown>).prevResult, undefined);
    assert.deepEqual((JSON.parse(calls[1]?.stdin ?? "{}") as Record<string, unknown>).prevResult, firstResult);

    const cache = JSON.parse(await readFile(join(cacheDir, "results", "syr-net-c0ffee-eth0"), "utf8")) as Record<string, unknown>;
    assert.equal(cache.kind, "cniCacheV1");
    assert.equal(cache.containerId, "c0ffee");
    assert.equal(cache.ifName, "eth0");
    assert.equal(cache.networkName, "syr-net");
    assert.equal(cache.netns, "/run/netns/syr-default-web-dee35a81");
    assert.equal(Buffer.from(String(cache.config), "base64").toString("utf8"), conflistText);
    assert.deepEqual(cache.cniArgs, runtime.args);
    assert.deepEqual(cache.result, secondResult);
  });

  test("DEL runs in reverse with cached prevResult", async () => {
    const list = parseNetworkConfigList(Buffer.from(conflistText), "test.conflist");
    const adding = recordingExecutor({
      first: { exitCode: 0, stdout: JSON.stringify(firstResult), stderr: "" },
      second: { exitCode: 0, stdout: JSON.stringify(secondResult), stderr: "" },
    });
    await addNetworkList({ list, runtime, cniPath: [binDir], cacheDir, executor: adding.executor });

    const { calls, executor } = recordingExecutor({});
    await delNetworkList({ list, runtime, cniPath: [binDir], cacheDir, executor });
    assert.deepEqual(calls.map((call) => [call.binary.split("/").pop(), call.env.CNI_COMMAND]), [["second", "DEL"], ["first", "DEL"]]);
    for (const call of calls) assert.deepEqual((JSON.parse(call.stdin) as Record<string, unknown>).prevResult, secondResult);
    await assert.rejects(readFile(join(cacheDir, "results", "syr-net-c0ffee-eth0")), { code: "ENOENT" });

    const again = recordingExecutor({});
    await delNetworkList({ list, runtime, cniPath: [binDir], cacheDir, executor: again.executor });
    assert.equal(again.calls.length, 2);
    for (const call of again.calls) assert.equal((JSON.parse(call.stdin) as Record<string, unknown>).prevResult, undefined);
  });

  test("ADD stops at a failing plugin", async () => {
    const list = parseNetworkConfigList(Buffer.from(JSON.stringify({ cniVersion: "1.0.0", name: "syr-fail", plugins: [{ type: "first" }, { type: "second" }] })), "fail.conflist");
    const { calls, executor } = recordingExecutor({
      first: { exitCode: 1, stdout: JSON.stringify({ cniVersion: "1.0.0", code: 11, msg: "failed to allocate", details: "range 10.99.1.0/24 is full" }), stderr: "" },
    });
    const error = await addNetworkList({ list, runtime, cniPath: [binDir], cacheDir, executor }).then(
      () => assert.fail("ADD succeeded"),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof CniPluginError);
    assert.equal(error.code, ClusterErrorCode.CniPluginFailed);
    assert.equal(error.cniCode, 11);
    assert.equal(error.message, "CNI plugin first ADD failed (CNI code 11): failed to allocate: range 10.99.1.0/24 is full");
    assert.equal(calls.length, 1);
    await assert.rejects(readFile(join(cacheDir, "results", "syr-fail-c0ffee-eth0")), { code: "ENOENT" });
  });

  test("plugin failure without error object uses stderr", async () => {
    const list = parseNetworkConfigList(Buffer.from(JSON.stringify({ cniVersion: "1.0.0", name: "syr-fail", plugins: [{ type: "first" }] })), "fail.conflist");
    const { executor } = recordingExecutor({ first: { exitCode: 2, stdout: "", stderr: "panic: boom\n" } });
    await assert.rejects(addNetworkList({ list, runtime, cniPath: [binDir], cacheDir, executor }), {
      message: "CNI plugin first ADD failed: exit code 2: panic: boom",
    });
  });

  test("missing plugin names CNI_PATH", async () => {
    const list = parseNetworkConfigList(Buffer.from(JSON.stringify({ cniVersion: "1.0.0", name: "syr-x", plugins: [{ type: "syr-absent" }] })), "x.conflist");
    const { executor } = recordingExecutor({});
    await assert.rejects(addNetworkList({ list, runtime, cniPath: [binDir, "/nonexistent"], cacheDir, executor }), {
      code: ClusterErrorCode.CniPluginNotFound,
      message: `CNI plugin syr-absent not found in CNI_PATH ${binDir}:/nonexistent: install it or add its folder to the CNI path`,
    });
  });

  test("process executor passes env and stdin", async () => {
    const dumpDir = await mkdtemp(join(tmpdir(), "syr-cni-dump-"));
    try {
      const script = join(dumpDir, "dump");
      await writeFile(
        script,
        `#!/bin/sh\nprintf '%s|%s|%s|%s' "$CNI_COMMAND" "$CNI_IFNAME" "$CNI_NETNS" "$CNI_PATH" > ${dumpDir}/env\ncat > ${dumpDir}/stdin\necho '{"cniVersion":"1.0.0","ips":[]}'\n`,
      );
      await chmod(script, 0o755);
      const list = parseNetworkConfigList(Buffer.from(JSON.stringify({ cniVersion: "1.0.0", name: "syr-dump", plugins: [{ type: "dump", x: 1 }] })), "dump.conflist");
      const result = await addNetworkList({ list, runtime, cniPath: [dumpDir], cacheDir, executor: processExecutor() });
      assert.deepEqual(result, { cniVersion: "1.0.0", ips: [] });
      assert.equal(await readFile(join(dumpDir, "env"), "utf8"), `ADD|eth0|/run/netns/syr-default-web-dee35a81|${dumpDir}`);
      assert.deepEqual(JSON.parse(await readFile(join(dumpDir, "stdin"), "utf8")), { type: "dump", x: 1, name: "syr-dump", cniVersion: "1.0.0" });
    } finally {
      await rm(dumpDir, { recursive: true, force: true });
    }
  });
});
