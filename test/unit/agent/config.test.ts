import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAgentConfig } from "../../../agent/config/load.ts";
import { AgentConfigError } from "../../../agent/config/validate.ts";

function issues(text: string): string[] {
  try {
    parseAgentConfig(text, "agent.yaml");
  } catch (error) {
    assert.ok(error instanceof AgentConfigError);
    return error.issues.map((issue) => `${issue.field}: ${issue.message}`);
  }
  assert.fail("expected AgentConfigError");
}

test("config: empty file gives defaults", () => {
  const config = parseAgentConfig("", "agent.yaml");
  assert.equal(config.trafficEncapMode, "encap");
  assert.equal(config.ovs.bridge, "br-int");
  assert.equal(config.ovs.datapathType, "system");
  assert.equal(config.gateway.ofport, 2);
  assert.equal(config.tunnel.type, "geneve");
  assert.equal(config.tunnel.ofport, 1);
  assert.equal(config.tunnel.destinationPort, 0);
  assert.equal(config.mtu, 0);
  assert.equal(config.snat.backend, "auto");
  assert.equal(config.metrics.port, 10353);
});

test("config: YAML fields are read", () => {
  const config = parseAgentConfig(
    ["nodeName: n1", "trafficEncapMode: hybrid", "mtu: 1400", "ovs:", "  datapathType: netdev", "  bridge: br-x", "tunnel:", "  type: gre", "  checksum: true"].join("\n"),
    "agent.yaml",
  );
  assert.equal(config.nodeName, "n1");
  assert.equal(config.trafficEncapMode, "hybrid");
  assert.equal(config.mtu, 1400);
  assert.equal(config.ovs.datapathType, "netdev");
  assert.equal(config.ovs.bridge, "br-x");
  assert.equal(config.tunnel.type, "gre");
  assert.equal(config.tunnel.checksum, true);
});

test("config: JSON is accepted", () => {
  const config = parseAgentConfig('{"trafficEncapMode": "noEncap", "gateway": {"name": "gw9", "ofport": 9}}', "agent.json");
  assert.equal(config.trafficEncapMode, "noEncap");
  assert.equal(config.gateway.name, "gw9");
});

test("config: enum error names field, value and choices", () => {
  assert.deepEqual(issues("trafficEncapMode: ipip"), ['trafficEncapMode: invalid value "ipip": expected one of "encap", "noEncap", "hybrid"']);
  assert.deepEqual(issues("tunnel: {type: stt}"), ['tunnel.type: invalid value "stt": expected one of "geneve", "vxlan", "gre"']);
  assert.deepEqual(issues("ovs: {datapathType: dpdk}"), ['ovs.datapathType: invalid value "dpdk": expected one of "system", "netdev"']);
});

test("config: every bad field is reported", () => {
  const found = issues(["mtu: 20", "gateway: {ofport: 0}", "tunnel: {destinationPort: 70000}", "bogus: 1", "metrics: {bindAddress: nowhere}"].join("\n"));
  assert.deepEqual(found.map((line) => line.split(":")[0]).sort(), ["bogus", "gateway.ofport", "metrics.bindAddress", "mtu", "tunnel.destinationPort"]);
});

test("config: port clash between gateway and tunnel", () => {
  assert.deepEqual(issues("gateway: {ofport: 1}"), ["tunnel.ofport: invalid value 1: equals gateway.ofport; give the two ports different numbers"]);
});

test("config: interface name limit", () => {
  assert.deepEqual(issues("gateway: {name: abcdefghijklmnop}"), [
    'gateway.name: invalid value "abcdefghijklmnop": expected 1 to 15 letters, digits, \'-\', \'_\' or \'.\'',
  ]);
});

test("config: invalid YAML", () => {
  const found = issues("ovs: [unclosed");
  assert.equal(found.length, 1);
  assert.match(found[0] ?? "", /^\(document\): not valid YAML or JSON/);
});

test("config: backoff order", () => {
  assert.deepEqual(issues("informers: {backoffInitialMs: 1000, backoffMaxMs: 100}"), [
    "informers.backoffMaxMs: invalid value 100: expected at least informers.backoffInitialMs (1000) and at most 600000",
  ]);
});

test("config: cni defaults", () => {
  const config = parseAgentConfig("", "agent.yaml");
  assert.equal(config.cni.socketPath, "/var/run/switchyard/cni.sock");
  assert.equal(config.cni.stateDir, "/var/run/switchyard/cni");
  assert.equal(config.cni.disableTxChecksumOffload, false);
  assert.equal(config.controller.url, "");
  assert.equal(config.controller.cacheFile, "/var/run/switchyard/policy-cache.json");
});

test("config: checksum offload follows datapath", () => {
  assert.equal(parseAgentConfig("ovs: {datapathType: netdev}", "agent.yaml").cni.disableTxChecksumOffload, true);
  assert.equal(parseAgentConfig("ovs: {datapathType: netdev}\ncni: {disableTxChecksumOffload: false}", "agent.yaml").cni.disableTxChecksumOffload, false);
  assert.equal(parseAgentConfig("cni: {disableTxChecksumOffload: true}", "agent.yaml").cni.disableTxChecksumOffload, true);
});

test("config: controller url needs TLS files", () => {
  const found = issues("controller: {url: 'https://10.0.0.1:10351', caFile: /etc/ca.crt}");
  assert.deepEqual(found, ["controller.certFile: missing: required when controller.url is set", "controller.keyFile: missing: required when controller.url is set"]);
  assert.deepEqual(issues("controller: {url: 'http://10.0.0.1:10351', caFile: a, certFile: b, keyFile: c}"), [
    'controller.url: invalid value "http://10.0.0.1:10351": expected an https URL such as "https://10.0.0.1:10351"',
  ]);
  assert.deepEqual(issues("cni: {socket: /x}"), ["cni.socket: unknown field; allowed fields here: socketPath, stateDir, disableTxChecksumOffload"]);
});
