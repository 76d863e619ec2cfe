// Checks a parsed configuration document field by field and fills in defaults.
import { isIP } from "node:net";
import { CidrError, cidrsOverlap, formatCidr, parseCidr, type Cidr } from "../ipam/cidr.ts";
import { MAX_SUBNET_BITS } from "../ipam/subnet-pool.ts";
import { DEFAULT_CONFIG, type ControllerConfig } from "./types.ts";

/** One invalid field: its dotted path, the value found and what is allowed. */
export interface ConfigIssue {
  readonly field: string;
  readonly message: string;
}

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    super(`invalid controller configuration ${source}:\n${issues.map((i) => `  ${i.field}: ${i.message}`).join("\n")}`, options);
    this.name = "ConfigError";
    this.issues = issues;
  }
}

type Section = Record<string, unknown>;

/** Collects issues while reading one document, so one run reports every bad field. */
class FieldReader {
  readonly issues: ConfigIssue[] = [];

  report(field: string, message: string): void {
    this.issues.push({ field, message });
  }

  section(parent: Section, key: string, allowed: readonly string[], prefix = ""): Section {
    const field = prefix + key;
    const value = parent[key];
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value)) {
      this.report(field, `invalid value ${show(value)}: expected a mapping with fields ${allowed.join(", ")}`);
      return {};
    }
    this.rejectUnknown(value as Section, allowed, `${field}.`);
    return value as Section;
  }

  rejectUnknown(section: Section, allowed: readonly string[], prefix: string): void {
    for (const key of Object.keys(section)) {
      if (!allowed.includes(key)) this.report(prefix + key, `unknown field; allowed fields here: ${allowed.join(", ")}`);
    }
  }

  integer(section: Section, key: string, options: { field: string; fallback: number; min: number; max: number }): number {
    const value = section[key];
    if (value === undefined || value === null) return options.fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < options.min || value > options.max) {
      this.report(options.field, `invalid value ${show(value)}: expected an integer from ${options.min} to ${options.max}`);
      return options.fallback;
    }
    return value;
  }

  boolean(section: Section, key: string, options: { field: string; fallback: boolean }): boolean {
    const value = section[key];
    if (value === undefined || value === null) return options.fallback;
    if (typeof value !== "boolean") {
      this.report(options.field, `invalid value ${show(value)}: expected true or false`);
      return options.fallback;
    }
    return value;
  }

  string(section: Section, key: string, options: { field: string; fallback: string; nonEmpty?: boolean }): string {
    const value = section[key];
    if (value === undefined || value === null) return options.fallback;
    if (typeof value !== "string" || (options.nonEmpty === true && value === "")) {
      this.report(options.field, `invalid value ${show(value)}: expected ${options.nonEmpty === true ? "a non-empty" : "a"} string`);
      return options.fallback;
    }
    return value;
  }

  ipAddress(section: Section, key: string, options: { field: string; fallback: string }): string {
    const value = this.string(section, key, options);
    if (isIP(value) === 0) {
      this.report(options.field, `invalid value ${show(value)}: expected an IPv4 or IPv6 address such as 0.0.0.0 or ::`);
      return options.fallback;
    }
    return value;
  }

  stringList(section: Section, key: string, options: { field: string; fallback: readonly string[] }): string[] {
    const value = section[key];
    if (value === undefined || value === null) return [...options.fallback];
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
      this.report(options.field, `invalid value ${show(value)}: expected a list of strings`);
      return [...options.fallback];
    }
    return value as string[];
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
    throw new ConfigError(source, [{ field: "(document)", message: `invalid value ${show(document)}: expected a mapping of fields` }]);
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
    bindAddress: reader.ipAddress(apiSection, "bindAddress", { field: "api.bindAddress", fallback: d.api.bindAddress }),
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
    bindAddress: reader.ipAddress(metricsSection, "bindAddress", { field: "metrics.bindAddress", fallback: d.metrics.bindAddress }),
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
      reader.report(`tls.serverNames[${index}]`, `invalid value ${show(name)}: expected a lowercase DNS name or an IP address`);
    }
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
