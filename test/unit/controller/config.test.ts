import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadConfigFile, parseConfig } from "../../../controller/config/load.ts";
import { ConfigError } from "../../../controller/config/validate.ts";

const MINIMAL = "clusterCIDRs: [10.244.0.0/16]\n";

/** Parses YAML expecting a ConfigError and returns its issues as "field: message" lines. */
function issuesOf(yaml: string): string[] {
  try {
    parseConfig(yaml, "test.yaml");
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.code, "CONFIG_INVALID");
    return error.issues.map((issue) => `${issue.field}: ${issue.message}`);
  }
  assert.fail("configuration was accepted");
}

describe("controller configuration", () => {
  it("fills every default", () => {
    const config = parseConfig(MINIMAL, "test.yaml");
    assert.deepEqual(config.clusterCIDRs, ["10.244.0.0/16"]);
    assert.equal(config.kubeconfig, "");
    assert.equal(config.allocateNodeCIDRs, true);
    assert.equal(config.nodeCIDRMaskSizeIPv4, 24);
    assert.equal(config.nodeCIDRMaskSizeIPv6, 64);
    assert.equal(config.api.bindAddress, "0.0.0.0");
    assert.equal(config.api.port, 10351);
    assert.equal(config.api.eventLogSize, 10000);
    assert.equal(config.api.heartbeatSeconds, 30);
    assert.equal(config.api.maxBufferedBytes, 16777216);
    assert.equal(config.tls.dir, "/var/lib/switchyard/controller-tls");
    assert.equal(config.tls.caValidityDays, 3650);
    assert.equal(config.tls.certValidityDays, 365);
    assert.equal(config.metrics.bindAddress, "127.0.0.1");
    assert.equal(config.metrics.port, 10352);
    assert.equal(config.metrics.enabled, true);
    assert.equal(config.informers.resyncSeconds, 300);
    assert.equal(config.informers.backoffInitialMs, 500);
    assert.equal(config.informers.backoffMaxMs, 30000);
  });

  it("reads JSON as well as YAML", () => {
    const config = parseConfig('{"clusterCIDRs": ["10.0.0.0/8", "fd00:10::/48"], "nodeCIDRMaskSizeIPv6": 64, "api": {"port": 0}}', "c.json");
    assert.deepEqual(config.clusterCIDRs, ["10.0.0.0/8", "fd00:10::/48"]);
    assert.equal(config.api.port, 0);
  });

  it("accepts a full dual-stack file", () => {
    const config = parseConfig(
      [
        "kubeconfig: /etc/kubernetes/controller.kubeconfig",
        "clusterCIDRs: [10.244.0.0/16, 'fd00:244::/56']",
        "nodeCIDRMaskSizeIPv4: 25",
        "nodeCIDRMaskSizeIPv6: 64",
        "api: {bindAddress: '::', port: 9443, eventLogSize: 50, heartbeatSeconds: 5, maxBufferedBytes: 65536}",
        "tls: {dir: /tmp/x, serverNames: [ctrl.example, 10.0.0.1], caValidityDays: 10, certValidityDays: 2}",
        "metrics: {bindAddress: 0.0.0.0, port: 0, enabled: false}",
        "informers: {resyncSeconds: 0, backoffInitialMs: 10, backoffMaxMs: 10}",
      ].join("\n"),
      "full.yaml",
    );
    assert.equal(config.nodeCIDRMaskSizeIPv4, 25);
    assert.equal(config.api.bindAddress, "::");
    assert.deepEqual(config.tls.serverNames, ["ctrl.example", "10.0.0.1"]);
    assert.equal(config.metrics.enabled, false);
    assert.equal(config.informers.resyncSeconds, 0);
  });

  const badFields: { name: string; yaml: string; expected: string }[] = [
    { name: "unknown top field", yaml: `${MINIMAL}clusterCIDR: 10.0.0.0/8`, expected: "clusterCIDR: unknown field; allowed fields here: kubeconfig, allocateNodeCIDRs" },
    { name: "missing clusterCIDRs", yaml: "kubeconfig: /k", expected: "clusterCIDRs: missing: at least one CIDR such as 10.244.0.0/16" },
    { name: "clusterCIDRs not a list", yaml: "clusterCIDRs: 10.0.0.0/8", expected: 'clusterCIDRs: invalid value "10.0.0.0/8": expected a list of strings' },
    { name: "host bits set", yaml: "clusterCIDRs: [10.244.1.0/16]", expected: 'clusterCIDRs[0]: invalid CIDR "10.244.1.0/16": host bits are set; did you mean 10.244.0.0/16?' },
    { name: "not an address", yaml: "clusterCIDRs: [10.300.0.0/16]", expected: 'clusterCIDRs[0]: invalid CIDR "10.300.0.0/16": "10.300.0.0" is not an IPv4 or IPv6 address' },
    { name: "prefix too long", yaml: "clusterCIDRs: [10.0.0.0/33]", expected: 'clusterCIDRs[0]: invalid CIDR "10.0.0.0/33": prefix length must be an integer from 0 to 32' },
    { name: "overlapping ranges", yaml: "clusterCIDRs: [10.0.0.0/8, 10.244.0.0/16]", expected: 'clusterCIDRs[1]: invalid value "10.244.0.0/16": overlaps clusterCIDRs[0] 10.0.0.0/8' },
    { name: "IPv4 mask shorter than cluster", yaml: "clusterCIDRs: [10.244.0.0/16]\nnodeCIDRMaskSizeIPv4: 12", expected: "nodeCIDRMaskSizeIPv4: invalid value 12 for cluster CIDR 10.244.0.0/16: expected from 16 to 32" },
    { name: "IPv4 mask too many subnets", yaml: "clusterCIDRs: [10.0.0.0/8]\nnodeCIDRMaskSizeIPv4: 28", expected: "nodeCIDRMaskSizeIPv4: invalid value 28 for cluster CIDR 10.0.0.0/8: expected from 8 to 24 (at most 16 bits longer" },
    { name: "IPv6 mask too many subnets", yaml: "clusterCIDRs: ['fd00::/32']", expected: "nodeCIDRMaskSizeIPv6: invalid value 64 for cluster CIDR fd00::/32: expected from 32 to 48" },
    { name: "IPv4 mask out of range", yaml: `${MINIMAL}nodeCIDRMaskSizeIPv4: 40`, expected: "nodeCIDRMaskSizeIPv4: invalid value 40: expected an integer from 1 to 32" },
    { name: "IPv6 mask not integer", yaml: `${MINIMAL}nodeCIDRMaskSizeIPv6: 64.5`, expected: "nodeCIDRMaskSizeIPv6: invalid value 64.5: expected an integer from 1 to 128" },
    { name: "port out of range", yaml: `${MINIMAL}api: {port: 70000}`, expected: "api.port: invalid value 70000: expected an integer from 0 to 65535" },
    { name: "port as string", yaml: `${MINIMAL}api: {port: "443"}`, expected: 'api.port: invalid value "443": expected an integer from 0 to 65535' },
    { name: "bind address", yaml: `${MINIMAL}api: {bindAddress: localhost}`, expected: 'api.bindAddress: invalid value "localhost": expected an IPv4 or IPv6 address' },
    { name: "unknown api field", yaml: `${MINIMAL}api: {listen: 1}`, expected: "api.listen: unknown field; allowed fields here: bindAddress, port, eventLogSize" },
    { name: "api not a mapping", yaml: `${MINIMAL}api: 5`, expected: "api: invalid value 5: expected a mapping with fields bindAddress" },
    { name: "event log size", yaml: `${MINIMAL}api: {eventLogSize: 0}`, expected: "api.eventLogSize: invalid value 0: expected an integer from 1 to 1000000" },
    { name: "heartbeat", yaml: `${MINIMAL}api: {heartbeatSeconds: 0}`, expected: "api.heartbeatSeconds: invalid value 0: expected an integer from 1 to 3600" },
    { name: "buffered bytes", yaml: `${MINIMAL}api: {maxBufferedBytes: 100}`, expected: "api.maxBufferedBytes: invalid value 100: expected an integer from 65536 to 1073741824" },
    { name: "empty tls dir", yaml: `${MINIMAL}tls: {dir: ""}`, expected: 'tls.dir: invalid value "": expected a non-empty string' },
    { name: "bad server name", yaml: `${MINIMAL}tls: {serverNames: [Bad_Name]}`, expected: 'tls.serverNames[0]: invalid value "Bad_Name": expected a lowercase DNS name or an IP address' },
    { name: "no server names", yaml: `${MINIMAL}tls: {serverNames: []}`, expected: "tls.serverNames: invalid value []: expected at least one DNS name or IP address" },
    { name: "ca validity", yaml: `${MINIMAL}tls: {caValidityDays: 0}`, expected: "tls.caValidityDays: invalid value 0: expected an integer from 1 to 36500" },
    { name: "cert validity", yaml: `${MINIMAL}tls: {certValidityDays: -1}`, expected: "tls.certValidityDays: invalid value -1: expected an integer from 1 to 36500" },
    { name: "metrics enabled", yaml: `${MINIMAL}metrics: {enabled: "yes"}`, expected: 'metrics.enabled: invalid value "yes": expected true or false' },
    { name: "metrics port", yaml: `${MINIMAL}metrics: {port: -1}`, expected: "metrics.port: invalid value -1: expected an integer from 0 to 65535" },
    { name: "resync too short", yaml: `${MINIMAL}informers: {resyncSeconds: 5}`, expected: "informers.resyncSeconds: invalid value 5: expected 0 (disabled) or an integer from 10 to 86400" },
    { name: "backoff initial", yaml: `${MINIMAL}informers: {backoffInitialMs: 1}`, expected: "informers.backoffInitialMs: invalid value 1: expected an integer from 10 to 60000" },
    { name: "backoff cap below initial", yaml: `${MINIMAL}informers: {backoffInitialMs: 1000, backoffMaxMs: 100}`, expected: "informers.backoffMaxMs: invalid value 100: expected at least informers.backoffInitialMs (1000)" },
    { name: "allocate flag", yaml: `${MINIMAL}allocateNodeCIDRs: 1`, expected: "allocateNodeCIDRs: invalid value 1: expected true or false" },
    { name: "kubeconfig type", yaml: `${MINIMAL}kubeconfig: 5`, expected: "kubeconfig: invalid value 5: expected a string" },
    { name: "document not a mapping", yaml: "- a\n- b", expected: '(document): invalid value ["a","b"]: expected a mapping of fields' },
    { name: "broken YAML", yaml: "clusterCIDRs: [10.0.0.0/8", expected: "(document): not valid YAML or JSON:" },
  ];

  for (const { name, yaml, expected } of badFields) {
    it(`rejects ${name}`, () => {
      const issues = issuesOf(yaml);
      assert.ok(
        issues.some((issue) => issue.startsWith(expected)),
        `expected an issue starting with\n  ${expected}\ngot\n  ${issues.join("\n  ")}`,
      );
    });
  }

  it("reports every bad field at once", () => {
    const issues = issuesOf("clusterCIDRs: [bad]\napi: {port: -5}\nmetrics: {enabled: 3}");
    assert.equal(issues.length, 3);
  });

  it("accepts no clusterCIDRs without IPAM", () => {
    const config = parseConfig("allocateNodeCIDRs: false", "t.yaml");
    assert.deepEqual(config.clusterCIDRs, []);
  });

  it("names an unreadable file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "syc-config-"));
    try {
      await assert.rejects(loadConfigFile(join(dir, "absent.yaml")), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /absent\.yaml/);
        assert.equal(error.issues[0]?.field, "(file)");
        return true;
      });
      const path = join(dir, "ok.yaml");
      await writeFile(path, MINIMAL);
      const config = await loadConfigFile(path);
      assert.deepEqual(config.clusterCIDRs, ["10.244.0.0/16"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
