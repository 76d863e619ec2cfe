/**
 * Type-specific defaults and validation applied on create and update, a
 * small subset of what kube-apiserver 1.32's registry strategies do.
 *
 * NOTE: simplified. Only the defaults that clients commonly read are set
 * (listed per kind below); there is no schema validation beyond object
 * names, labels and annotations.
 */

import { invalid } from "./status.ts";
import type { KubeObject } from "./store.ts";
import type { ResourceType } from "./resources.ts";
import { LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN } from "./selectors.ts";

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Checks the object name against the rule of its kind (DNS label for Namespaces, DNS-1035 label for Services, DNS subdomain otherwise). */
export function validateName(type: ResourceType, name: string): void {
  const fail = (problem: string): never => {
    throw invalid({ group: type.group, kind: type.kind, name, field: "metadata.name", problem: `Invalid value: "${name}": ${problem}` });
  };
  if (type.kind === "Namespace") {
    if (name.length > 63 || !DNS_LABEL.test(name)) fail("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', start and end with an alphanumeric character, and be at most 63 characters");
  } else if (type.kind === "Service") {
    if (name.length > 63 || !DNS_1035_LABEL.test(name)) fail("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with a letter, end with an alphanumeric character, and be at most 63 characters");
  } else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    fail("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', start and end with an alphanumeric character, and be at most 253 characters");
  }
}

/** Checks label keys and values and annotation keys. */
export function validateMetadata(type: ResourceType, object: KubeObject): void {
  const name = object.metadata.name ?? "";
  for (const [key, value] of Object.entries(object.metadata.labels ?? {})) {
    if (!LABEL_KEY_PATTERN.test(key)) {
      throw invalid({ group: type.group, kind: type.kind, name, field: "metadata.labels", problem: `Invalid value: "${key}": not a valid label key` });
    }
    if (typeof value !== "string" || !LABEL_VALUE_PATTERN.test(value)) {
      throw invalid({ group: type.group, kind: type.kind, name, field: "metadata.labels", problem: `Invalid value: ${JSON.stringify(value)}: a label value is at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric` });
    }
  }
  for (const [key, value] of Object.entries(object.metadata.annotations ?? {})) {
    if (!LABEL_KEY_PATTERN.test(key) || typeof value !== "string") {
      throw invalid({ group: type.group, kind: type.kind, name, field: "metadata.annotations", problem: `Invalid value: "${key}": annotation keys follow the label key rule and values are strings` });
    }
  }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function defaultPorts(ports: unknown, options: { targetPort: boolean }): void {
  if (!Array.isArray(ports)) return;
  for (const port of ports) {
    const entry = record(port);
    entry.protocol ??= "TCP";
    if (options.targetPort && entry.targetPort === undefined && entry.port !== undefined) {
      entry.targetPort = entry.port;
    }
  }
}

/** Pod defaults: restartPolicy, dnsPolicy, schedulerName, terminationGracePeriodSeconds, container port protocol; status starts Pending. */
function defaultPod(object: KubeObject, keepStatus: boolean): void {
  const spec = record(object.spec);
  object.spec = spec;
  spec.restartPolicy ??= "Always";
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= "default-scheduler";
  spec.terminationGracePeriodSeconds ??= 30;
  for (const list of [spec.containers, spec.initContainers]) {
    if (!Array.isArray(list)) continue;
    for (const container of list) {
      defaultPorts(record(container).ports, { targetPort: false });
    }
  }
  if (!keepStatus) {
    object.status = { phase: "Pending" };
  }
}

/** Namespace defaults: the `kubernetes` finalizer, phase Active and the kubernetes.io/metadata.name label. */
function defaultNamespace(object: KubeObject): void {
  const name = object.metadata.name ?? "";
  object.metadata.labels = { ...object.metadata.labels, "kubernetes.io/metadata.name": name };
  object.spec = { finalizers: ["kubernetes"], ...record(object.spec) };
  object.status = { phase: "Active" };
}

/** Service defaults: type ClusterIP, an allocated cluster IP, single-stack IPv4, port protocol and targetPort. */
function defaultService(object: KubeObject, allocateClusterIp: () => string): void {
  const spec = record(object.spec);
  object.spec = spec;
  spec.type ??= "ClusterIP";
  spec.sessionAffinity ??= "None";
  if (spec.type !== "ExternalName") {
    if (spec.clusterIP === undefined || spec.clusterIP === "") {
      spec.clusterIP = allocateClusterIp();
    }
    spec.clusterIPs ??= [spec.clusterIP];
    if (spec.clusterIP !== "None") {
      spec.ipFamilies ??= ["IPv4"];
      spec.ipFamilyPolicy ??= "SingleStack";
    }
  }
  defaultPorts(spec.ports, { targetPort: true });
  object.status = { loadBalancer: {} };
}

/**
 * Applies create-time defaults in place. `allocateClusterIp` returns a free
 * Service IP. Types with a status subresource lose the request's status,
 * except Nodes, whose status a kubelet sets on create.
 */
export function applyCreateDefaults(type: ResourceType, object: KubeObject, allocateClusterIp: () => string): void {
  const keepStatus = !type.statusSubresource || type.keepStatusOnCreate;
  if (type.group === "" && type.kind === "Pod") {
    defaultPod(object, keepStatus);
  } else if (type.group === "" && type.kind === "Namespace") {
    defaultNamespace(object);
  } else if (type.group === "" && type.kind === "Service") {
    defaultService(object, allocateClusterIp);
  } else if (!keepStatus) {
    delete object.status;
  }
}
