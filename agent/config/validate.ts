// Checks a parsed agent configuration document field by field and fills in defaults.
import { FieldReader, showValue, type ConfigIssue, type Section } from "../../common/config/field-reader.ts";
import { ENCAP_MODES, TUNNEL_TYPES } from "../forwarding/modes.ts";
import { DEFAULT_AGENT_CONFIG, type AgentConfig } from "./types.ts";

export type { ConfigIssue };

export class AgentConfigError extends Error {
  readonly code = "AGENT_CONFIG_INVALID";
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    super(`invalid agent configuration ${source}:\n${issues.map((i) => `  ${i.field}: ${i.message}`).join("\n")}`, options);
    this.name = "AgentConfigError";
    this.issues = issues;
  }
}

/** Maximum Linux interface name length (IFNAMSIZ 16 minus the terminating NUL). */
const MAX_INTERFACE_NAME = 15;
/** Highest physical OpenFlow port number (OFPP_MAX 0xff00 is reserved above it). */
const MAX_OFPORT = 0xfeff;

/** The shared field reader, plus the agent's interface-name check. */
class AgentFieldReader extends FieldReader {
  interfaceName(section: Section, key: string, options: { field: string; fallback: string }): string {
    const value = this.string(section, key, { ...options, nonEmpty: true });
    if (value.length > MAX_INTERFACE_NAME || !/^[A-Za-z0-9_.-]+$/.test(value)) {
      this.report(options.field, `invalid value ${showValue(value)}: expected 1 to ${MAX_INTERFACE_NAME} letters, digits, '-', '_' or '.'`);
      return options.fallback;
    }
    return value;
  }
}

const TOP_FIELDS = ["nodeName", "kubeconfig", "trafficEncapMode", "transportInterface", "mtu", "ovs", "gateway", "tunnel", "snat", "metrics", "informers", "cni", "controller"] as const;
const OVS_FIELDS = ["bridge", "datapathType", "dbSocket", "runDir"] as const;
const GATEWAY_FIELDS = ["name", "ofport"] as const;
const TUNNEL_FIELDS = ["type", "name", "ofport", "destinationPort", "checksum"] as const;
const SNAT_FIELDS = ["enabled", "backend"] as const;
const METRICS_FIELDS = ["enabled", "bindAddress", "port"] as const;
const INFORMER_FIELDS = ["resyncSeconds", "backoffInitialMs", "backoffMaxMs"] as const;
const CNI_FIELDS = ["socketPath", "stateDir", "disableTxChecksumOffload"] as const;
const CONTROLLER_FIELDS = ["url", "caFile", "certFile", "keyFile", "cacheFile"] as const;

/**
 * Validates a parsed YAML or JSON document and returns the complete configuration. Throws
 * AgentConfigError listing every invalid field; `source` names the file in the message.
 */
export function validateAgentConfig(document: unknown, source: string): AgentConfig {
  const reader = new AgentFieldReader();
  if (document === null || document === undefined) document = {};
  if (typeof document !== "object" || Array.isArray(document)) {
    throw new AgentConfigError(source, [{ field: "(document)", message: `invalid value ${showValue(document)}: expected a mapping of fields` }]);
  }
  const root = document as Section;
  reader.rejectUnknown(root, TOP_FIELDS, "");
  const d = DEFAULT_AGENT_CONFIG;

  const nodeName = reader.string(root, "nodeName", { field: "nodeName", fallback: d.nodeName });
  const kubeconfig = reader.string(root, "kubeconfig", { field: "kubeconfig", fallback: d.kubeconfig });
  const trafficEncapMode = reader.choice(root, "trafficEncapMode", { field: "trafficEncapMode", fallback: d.trafficEncapMode, allowed: ENCAP_MODES });
  const transportInterface = reader.string(root, "transportInterface", { field: "transportInterface", fallback: d.transportInterface });
  const mtu = reader.integer(root, "mtu", { field: "mtu", fallback: d.mtu, min: 0, max: 65535 });
  if (mtu > 0 && mtu < 68) reader.report("mtu", `invalid value ${mtu}: expected 0 (computed) or an integer from 68 to 65535`);

  const ovs = readOvs(reader, reader.section(root, "ovs", OVS_FIELDS));
  const gateway = readGateway(reader, reader.section(root, "gateway", GATEWAY_FIELDS));
  const tunnel = readTunnel(reader, reader.section(root, "tunnel", TUNNEL_FIELDS));
  if (tunnel.ofport === gateway.ofport) {
    reader.report("tunnel.ofport", `invalid value ${tunnel.ofport}: equals gateway.ofport; give the two ports different numbers`);
  }
  if (tunnel.name === gateway.name) {
    reader.report("tunnel.name", `invalid value ${showValue(tunnel.name)}: equals gateway.name; give the two ports different names`);
  }

  const snatSection = reader.section(root, "snat", SNAT_FIELDS);
  const snat = {
    enabled: reader.boolean(snatSection, "enabled", { field: "snat.enabled", fallback: d.snat.enabled }),
    backend: reader.choice(snatSection, "backend", { field: "snat.backend", fallback: d.snat.backend, allowed: ["auto", "nft", "iptables"] as const }),
  };

  const metricsSection = reader.section(root, "metrics", METRICS_FIELDS);
  const metrics = {
    enabled: reader.boolean(metricsSection, "enabled", { field: "metrics.enabled", fallback: d.metrics.enabled }),
    bindAddress: reader.ipAddress(metricsSection, "bindAddress", { field: "metrics.bindAddress", fallback: d.metrics.bindAddress, example: "127.0.0.1" }),
    port: reader.integer(metricsSection, "port", { field: "metrics.port", fallback: d.metrics.port, min: 0, max: 65535 }),
  };

  const informers = readInformers(reader, reader.section(root, "informers", INFORMER_FIELDS));
  const cni = readCni(reader, reader.section(root, "cni", CNI_FIELDS), ovs.datapathType);
  const controller = readController(reader, reader.section(root, "controller", CONTROLLER_FIELDS));

  if (reader.issues.length > 0) throw new AgentConfigError(source, reader.issues);
  return { nodeName, kubeconfig, trafficEncapMode, transportInterface, mtu, ovs, gateway, tunnel, snat, metrics, informers, cni, controller };
}

function readOvs(reader: AgentFieldReader, section: Section): AgentConfig["ovs"] {
  const d = DEFAULT_AGENT_CONFIG.ovs;
  return {
    bridge: reader.interfaceName(section, "bridge", { field: "ovs.bridge", fallback: d.bridge }),
    datapathType: reader.choice(section, "datapathType", { field: "ovs.datapathType", fallback: d.datapathType, allowed: ["system", "netdev"] as const }),
    dbSocket: reader.string(section, "dbSocket", { field: "ovs.dbSocket", fallback: d.dbSocket, nonEmpty: true }),
    runDir: reader.string(section, "runDir", { field: "ovs.runDir", fallback: d.runDir, nonEmpty: true }),
  };
}

function readGateway(reader: AgentFieldReader, section: Section): AgentConfig["gateway"] {
  const d = DEFAULT_AGENT_CONFIG.gateway;
  return {
    name: reader.interfaceName(section, "name", { field: "gateway.name", fallback: d.name }),
    ofport: reader.integer(section, "ofport", { field: "gateway.ofport", fallback: d.ofport, min: 1, max: MAX_OFPORT }),
  };
}

function readTunnel(reader: AgentFieldReader, section: Section): AgentConfig["tunnel"] {
  const d = DEFAULT_AGENT_CONFIG.tunnel;
  return {
    type: reader.choice(section, "type", { field: "tunnel.type", fallback: d.type, allowed: TUNNEL_TYPES }),
    name: reader.interfaceName(section, "name", { field: "tunnel.name", fallback: d.name }),
    ofport: reader.integer(section, "ofport", { field: "tunnel.ofport", fallback: d.ofport, min: 1, max: MAX_OFPORT }),
    destinationPort: reader.integer(section, "destinationPort", { field: "tunnel.destinationPort", fallback: d.destinationPort, min: 0, max: 65535 }),
    checksum: reader.boolean(section, "checksum", { field: "tunnel.checksum", fallback: d.checksum }),
  };
}

function readInformers(reader: AgentFieldReader, section: Section): AgentConfig["informers"] {
  const d = DEFAULT_AGENT_CONFIG.informers;
  const resyncSeconds = reader.integer(section, "resyncSeconds", { field: "informers.resyncSeconds", fallback: d.resyncSeconds, min: 0, max: 86400 });
  if (resyncSeconds > 0 && resyncSeconds < 10) {
    reader.report("informers.resyncSeconds", `invalid value ${resyncSeconds}: expected 0 (disabled) or an integer from 10 to 86400`);
  }
  const backoffInitialMs = reader.integer(section, "backoffInitialMs", { field: "informers.backoffInitialMs", fallback: d.backoffInitialMs, min: 10, max: 60000 });
  const backoffMaxMs = reader.integer(section, "backoffMaxMs", { field: "informers.backoffMaxMs", fallback: d.backoffMaxMs, min: 10, max: 600000 });
  if (backoffMaxMs < backoffInitialMs) {
    reader.report("informers.backoffMaxMs", `invalid value ${backoffMaxMs}: expected at least informers.backoffInitialMs (${backoffInitialMs}) and at most 600000`);
  }
  return { resyncSeconds, backoffInitialMs, backoffMaxMs };
}

function readCni(reader: AgentFieldReader, section: Section, datapathType: AgentConfig["ovs"]["datapathType"]): AgentConfig["cni"] {
  const d = DEFAULT_AGENT_CONFIG.cni;
  return {
    socketPath: reader.string(section, "socketPath", { field: "cni.socketPath", fallback: d.socketPath, nonEmpty: true }),
    stateDir: reader.string(section, "stateDir", { field: "cni.stateDir", fallback: d.stateDir, nonEmpty: true }),
    disableTxChecksumOffload: reader.boolean(section, "disableTxChecksumOffload", { field: "cni.disableTxChecksumOffload", fallback: datapathType === "netdev" }),
  };
}

function readController(reader: AgentFieldReader, section: Section): AgentConfig["controller"] {
  const d = DEFAULT_AGENT_CONFIG.controller;
  const controller = {
    url: reader.string(section, "url", { field: "controller.url", fallback: d.url }),
    caFile: reader.string(section, "caFile", { field: "controller.caFile", fallback: d.caFile }),
    certFile: reader.string(section, "certFile", { field: "controller.certFile", fallback: d.certFile }),
    keyFile: reader.string(section, "keyFile", { field: "controller.keyFile", fallback: d.keyFile }),
    cacheFile: reader.string(section, "cacheFile", { field: "controller.cacheFile", fallback: d.cacheFile, nonEmpty: true }),
  };
  if (controller.url === "") return controller;
  if (!/^https:\/\/[^/]+/.test(controller.url)) {
    reader.report("controller.url", `invalid value ${showValue(controller.url)}: expected an https URL such as "https://10.0.0.1:10351"`);
  }
  for (const key of ["caFile", "certFile", "keyFile"] as const) {
    if (controller[key] === "") reader.report(`controller.${key}`, `missing: required when controller.url is set`);
  }
  return controller;
}
