// bin/switchyard-controller as an operator runs it, checked with openssl and kubectl.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { startApiServer, type ApiServer } from "../../apiserver/index.ts";
import { allowPlainHttp, waitFor } from "./harness.ts";

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, "../../../bin/switchyard-controller");

/** Runs the binary to completion and returns its exit code and output. */
async function controller(args: readonly string[], options: { timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(BIN, args, { timeout: options.timeoutMs ?? 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

describe("switchyard-controller command", () => {
  let dir: string;
  let apiServer: ApiServer;
  let kubeconfig: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "syc-cli-"));
    apiServer = await startApiServer({ port: 0 });
    kubeconfig = join(dir, "kubeconfig");
    await apiServer.writeKubeconfig(kubeconfig);
    await allowPlainHttp(kubeconfig);
  });

  after(async () => {
    await apiServer?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("rejects an invalid configuration with status 2", async () => {
    const path = join(dir, "bad.yaml");
    await writeFile(path, "clusterCIDRs: [10.244.0.0/16]\nnodeCIDRMaskSizeIPv4: 8\napi: {port: 70000}\n");
    const result = await controller(["--config", path]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /api\.port: invalid value 70000: expected an integer from 0 to 65535/);
    assert.match(result.stderr, /nodeCIDRMaskSizeIPv4: invalid value 8 for cluster CIDR 10\.244\.0\.0\/16: expected from 16 to 32/);
  });

  it("issues a node certificate the CA verifies", async () => {
    const config = join(dir, "issue.yaml");
    await writeFile(config, `clusterCIDRs: [10.244.0.0/16]\ntls: {dir: ${join(dir, "tls")}}\n`);
    const result = await controller(["issue-cert", "--config", config, "--node", "worker-7", "--out", join(dir, "worker-7"), "--days", "2"]);
    assert.equal(result.code, 0, result.stderr);
    const subject = await run("openssl", ["x509", "-in", join(dir, "worker-7", "client.crt"), "-noout", "-subject", "-ext", "extendedKeyUsage"]);
    assert.match(subject.stdout, /subject=O = switchyard:nodes, CN = worker-7/);
    assert.match(subject.stdout, /TLS Web Client Authentication/);
    const verify = await run("openssl", ["verify", "-CAfile", join(dir, "tls", "ca.crt"), join(dir, "worker-7", "client.crt")]);
    assert.match(verify.stdout, /client\.crt: OK/);
    const invalid = await controller(["issue-cert", "--config", config, "--node", "Worker_7", "--out", join(dir, "bad")]);
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /invalid node name "Worker_7"/);
  });

  it("exits 1 on a taken API port, patches no Node", async () => {
    const manifest = join(dir, "taken-port-node.yaml");
    await writeFile(manifest, "apiVersion: v1\nkind: Node\nmetadata:\n  name: taken-port-node\n");
    await run("kubectl", ["--kubeconfig", kubeconfig, "create", "-f", manifest], { timeout: 20_000 });
    const holder = await listenOnFreePort();
    try {
      const port = (holder.address() as AddressInfo).port;
      const config = join(dir, "taken.yaml");
      await writeFile(
        config,
        [
          `kubeconfig: ${kubeconfig}`,
          "clusterCIDRs: [10.96.0.0/12]",
          `api: {bindAddress: 127.0.0.1, port: ${port}}`,
          "metrics: {enabled: false}",
          `tls: {dir: ${join(dir, "tls")}}`,
        ].join("\n"),
      );
      const result = await controller(["--config", config, "--log-format", "json"], { timeoutMs: 10_000 });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /"controller failed to start"/);
      assert.match(result.stderr, new RegExp(`cannot listen on api\\.bindAddress 127\\.0\\.0\\.1 api\\.port ${port}: listen EADDRINUSE`));
    } finally {
      await new Promise<void>((resolveClose) => holder.close(() => resolveClose()));
    }
    const { stdout } = await run("kubectl", ["--kubeconfig", kubeconfig, "get", "node", "taken-port-node", "-o", "jsonpath={.spec.podCIDR}"], { timeout: 20_000 });
    assert.equal(stdout, "");
    // The later run test counts allocated subnets, so this Node must not stay behind.
    await run("kubectl", ["--kubeconfig", kubeconfig, "delete", "node", "taken-port-node"], { timeout: 20_000 });
  });

  it("exits 1 on a taken metrics port", async () => {
    const holder = await listenOnFreePort();
    try {
      const port = (holder.address() as AddressInfo).port;
      const config = join(dir, "taken-metrics.yaml");
      await writeFile(
        config,
        [
          `kubeconfig: ${kubeconfig}`,
          "clusterCIDRs: [10.96.0.0/12]",
          "api: {bindAddress: 127.0.0.1, port: 0}",
          `metrics: {bindAddress: 127.0.0.1, port: ${port}}`,
          `tls: {dir: ${join(dir, "tls")}}`,
        ].join("\n"),
      );
      const result = await controller(["--config", config, "--log-format", "json"], { timeoutMs: 10_000 });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`cannot listen on metrics\\.bindAddress 127\\.0\\.0\\.1 metrics\\.port ${port}: listen EADDRINUSE`));
      assert.doesNotMatch(result.stderr, /"informer failed|"controller ready"/);
    } finally {
      await new Promise<void>((resolveClose) => holder.close(() => resolveClose()));
    }
  });

  it("rejects an unloadable kubeconfig with status 2", async () => {
    const config = join(dir, "no-kubeconfig.yaml");
    const missing = join(dir, "missing", "kubeconfig");
    await writeFile(config, `kubeconfig: ${missing}\nclusterCIDRs: [10.96.0.0/12]\ntls: {dir: ${join(dir, "tls")}}\n`);
    const result = await controller(["--config", config]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`kubeconfig: cannot load ${missing.replaceAll(".", "\\.")}: ENOENT`));
  });

  it("issue-cert reports an --out under a file", async () => {
    const config = join(dir, "issue-enotdir.yaml");
    await writeFile(config, `clusterCIDRs: [10.244.0.0/16]\ntls: {dir: ${join(dir, "tls")}}\n`);
    const file = join(dir, "plain-file");
    await writeFile(file, "");
    const out = join(file, "certs");
    const result = await controller(["issue-cert", "--config", config, "--node", "worker-8", "--out", out]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `issue-cert: cannot create --out folder ${out}: not a directory\n`);
  });

  it("logs the refused address, stops on SIGTERM while starting", async () => {
    const closed = await listenOnFreePort();
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolveClose) => closed.close(() => resolveClose()));
    const unreachable = join(dir, "unreachable.kubeconfig");
    const text = await readFile(kubeconfig, "utf8");
    await writeFile(unreachable, text.replace(/server: "?http:\/\/127\.0\.0\.1:\d+"?/, `server: "http://127.0.0.1:${port}"`), { mode: 0o600 });
    const config = join(dir, "unreachable.yaml");
    await writeFile(
      config,
      [
        `kubeconfig: ${unreachable}`,
        "clusterCIDRs: [10.96.0.0/12]",
        "api: {bindAddress: 127.0.0.1, port: 0}",
        "metrics: {enabled: false}",
        `tls: {dir: ${join(dir, "tls")}}`,
        "informers: {backoffInitialMs: 100, backoffMaxMs: 200}",
      ].join("\n"),
    );
    const child = spawn(BIN, ["--config", config, "--log-format", "json"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolveExit) => child.on("exit", (code) => resolveExit(code)));
    let signalledAt = 0;
    try {
      await waitFor("informer failure log", () => stderr.includes('"informer failed, restarting"'), 20_000);
    } finally {
      signalledAt = Date.now();
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0);
    assert.ok(Date.now() - signalledAt < 1000, `exit took ${Date.now() - signalledAt} ms after SIGTERM`);
    const failure = stderr.split("\n").find((line) => line.includes('"informer failed, restarting"')) ?? "{}";
    const fields = JSON.parse(failure) as { error?: string; server?: string };
    assert.match(fields.error ?? "", new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
    assert.equal(fields.server, `http://127.0.0.1:${port}`);
  });

  it("runs until SIGTERM and allocates pod CIDRs", async () => {
    const config = join(dir, "run.yaml");
    await writeFile(
      config,
      [
        `kubeconfig: ${kubeconfig}`,
        "clusterCIDRs: [10.96.0.0/12]",
        "nodeCIDRMaskSizeIPv4: 20",
        "api: {bindAddress: 127.0.0.1, port: 0}",
        "metrics: {bindAddress: 127.0.0.1, port: 0}",
        `tls: {dir: ${join(dir, "tls")}}`,
      ].join("\n"),
    );
    const child = spawn(BIN, ["--config", config, "--log-format", "json"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolveExit) => child.on("exit", (code) => resolveExit(code)));
    try {
      await waitFor("controller ready", () => stderr.includes('"controller ready"'), 20_000);
      const manifest = join(dir, "node.yaml");
      await writeFile(manifest, "apiVersion: v1\nkind: Node\nmetadata:\n  name: cli-node\n");
      await run("kubectl", ["--kubeconfig", kubeconfig, "create", "-f", manifest], { timeout: 20_000 });
      await waitFor("pod CIDR on cli-node", async () => {
        const { stdout } = await run("kubectl", ["--kubeconfig", kubeconfig, "get", "node", "cli-node", "-o", "jsonpath={.spec.podCIDR}"], { timeout: 20_000 }).catch(() => ({ stdout: "" }));
        return stdout === "10.96.0.0/20";
      }, 20_000);
      const ready = stderr.split("\n").find((line) => line.includes('"controller ready"')) ?? "{}";
      const metricsPort = (JSON.parse(ready) as { metricsPort?: number }).metricsPort ?? 0;
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.match(metrics, /switchyard_controller_ipam_allocated_subnets\{cluster_cidr="10\.96\.0\.0\/12"\} 1\b/);
      assert.match(metrics, /switchyard_controller_ipam_capacity_subnets\{cluster_cidr="10\.96\.0\.0\/12"\} 256\b/);
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0);
    assert.match(stderr, /"stopping on signal"/);
  });
});

/** Listens on a free loopback port, to hold it or to learn a port nobody listens on. */
async function listenOnFreePort(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolveListen, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolveListen());
  });
  return server;
}
