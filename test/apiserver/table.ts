/**
 * Server-side printing: the meta.k8s.io `Table` form that `kubectl get`
 * requests with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`.
 * Columns follow kube-apiserver 1.32's printers for the kinds below; other
 * kinds get the default Name and Age columns. Priority 1 columns are the
 * extra ones `kubectl get -o wide` shows.
 */

import type { KubeObject } from "./store.ts";

interface Column {
  name: string;
  type: "string" | "integer" | "date";
  format?: "name";
  priority: 0 | 1;
  description: string;
  cell: (object: KubeObject, now: number) => string | number;
}

/** How much of each object a row carries in `object` (the `includeObject` query parameter). */
export type IncludeObject = "None" | "Object" | "Metadata";

type Loose = Record<string, unknown>;

function field(object: unknown, path: string): unknown {
  let current: unknown = object;
  for (const segment of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Loose)[segment];
  }
  return current;
}

function list(value: unknown): Loose[] {
  return Array.isArray(value) ? (value as Loose[]) : [];
}

function text(value: unknown, fallback = "<none>"): string {
  return typeof value === "string" && value !== "" ? value : fallback;
}

/** Formats an age such as `45s`, `3m20s` or `5d`, with the rounding of apimachinery's duration.HumanDuration. */
export function humanDuration(seconds: number): string {
  if (seconds < 0) return "<invalid>";
  if (seconds < 120) return `${Math.floor(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const rest = Math.floor(seconds) % 60;
    return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const rest = minutes % 60;
    return rest === 0 ? `${hours}h` : `${hours}h${rest}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) {
    const rest = hours % 24;
    return rest === 0 ? `${days}d` : `${days}d${rest}h`;
  }
  if (days < 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (days < 365 * 8) {
    const rest = days % 365;
    return rest === 0 ? `${years}y` : `${years}y${rest}d`;
  }
  return `${years}y`;
}

function age(object: KubeObject, now: number): string {
  const created = Date.parse(object.metadata.creationTimestamp ?? "");
  return Number.isNaN(created) ? "<unknown>" : humanDuration((now - created) / 1000);
}

const NAME: Column = { name: "Name", type: "string", format: "name", priority: 0, description: "Name must be unique within a namespace.", cell: (o) => o.metadata.name ?? "" };
const AGE: Column = { name: "Age", type: "string", priority: 0, description: "Time since the object was created.", cell: age };

function podReady(pod: KubeObject): string {
  const containers = list(field(pod, "spec.containers"));
  const statuses = list(field(pod, "status.containerStatuses"));
  return `${statuses.filter((status) => status.ready === true).length}/${containers.length}`;
}

function podRestarts(pod: KubeObject): number {
  return list(field(pod, "status.containerStatuses")).reduce((sum, status) => sum + (typeof status.restartCount === "number" ? status.restartCount : 0), 0);
}

function podStatus(pod: KubeObject): string {
  if (pod.metadata.deletionTimestamp !== undefined) return "Terminating";
  return text(field(pod, "status.reason"), text(field(pod, "status.phase"), "Unknown"));
}

function nodeStatus(node: KubeObject): string {
  const ready = list(field(node, "status.conditions")).find((condition) => condition.type === "Ready");
  let state = "Unknown";
  if (ready !== undefined) {
    state = ready.status === "True" ? "Ready" : "NotReady";
  }
  return field(node, "spec.unschedulable") === true ? `${state},SchedulingDisabled` : state;
}

function nodeRoles(node: KubeObject): string {
  const prefix = "node-role.kubernetes.io/";
  const roles = Object.keys(node.metadata.labels ?? {}).filter((key) => key.startsWith(prefix)).map((key) => key.slice(prefix.length));
  return roles.length > 0 ? roles.sort().join(",") : "<none>";
}

function nodeAddress(node: KubeObject, kind: string): string {
  const address = list(field(node, "status.addresses")).find((entry) => entry.type === kind);
  return text(address?.address);
}

function servicePorts(service: KubeObject): string {
  const ports = list(field(service, "spec.ports")).map((port) => {
    const nodePort = typeof port.nodePort === "number" ? `:${port.nodePort}` : "";
    return `${String(port.port)}${nodePort}/${text(port.protocol, "TCP")}`;
  });
  return ports.length > 0 ? ports.join(",") : "<none>";
}

function serviceExternalIp(service: KubeObject): string {
  const external = field(service, "spec.externalIPs");
  const ingress = list(field(service, "status.loadBalancer.ingress")).map((entry) => text(entry.ip, text(entry.hostname, "")));
  const all = [...(Array.isArray(external) ? (external as string[]) : []), ...ingress.filter((ip) => ip !== "")];
  if (all.length > 0) return all.join(",");
  return field(service, "spec.type") === "LoadBalancer" ? "<pending>" : "<none>";
}

function selectorText(selector: unknown): string {
  const labels = Object.entries((selector as Record<string, string> | undefined) ?? {}).map(([key, value]) => `${key}=${value}`);
  return labels.length > 0 ? labels.join(",") : "<none>";
}

function labelSelectorText(selector: unknown): string {
  const matchLabels = Object.entries((field(selector, "matchLabels") as Record<string, string> | undefined) ?? {}).map(([key, value]) => `${key}=${value}`);
  const expressions = list(field(selector, "matchExpressions")).map((expression) => `${String(expression.key)} ${String(expression.operator).toLowerCase()} (${list(expression.values).join(",")})`);
  const all = [...matchLabels, ...expressions];
  return all.length > 0 ? all.join(",") : "<none>";
}

function columnsFor(kind: string): Column[] {
  switch (kind) {
    case "Pod":
      return [
        NAME,
        { name: "Ready", type: "string", priority: 0, description: "The aggregate readiness state of this pod for accepting traffic.", cell: podReady },
        { name: "Status", type: "string", priority: 0, description: "The aggregate status of the containers in this pod.", cell: podStatus },
        { name: "Restarts", type: "string", priority: 0, description: "The number of times the containers in this pod have been restarted.", cell: (o) => String(podRestarts(o)) },
        AGE,
        { name: "IP", type: "string", priority: 1, description: "IP address allocated to the pod.", cell: (o) => text(field(o, "status.podIP")) },
        { name: "Node", type: "string", priority: 1, description: "Name of the node where the pod runs.", cell: (o) => text(field(o, "spec.nodeName")) },
        { name: "Nominated Node", type: "string", priority: 1, description: "Node nominated by the scheduler for preemption.", cell: (o) => text(field(o, "status.nominatedNodeName")) },
        { name: "Readiness Gates", type: "string", priority: 1, description: "Pod readiness gates.", cell: (o) => (list(field(o, "spec.readinessGates")).length === 0 ? "<none>" : String(list(field(o, "spec.readinessGates")).length)) },
      ];
    case "Node":
      return [
        NAME,
        { name: "Status", type: "string", priority: 0, description: "The status of the node.", cell: nodeStatus },
        { name: "Roles", type: "string", priority: 0, description: "The roles of the node.", cell: nodeRoles },
        AGE,
        { name: "Version", type: "string", priority: 0, description: "Kubelet version.", cell: (o) => text(field(o, "status.nodeInfo.kubeletVersion"), "") },
        { name: "Internal-IP", type: "string", priority: 1, description: "Internal IP of the node.", cell: (o) => nodeAddress(o, "InternalIP") },
        { name: "External-IP", type: "string", priority: 1, description: "External IP of the node.", cell: (o) => nodeAddress(o, "ExternalIP") },
        { name: "OS-Image", type: "string", priority: 1, description: "OS image reported by the node.", cell: (o) => text(field(o, "status.nodeInfo.osImage"), "<unknown>") },
        { name: "Kernel-Version", type: "string", priority: 1, description: "Kernel version reported by the node.", cell: (o) => text(field(o, "status.nodeInfo.kernelVersion"), "<unknown>") },
        { name: "Container-Runtime", type: "string", priority: 1, description: "Container runtime reported by the node.", cell: (o) => text(field(o, "status.nodeInfo.containerRuntimeVersion"), "<unknown>") },
      ];
    case "Namespace":
      return [NAME, { name: "Status", type: "string", priority: 0, description: "The status of the namespace.", cell: (o) => text(field(o, "status.phase"), "") }, AGE];
    case "Service":
      return [
        NAME,
        { name: "Type", type: "string", priority: 0, description: "The type of the service.", cell: (o) => text(field(o, "spec.type"), "") },
        { name: "Cluster-IP", type: "string", priority: 0, description: "The cluster IP of the service.", cell: (o) => text(field(o, "spec.clusterIP")) },
        { name: "External-IP", type: "string", priority: 0, description: "The external IPs of the service.", cell: serviceExternalIp },
        { name: "Port(s)", type: "string", priority: 0, description: "The ports of the service.", cell: servicePorts },
        AGE,
        { name: "Selector", type: "string", priority: 1, description: "The pod selector of the service.", cell: (o) => selectorText(field(o, "spec.selector")) },
      ];
    case "NetworkPolicy":
      return [NAME, { name: "Pod-Selector", type: "string", priority: 0, description: "The pods the policy selects.", cell: (o) => labelSelectorText(field(o, "spec.podSelector")) }, AGE];
    default:
      return [NAME, AGE];
  }
}

function rowObject(object: KubeObject, include: IncludeObject): unknown {
  if (include === "None") return undefined;
  if (include === "Object") return object;
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: object.metadata };
}

/** Builds a Table of `objects` of `kind`; `tableApiVersion` is the meta.k8s.io version the client requested. */
export function buildTable(options: {
  kind: string;
  objects: readonly KubeObject[];
  tableApiVersion: string;
  include: IncludeObject;
  metadata: Record<string, unknown>;
  now?: number;
}): object {
  const now = options.now ?? Date.now();
  const columns = columnsFor(options.kind);
  return {
    kind: "Table",
    apiVersion: options.tableApiVersion,
    metadata: options.metadata,
    columnDefinitions: columns.map((column) => ({
      name: column.name,
      type: column.type,
      format: column.format ?? "",
      description: column.description,
      priority: column.priority,
    })),
    rows: options.objects.map((object) => {
      const row: Record<string, unknown> = { cells: columns.map((column) => column.cell(object, now)) };
      const embedded = rowObject(object, options.include);
      if (embedded !== undefined) row.object = embedded;
      return row;
    }),
  };
}
