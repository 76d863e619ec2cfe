// Checks a parsed configuration document field by field and fills in defaults.
import { isIP } from "node:net";
import { FieldReader, showValue, type ConfigIssue, type Section } from "../../common/config/field-reader.ts";
import { CidrError, cidrsOverlap, formatCidr, parseCidr, type Cidr } from "../../common/net/cidr.ts";
import { MAX_SUBNET_BITS } from "../ipam/subnet-pool.ts";
import { DEFAULT_CONFIG, type ControllerConfig } from "./types.ts";

export type { ConfigIssue };

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    super(`invalid controller configuration ${source}:\n${issues.map((i) => `  ${i.field}: ${i.message}`).join("\n")}`, options);
    this.name = "ConfigError";
    this.issues = issues;
  }
}


const TOP_FIELDS = [
  "kubeconfig",
  "allocateNodeCIDRs",
  "clusterCIDRs",
  "nodeCIDRMaskSizeIPv4",
  "nodeCIDRMaskSizeIPv6",
  "api",
  "tls",
  "metrics",
  "informers",
] as const;
const API_FIELDS = ["bindAddress", "port", "eventLogSize", "heartbeatSeconds", "maxBufferedBytes"] as const;
const TLS_FIELDS = ["dir", "serverNames", "caValidityDays", "certValidityDays"] as const;
const METRICS_FIELDS = ["bindAddress", "port", "enabled"] as const;
const INFORMER_FIELDS = ["resyncSeconds", "backoffInitialMs", "backoffMaxMs"] as const;

/**
 * Validates a parsed YAML or JSON document and returns the complete configuration.
 * Throws ConfigError listing every invalid field; `source` names the file in the message.
 */
export function validateConfig(document: unknown, source: string): ControllerConfig {
  const reader = new FieldReader();
  if (document === null || document === undefined) document = {};
  if (typeof document !== "object" || Array.isArray(document)) {
    throw new ConfigError(source, [{ field: "(document)", message: `invalid value ${showValue(document)}: expected a mapping of fields` }]);
  }
  const root = document as Section;
  reader.rejectUnknown(root, TOP_FIELDS, "");
  const d = DEFAULT_CONFIG;

  const kubeconfig = reader.string(root, "kubeconfig", { field: "kubeconfig", fallback: d.kubeconfig });
  const allocateNodeCIDRs = reader.boolean(root, "allocateNodeCIDRs", { field: "allocateNodeCIDRs", fallback: d.allocateNodeCIDRs });
  const nodeCIDRMaskSizeIPv4 = reader.integer(root, "nodeCIDRMaskSizeIPv4", { field: "nodeCIDRMaskSizeIPv4", fallback: d.nodeCIDRMaskSizeIPv4, min: 1, max: 32 });
  const nodeCIDRMaskSizeIPv6 = reader.integer(root, "nodeCIDRMaskSizeIPv6", { field: "nodeCIDRMaskSizeIPv6", fallback: d.nodeCIDRMaskSizeIPv6, min: 1, max: 128 });
  const clusterCIDRs = reader.stringList(root, "clusterCIDRs", { field: "clusterCIDRs", fallback: d.clusterCIDRs });
  checkClusterCidrs(reader, { clusterCIDRs, allocateNodeCIDRs, nodeCIDRMaskSizeIPv4, nodeCIDRMaskSizeIPv6 });

  const apiSection = reader.section(root, "api", API_FIELDS);
  const api = {
    bindAddress: reader.ipAddress(apiSection, "bindAddress", { field: "api.bindAddress", fallback: d.api.bindAddress, example: "0.0.0.0 or ::" }),
    port: reader.integer(apiSection, "port", { field: "api.port", fallback: d.api.port, min: 0, max: 65535 }),
    eventLogSize: reader.integer(apiSection, "eventLogSize", { field: "api.eventLogSize", fallback: d.api.eventLogSize, min: 1, max: 1_000_000 }),
    heartbeatSeconds: reader.integer(apiSection, "heartbeatSeconds", { field: "api.heartbeatSeconds", fallback: d.api.heartbeatSeconds, min: 1, max: 3600 }),
    maxBufferedBytes: reader.integer(apiSection, "maxBufferedBytes", {
      field: "api.maxBufferedBytes",
      fallback: d.api.maxBufferedBytes,
      min: 65536,
      max: 1024 * 1024 * 1024,
    }),
  };

  const tlsSection = reader.section(root, "tls", TLS_FIELDS);
  const tls = {
    dir: reader.string(tlsSection, "dir", { field: "tls.dir", fallback: d.tls.dir, nonEmpty: true }),
    serverNames: reader.stringList(tlsSection, "serverNames", { field: "tls.serverNames", fallback: d.tls.serverNames }),
    caValidityDays: reader.integer(tlsSection, "caValidityDays", { field: "tls.caValidityDays", fallback: d.tls.caValidityDays, min: 1, max: 36500 }),
    certValidityDays: reader.integer(tlsSection, "certValidityDays", { field: "tls.certValidityDays", fallback: d.tls.certValidityDays, min: 1, max: 36500 }),
  };
  checkServerNames(reader, tls.serverNames);

  const metricsSection = reader.section(root, "metrics", METRICS_FIELDS);
  const metrics = {
    bindAddress: reader.ipAddress(metricsSection, "bindAddress", { field: "metrics.bindAddress", fallback: d.metrics.bindAddress, example: "0.0.0.0 or ::" }),
    port: reader.integer(metricsSection, "port", { field: "metrics.port", fallback: d.metrics.port, min: 0, max: 65535 }),
    enabled: reader.boolean(metricsSection, "enabled", { field: "metrics.enabled", fallback: d.metrics.enabled }),
  };

  const informers = readInformers(reader, reader.section(root, "informers", INFORMER_FIELDS));

  if (reader.issues.length > 0) throw new ConfigError(source, reader.issues);
  return { kubeconfig, allocateNodeCIDRs, clusterCIDRs, nodeCIDRMaskSizeIPv4, nodeCIDRMaskSizeIPv6, api, tls, metrics, informers };
}

function readInformers(reader: FieldReader, section: Section): ControllerConfig["informers"] {
  const d = DEFAULT_CONFIG.informers;
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

function checkClusterCidrs(
  reader: FieldReader,
  options: { clusterCIDRs: readonly string[]; allocateNodeCIDRs: boolean; nodeCIDRMaskSizeIPv4: number; nodeCIDRMaskSizeIPv6: number },
): void {
  if (options.allocateNodeCIDRs && options.clusterCIDRs.length === 0) {
    reader.report("clusterCIDRs", "missing: at least one CIDR such as 10.244.0.0/16 is required while allocateNodeCIDRs is true");
  }
  const parsed: { cidr: Cidr; index: number }[] = [];
  for (const [index, text] of options.clusterCIDRs.entries()) {
    const field = `clusterCIDRs[${index}]`;
    let cidr: Cidr;
    try {
      cidr = parseCidr(text);
    } catch (error) {
      if (!(error instanceof CidrError)) throw error;
      reader.report(field, error.message);
      continue;
    }
    const maskField = cidr.family === "IPv4" ? "nodeCIDRMaskSizeIPv4" : "nodeCIDRMaskSizeIPv6";
    const mask = cidr.family === "IPv4" ? options.nodeCIDRMaskSizeIPv4 : options.nodeCIDRMaskSizeIPv6;
    if (mask < cidr.prefixLength || mask > cidr.prefixLength + MAX_SUBNET_BITS) {
      reader.report(
        maskField,
        `invalid value ${mask} for cluster CIDR ${text}: expected from ${cidr.prefixLength} to ${Math.min(cidr.prefixLength + MAX_SUBNET_BITS, cidr.family === "IPv4" ? 32 : 128)} ` +
          `(at most ${MAX_SUBNET_BITS} bits longer than the cluster prefix)`,
      );
    }
    const clash = parsed.find((p) => cidrsOverlap(p.cidr, cidr));
    if (clash !== undefined) {
      reader.report(field, `invalid value "${text}": overlaps clusterCIDRs[${clash.index}] ${formatCidr(clash.cidr)}`);
    }
    parsed.push({ cidr, index });
  }
}

function checkServerNames(reader: FieldReader, names: readonly string[]): void {
  if (names.length === 0) reader.report("tls.serverNames", "invalid value []: expected at least one DNS name or IP address");
  for (const [index, name] of names.entries()) {
    if (isIP(name) === 0 && !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/.test(name)) {
      reader.report(`tls.serverNames[${index}]`, `invalid value ${showValue(name)}: expected a lowercase DNS name or an IP address`);
    }
  }
}

