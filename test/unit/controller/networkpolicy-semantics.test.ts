// Table-driven semantics of the NetworkPolicy computation. Each case feeds Kubernetes objects
// and compares every node's slice with a summary written by hand from the NetworkPolicy
// specification (networking.k8s.io/v1), in this notation:
//
//   policy     "<id> <policyTypes joined by +> on <applied-to selector>" then, per rule,
//              " | in0 peers=[...] ports=[...]" (in/out = Ingress/Egress, then the index)
//   selector   "ns(shop)/app=web" (one namespace) or "nsSel(team=a)/*" (namespace selector);
//              requirements: k=v, k in (a,b), k notin (a,b), k (Exists), !k (DoesNotExist),
//              * for none
//   ports      "TCP 80", "TCP 8000-9000", "UDP dns" (named), "SCTP *" (all ports), * for all
//   members    applied-to "ns/name ips namedPorts", address "ip namedPorts"
import { createHash } from "node:crypto";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Namespace, V1NetworkPolicy, V1NetworkPolicySpec, V1Pod } from "@kubernetes/client-node";
import { NetworkPolicyComputer } from "../../../controller/networkpolicy/computer.ts";
import { PolicyValidationError } from "../../../controller/networkpolicy/errors.ts";
import { applySliceEvents, emptySlice } from "../../../controller/networkpolicy/slice.ts";
import type {
  GroupSelector,
  LabelRequirement,
  NamedPort,
  NodeSlice,
  PolicyRule,
  RulePort,
  SliceEvent,
} from "../../../controller/networkpolicy/types.ts";

// ---- Object builders -------------------------------------------------------------------

interface PodOptions {
  labels?: Record<string, string>;
  node?: string | null;
  ips?: string[];
  ports?: { name: string; port: number; protocol?: string }[];
  hostNetwork?: boolean;
  phase?: string;
}

function pod(namespace: string, name: string, options: PodOptions = {}): V1Pod {
  const ips = options.ips ?? [];
  return {
    metadata: { namespace, name, labels: options.labels ?? {} },
    spec: {
      nodeName: options.node ?? undefined,
      hostNetwork: options.hostNetwork,
      containers: [
        {
          name: "main",
          ports: (options.ports ?? []).map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol })),
        },
      ],
    },
    status: {
      phase: options.phase ?? "Running",
      podIP: ips[0],
      podIPs: ips.map((ip) => ({ ip })),
    },
  };
}

function namespace(name: string, labels: Record<string, string> = {}): V1Namespace {
  return { metadata: { name, labels: { "kubernetes.io/metadata.name": name, ...labels } } };
}

function policy(namespaceName: string, name: string, spec: V1NetworkPolicySpec, uid?: string): V1NetworkPolicy {
  return { metadata: { namespace: namespaceName, name, uid }, spec };
}

type Computer = NetworkPolicyComputer;
type Step = (c: Computer) => void;

// The base cluster of most cases: two namespaces, four pods on three nodes.
const baseCluster: Step[] = [
  (c) => c.upsertNamespace(namespace("shop", { team: "a", env: "prod" })),
  (c) => c.upsertNamespace(namespace("lab", { team: "b" })),
  (c) =>
    c.upsertPod(pod("shop", "web-1", { labels: { app: "web" }, node: "n1", ips: ["10.0.1.1"], ports: [{ name: "http", port: 8080 }] })),
  (c) =>
    c.upsertPod(pod("shop", "web-2", { labels: { app: "web" }, node: "n2", ips: ["10.0.2.2"], ports: [{ name: "http", port: 8081 }] })),
  (c) =>
    c.upsertPod(pod("shop", "db-1", { labels: { app: "db", tier: "data" }, node: "n2", ips: ["10.0.2.1"], ports: [{ name: "pg", port: 5432 }] })),
  (c) =>
    c.upsertPod(
      pod("lab", "client-1", { labels: { app: "client" }, node: "n3", ips: ["10.0.3.1"], ports: [{ name: "dns", port: 53, protocol: "UDP" }] }),
    ),
];

// ---- Slice summary ---------------------------------------------------------------------

interface NodeSummary {
  policies: string[];
  appliedTo: Record<string, string[]>;
  address: Record<string, string[]>;
}

const nodes = ["n1", "n2", "n3"];
const empty: NodeSummary = { policies: [], appliedTo: {}, address: {} };

function requirementText(requirements: readonly LabelRequirement[]): string {
  if (requirements.length === 0) return "*";
  return requirements
    .map((r) => {
      switch (r.operator) {
        case "In":
          return r.values.length === 1 ? `${r.key}=${r.values[0]}` : `${r.key} in (${r.values.join(",")})`;
        case "NotIn":
          return `${r.key} notin (${r.values.join(",")})`;
        case "Exists":
          return r.key;
        case "DoesNotExist":
          return `!${r.key}`;
      }
      return "?";
    })
    .join(",");
}

function selectorText(selector: GroupSelector): string {
  const scope =
    selector.namespace !== null ? `ns(${selector.namespace})` : `nsSel(${requirementText(selector.namespaceSelector ?? [])})`;
  return `${scope}/${requirementText(selector.podSelector)}`;
}

function portText(port: RulePort): string {
  if (port.portName !== undefined) return `${port.protocol} ${port.portName}`;
  if (port.port === undefined) return `${port.protocol} *`;
  if (port.endPort !== undefined) return `${port.protocol} ${port.port}-${port.endPort}`;
  return `${port.protocol} ${port.port}`;
}

function namedPortsText(ports: readonly NamedPort[]): string {
  return ports.map((p) => ` ${p.name}/${p.protocol}/${p.port}`).join("");
}

function summarize(slice: NodeSlice): NodeSummary {
  const selectors = new Map<string, string>();
  for (const group of [...slice.addressGroups, ...slice.appliedToGroups]) {
    selectors.set(group.id, selectorText(group.selector));
  }
  const groupText = (id: string): string => selectors.get(id) ?? `MISSING(${id})`;
  const ruleText = (rule: PolicyRule): string => {
    const peers =
      rule.peers === null
        ? "*"
        : `[${[
            ...rule.peers.addressGroups.map(groupText),
            ...rule.peers.ipBlocks.map((b) => (b.except.length > 0 ? `${b.cidr} except ${b.except.join(" ")}` : b.cidr)),
          ].join("; ")}]`;
    const ports = rule.ports === null ? "*" : `[${rule.ports.map(portText).join(", ")}]`;
    return ` | ${rule.direction === "Ingress" ? "in" : "out"}${rule.index} peers=${peers} ports=${ports}`;
  };

  const summary: NodeSummary = { policies: [], appliedTo: {}, address: {} };
  for (const p of slice.policies) {
    summary.policies.push(`${p.id} ${p.policyTypes.join("+")} on ${groupText(p.appliedToGroup)}${p.rules.map(ruleText).join("")}`);
  }
  for (const group of slice.appliedToGroups) {
    summary.appliedTo[selectorText(group.selector)] = group.members.map(
      (m) => `${m.namespace}/${m.name} ${m.ips.join(",") || "-"}${namedPortsText(m.namedPorts)}`,
    );
  }
  for (const group of slice.addressGroups) {
    summary.address[selectorText(group.selector)] = group.members.map((m) => `${m.ip}${namedPortsText(m.namedPorts)}`);
  }
  return summary;
}

// ---- Cases -----------------------------------------------------------------------------

interface Case {
  name: string;
  steps: Step[];
  /** Expected summary per node; nodes not listed expect an empty slice. */
  expect: Record<string, NodeSummary>;
  /** Expected event types per node of the last step only. */
  lastEvents?: Record<string, string[]>;
}

const webOnN1 = "shop/web-1 10.0.1.1 http/TCP/8080";
const webOnN2 = "shop/web-2 10.0.2.2 http/TCP/8081";
const dbOnN2 = "shop/db-1 10.0.2.1 pg/TCP/5432";
const clientOnN3 = "lab/client-1 10.0.3.1 dns/UDP/53";
const webAddresses = ["10.0.1.1 http/TCP/8080", "10.0.2.2 http/TCP/8081"];

const dbPolicy = (spec: Omit<V1NetworkPolicySpec, "podSelector">): Step => (c) =>
  c.upsertPolicy(policy("shop", "p", { podSelector: { matchLabels: { app: "db" } }, ...spec }));

/** Builds the expected slice of n2, the db pod's node, with policy text `text` and the given address groups. */
function dbSlice(text: string, address: Record<string, string[]> = {}): Record<string, NodeSummary> {
  return { n2: { policies: [`shop/p ${text}`], appliedTo: { "ns(shop)/app=db": [dbOnN2] }, address } };
}

const cases: Case[] = [
  {
    name: "no policy gives empty slices",
    steps: [...baseCluster],
    expect: {},
  },
  {
    name: "default deny ingress",
    steps: [...baseCluster, (c) => c.upsertPolicy(policy("shop", "deny", { podSelector: {} }))],
    expect: {
      n1: { policies: ["shop/deny Ingress on ns(shop)/*"], appliedTo: { "ns(shop)/*": [webOnN1] }, address: {} },
      n2: { policies: ["shop/deny Ingress on ns(shop)/*"], appliedTo: { "ns(shop)/*": [dbOnN2, webOnN2] }, address: {} },
    },
  },
  {
    name: "default deny egress",
    steps: [...baseCluster, (c) => c.upsertPolicy(policy("lab", "deny", { podSelector: {}, policyTypes: ["Egress"] }))],
    expect: { n3: { policies: ["lab/deny Egress on ns(lab)/*"], appliedTo: { "ns(lab)/*": [clientOnN3] }, address: {} } },
  },
  {
    name: "deny both directions",
    steps: [...baseCluster, (c) => c.upsertPolicy(policy("lab", "deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }))],
    expect: { n3: { policies: ["lab/deny Egress+Ingress on ns(lab)/*"], appliedTo: { "ns(lab)/*": [clientOnN3] }, address: {} } },
  },
  {
    name: "empty ingress list denies",
    steps: [...baseCluster, dbPolicy({ ingress: [] })],
    expect: dbSlice("Ingress on ns(shop)/app=db"),
  },
  {
    name: "empty rule allows all",
    steps: [...baseCluster, dbPolicy({ ingress: [{}] })],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=* ports=*"),
  },
  {
    name: "empty from list allows all peers",
    steps: [...baseCluster, dbPolicy({ ingress: [{ _from: [], ports: [{ port: 5432 }] }] })],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=* ports=[TCP 5432]"),
  },
  {
    name: "empty ports list allows all ports",
    steps: [...baseCluster, dbPolicy({ ingress: [{ _from: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [] }] })],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/app=web] ports=*", { "ns(shop)/app=web": webAddresses }),
  },
  {
    name: "egress rule defaults policyTypes",
    steps: [...baseCluster, dbPolicy({ egress: [{}] })],
    expect: dbSlice("Egress+Ingress on ns(shop)/app=db | out0 peers=* ports=*"),
  },
  {
    name: "empty egress list keeps Ingress only",
    steps: [...baseCluster, dbPolicy({ egress: [] })],
    expect: dbSlice("Ingress on ns(shop)/app=db"),
  },
  {
    name: "listed Ingress drops egress rules",
    steps: [...baseCluster, dbPolicy({ policyTypes: ["Ingress"], ingress: [{}], egress: [{}] })],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=* ports=*"),
  },
  {
    name: "listed Egress drops ingress rules",
    steps: [...baseCluster, dbPolicy({ policyTypes: ["Egress"], ingress: [{}], egress: [{ ports: [{ port: 53, protocol: "UDP" }] }] })],
    expect: dbSlice("Egress on ns(shop)/app=db | out0 peers=* ports=[UDP 53]"),
  },
  {
    name: "podSelector peer is own namespace",
    steps: [
      ...baseCluster,
      (c) => c.upsertPod(pod("lab", "web-9", { labels: { app: "web" }, node: "n3", ips: ["10.0.3.9"] })),
      dbPolicy({ ingress: [{ _from: [{ podSelector: { matchLabels: { app: "web" } } }] }] }),
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/app=web] ports=*", { "ns(shop)/app=web": webAddresses }),
  },
  {
    name: "allow from namespace",
    steps: [...baseCluster, dbPolicy({ ingress: [{ _from: [{ namespaceSelector: { matchLabels: { team: "b" } } }] }] })],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[nsSel(team=b)/*] ports=*", {
      "nsSel(team=b)/*": ["10.0.3.1 dns/UDP/53"],
    }),
  },
  {
    name: "namespace and pod selector in one peer is AND",
    steps: [
      ...baseCluster,
      (c) => c.upsertPod(pod("lab", "web-9", { labels: { app: "web" }, node: "n3", ips: ["10.0.3.9"] })),
      dbPolicy({
        ingress: [{ _from: [{ namespaceSelector: { matchLabels: { team: "b" } }, podSelector: { matchLabels: { app: "web" } } }] }],
      }),
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[nsSel(team=b)/app=web] ports=*", {
      "nsSel(team=b)/app=web": ["10.0.3.9"],
    }),
  },
  {
    name: "namespace and pod selector in two peers is OR",
    steps: [
      ...baseCluster,
      (c) => c.upsertPod(pod("lab", "web-9", { labels: { app: "web" }, node: "n3", ips: ["10.0.3.9"] })),
      dbPolicy({
        ingress: [{ _from: [{ namespaceSelector: { matchLabels: { team: "b" } } }, { podSelector: { matchLabels: { app: "web" } } }] }],
      }),
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/app=web; nsSel(team=b)/*] ports=*", {
      "ns(shop)/app=web": webAddresses,
      "nsSel(team=b)/*": ["10.0.3.1 dns/UDP/53", "10.0.3.9"],
    }),
  },
  {
    name: "empty namespaceSelector is all namespaces",
    steps: [
      ...baseCluster,
      (c) => c.upsertPod(pod("lab", "web-9", { labels: { app: "web" }, node: "n3", ips: ["10.0.3.9"] })),
      dbPolicy({ ingress: [{ _from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: "web" } } }] }] }),
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[nsSel(*)/app=web] ports=*", {
      "nsSel(*)/app=web": [...webAddresses, "10.0.3.9"],
    }),
  },
  {
    name: "matchExpressions In",
    steps: [
      ...baseCluster,
      dbPolicy({
        ingress: [{ _from: [{ podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["web", "db"] }] } }] }],
      }),
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/app in (db,web)] ports=*", {
      "ns(shop)/app in (db,web)": ["10.0.1.1 http/TCP/8080", "10.0.2.1 pg/TCP/5432", "10.0.2.2 http/TCP/8081"],
    }),
  },
  {
    name: "matchExpressions NotIn includes missing key",
    steps: [
      ...baseCluster,
      (c) => c.upsertPod(pod("shop", "bare", { node: "n3", ips: ["10.0.3.7"] })),
      dbPolicy({
        ingress: [{ _from: [{ podSelector: { matchExpressions: [{ key: "app", operator: "NotIn", values: ["web"] }] } }] }],
      }),
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/app notin (web)] ports=*", {
      "ns(shop)/app notin (web)": ["10.0.2.1 pg/TCP/5432", "10.0.3.7"],
    }),
  },
  {
    name: "matchExpressions Exists",
    steps: [
      ...baseCluster,
      dbPolicy({ ingress: [{ _from: [{ podSelector: { matchExpressions: [{ key: "tier", operator: "Exists" }] } }] }] }),
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/tier] ports=*", { "ns(shop)/tier": ["10.0.2.1 pg/TCP/5432"] }),
  },
  {
    name: "matchExpressions DoesNotExist",
    steps: [
      ...baseCluster,
      dbPolicy({ ingress: [{ _from: [{ podSelector: { matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] } }] }] }),
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/!tier] ports=*", { "ns(shop)/!tier": webAddresses }),
  },
  {
    name: "ipBlock with except",
    steps: [...baseCluster, dbPolicy({ ingress: [{ _from: [{ ipBlock: { cidr: "172.16.0.0/12", except: ["172.16.1.0/24"] } }] }] })],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[172.16.0.0/12 except 172.16.1.0/24] ports=*"),
  },
  {
    name: "IPv6 ipBlock egress",
    steps: [...baseCluster, dbPolicy({ egress: [{ to: [{ ipBlock: { cidr: "fd00::/64", except: ["fd00::/80"] } }] }] })],
    expect: dbSlice("Egress+Ingress on ns(shop)/app=db | out0 peers=[fd00::/64 except fd00::/80] ports=*"),
  },
  {
    name: "numeric port defaults to TCP",
    steps: [...baseCluster, dbPolicy({ ingress: [{ ports: [{ port: 5432 }, { port: 5433, protocol: "UDP" }] }] })],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=* ports=[TCP 5432, UDP 5433]"),
  },
  {
    name: "named TCP port on ingress",
    steps: [...baseCluster, (c) => c.upsertPolicy(policy("shop", "p", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ ports: [{ port: "http" }] }] }))],
    expect: {
      n1: { policies: ["shop/p Ingress on ns(shop)/app=web | in0 peers=* ports=[TCP http]"], appliedTo: { "ns(shop)/app=web": [webOnN1] }, address: {} },
      n2: { policies: ["shop/p Ingress on ns(shop)/app=web | in0 peers=* ports=[TCP http]"], appliedTo: { "ns(shop)/app=web": [webOnN2] }, address: {} },
    },
  },
  {
    name: "named UDP port on egress",
    steps: [
      ...baseCluster,
      dbPolicy({ egress: [{ to: [{ namespaceSelector: { matchLabels: { team: "b" } } }], ports: [{ port: "dns", protocol: "UDP" }] }] }),
    ],
    expect: dbSlice("Egress+Ingress on ns(shop)/app=db | out0 peers=[nsSel(team=b)/*] ports=[UDP dns]", {
      "nsSel(team=b)/*": ["10.0.3.1 dns/UDP/53"],
    }),
  },
  {
    name: "endPort range",
    steps: [...baseCluster, dbPolicy({ ingress: [{ ports: [{ port: 8000, endPort: 9000 }] }] })],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=* ports=[TCP 8000-9000]"),
  },
  {
    name: "SCTP port",
    steps: [...baseCluster, dbPolicy({ ingress: [{ ports: [{ port: 3868, protocol: "SCTP" }] }] })],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=* ports=[SCTP 3868]"),
  },
  {
    name: "protocol without port is all ports",
    steps: [...baseCluster, dbPolicy({ ingress: [{ ports: [{ protocol: "UDP" }] }] })],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=* ports=[UDP *]"),
  },
  {
    name: "hostNetwork pod excluded",
    steps: [
      ...baseCluster,
      (c) => c.upsertPod(pod("shop", "agent", { labels: { app: "web" }, node: "n3", ips: ["192.168.0.3"], hostNetwork: true })),
      (c) => c.upsertPolicy(policy("shop", "p", { podSelector: { matchLabels: { app: "web" } }, egress: [{ to: [{ podSelector: { matchLabels: { app: "web" } } }] }] })),
    ],
    expect: {
      n1: {
        policies: ["shop/p Egress+Ingress on ns(shop)/app=web | out0 peers=[ns(shop)/app=web] ports=*"],
        appliedTo: { "ns(shop)/app=web": [webOnN1] },
        address: { "ns(shop)/app=web": webAddresses },
      },
      n2: {
        policies: ["shop/p Egress+Ingress on ns(shop)/app=web | out0 peers=[ns(shop)/app=web] ports=*"],
        appliedTo: { "ns(shop)/app=web": [webOnN2] },
        address: { "ns(shop)/app=web": webAddresses },
      },
    },
  },
  {
    name: "terminated pods excluded",
    steps: [
      ...baseCluster,
      (c) => c.upsertPod(pod("shop", "job-1", { labels: { app: "web" }, node: "n3", ips: ["10.0.3.5"], phase: "Succeeded" })),
      (c) => c.upsertPod(pod("shop", "job-2", { labels: { app: "web" }, node: "n3", ips: ["10.0.3.6"], phase: "Failed" })),
      (c) => c.upsertPolicy(policy("shop", "p", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ _from: [{ podSelector: { matchLabels: { app: "web" } } }] }] })),
    ],
    expect: {
      n1: {
        policies: ["shop/p Ingress on ns(shop)/app=web | in0 peers=[ns(shop)/app=web] ports=*"],
        appliedTo: { "ns(shop)/app=web": [webOnN1] },
        address: { "ns(shop)/app=web": webAddresses },
      },
      n2: {
        policies: ["shop/p Ingress on ns(shop)/app=web | in0 peers=[ns(shop)/app=web] ports=*"],
        appliedTo: { "ns(shop)/app=web": [webOnN2] },
        address: { "ns(shop)/app=web": webAddresses },
      },
    },
  },
  {
    name: "pod turning Succeeded leaves groups",
    steps: [
      ...baseCluster,
      (c) => c.upsertPolicy(policy("shop", "p", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ _from: [{ podSelector: { matchLabels: { app: "db" } } }] }] })),
      (c) => c.upsertPod(pod("shop", "web-2", { labels: { app: "web" }, node: "n2", ips: ["10.0.2.2"], phase: "Succeeded" })),
    ],
    expect: {
      n1: {
        policies: ["shop/p Ingress on ns(shop)/app=web | in0 peers=[ns(shop)/app=db] ports=*"],
        appliedTo: { "ns(shop)/app=web": [webOnN1] },
        address: { "ns(shop)/app=db": ["10.0.2.1 pg/TCP/5432"] },
      },
    },
    lastEvents: { n2: ["PolicyRemoved", "AddressGroupRemoved", "AppliedToGroupRemoved"] },
  },
  {
    name: "pod without IP is applied-to only",
    steps: [
      ...baseCluster,
      (c) => c.upsertPod(pod("shop", "web-3", { labels: { app: "web" }, node: "n3" })),
      (c) => c.upsertPolicy(policy("shop", "p", { podSelector: { matchLabels: { app: "web" } }, egress: [{ to: [{ podSelector: { matchLabels: { app: "web" } } }] }] })),
    ],
    expect: {
      n1: {
        policies: ["shop/p Egress+Ingress on ns(shop)/app=web | out0 peers=[ns(shop)/app=web] ports=*"],
        appliedTo: { "ns(shop)/app=web": [webOnN1] },
        address: { "ns(shop)/app=web": webAddresses },
      },
      n2: {
        policies: ["shop/p Egress+Ingress on ns(shop)/app=web | out0 peers=[ns(shop)/app=web] ports=*"],
        appliedTo: { "ns(shop)/app=web": [webOnN2] },
        address: { "ns(shop)/app=web": webAddresses },
      },
      n3: {
        policies: ["shop/p Egress+Ingress on ns(shop)/app=web | out0 peers=[ns(shop)/app=web] ports=*"],
        appliedTo: { "ns(shop)/app=web": ["shop/web-3 -"] },
        address: { "ns(shop)/app=web": webAddresses },
      },
    },
  },
  {
    name: "unscheduled pod with IP is peer only",
    steps: [
      ...baseCluster,
      (c) => c.upsertPod(pod("shop", "web-4", { labels: { app: "web" }, ips: ["10.0.9.9"] })),
      dbPolicy({ ingress: [{ _from: [{ podSelector: { matchLabels: { app: "web" } } }] }] }),
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/app=web] ports=*", {
      "ns(shop)/app=web": [...webAddresses, "10.0.9.9"],
    }),
  },
  {
    name: "address shared by two pods stays",
    steps: [
      ...baseCluster,
      (c) => c.upsertPod(pod("shop", "web-1b", { labels: { app: "web" }, node: "n1", ips: ["10.0.1.1"], ports: [{ name: "http", port: 8080 }] })),
      dbPolicy({ ingress: [{ _from: [{ podSelector: { matchLabels: { app: "web" } } }] }] }),
      (c) => c.deletePod("shop", "web-1"),
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/app=web] ports=*", { "ns(shop)/app=web": webAddresses }),
    lastEvents: {},
  },
  {
    name: "address removed when neither pod has it",
    steps: [
      ...baseCluster,
      (c) => c.upsertPod(pod("shop", "web-1b", { labels: { app: "web" }, node: "n1", ips: ["10.0.1.1"], ports: [{ name: "http", port: 8080 }] })),
      dbPolicy({ ingress: [{ _from: [{ podSelector: { matchLabels: { app: "web" } } }] }] }),
      (c) => c.deletePod("shop", "web-1"),
      (c) => c.deletePod("shop", "web-1b"),
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/app=web] ports=*", { "ns(shop)/app=web": ["10.0.2.2 http/TCP/8081"] }),
    lastEvents: { n2: ["AddressGroupMembersRemoved"] },
  },
  {
    name: "pod IP change updates groups",
    steps: [
      ...baseCluster,
      dbPolicy({ ingress: [{ _from: [{ podSelector: { matchLabels: { app: "web" } } }] }] }),
      (c) => c.upsertPod(pod("shop", "db-1", { labels: { app: "db", tier: "data" }, node: "n2", ips: ["10.0.2.9"], ports: [{ name: "pg", port: 5432 }] })),
      (c) => c.upsertPod(pod("shop", "web-1", { labels: { app: "web" }, node: "n1", ips: ["10.0.1.9"], ports: [{ name: "http", port: 8080 }] })),
    ],
    expect: {
      n2: {
        policies: ["shop/p Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/app=web] ports=*"],
        appliedTo: { "ns(shop)/app=db": ["shop/db-1 10.0.2.9 pg/TCP/5432"] },
        address: { "ns(shop)/app=web": ["10.0.1.9 http/TCP/8080", "10.0.2.2 http/TCP/8081"] },
      },
    },
    lastEvents: { n2: ["AddressGroupMembersRemoved", "AddressGroupMembersAdded"] },
  },
  {
    name: "dual-stack pod has two addresses",
    steps: [
      ...baseCluster,
      (c) => c.upsertPod(pod("shop", "web-6", { labels: { app: "web" }, node: "n3", ips: ["10.0.3.6", "fd00::6"] })),
      dbPolicy({ ingress: [{ _from: [{ podSelector: { matchLabels: { app: "web" } } }] }] }),
      (c) => c.upsertPolicy(policy("shop", "q", { podSelector: { matchLabels: { app: "web" } }, policyTypes: ["Egress"] })),
    ],
    expect: {
      n1: { policies: ["shop/q Egress on ns(shop)/app=web"], appliedTo: { "ns(shop)/app=web": [webOnN1] }, address: {} },
      n2: {
        policies: ["shop/p Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/app=web] ports=*", "shop/q Egress on ns(shop)/app=web"],
        appliedTo: { "ns(shop)/app=db": [dbOnN2], "ns(shop)/app=web": [webOnN2] },
        address: { "ns(shop)/app=web": [...webAddresses, "10.0.3.6", "fd00::6"] },
      },
      n3: { policies: ["shop/q Egress on ns(shop)/app=web"], appliedTo: { "ns(shop)/app=web": ["shop/web-6 10.0.3.6,fd00::6"] }, address: {} },
    },
  },
  {
    name: "pod label change moves groups",
    steps: [
      ...baseCluster,
      dbPolicy({ ingress: [{ _from: [{ podSelector: { matchLabels: { app: "web" } } }] }] }),
      (c) => c.upsertPod(pod("shop", "web-2", { labels: { app: "batch" }, node: "n2", ips: ["10.0.2.2"], ports: [{ name: "http", port: 8081 }] })),
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/app=web] ports=*", { "ns(shop)/app=web": ["10.0.1.1 http/TCP/8080"] }),
    lastEvents: { n2: ["AddressGroupMembersRemoved"] },
  },
  {
    name: "pod label change joins applied-to",
    steps: [
      ...baseCluster,
      dbPolicy({}),
      (c) => c.upsertPod(pod("lab", "client-1", { labels: { app: "client" }, node: "n3", ips: ["10.0.3.1"] })),
      (c) => c.upsertPod(pod("shop", "web-1", { labels: { app: "db" }, node: "n1", ips: ["10.0.1.1"], ports: [{ name: "http", port: 8080 }] })),
    ],
    expect: {
      n1: { policies: ["shop/p Ingress on ns(shop)/app=db"], appliedTo: { "ns(shop)/app=db": [webOnN1] }, address: {} },
      ...dbSlice("Ingress on ns(shop)/app=db"),
    },
    lastEvents: { n1: ["AppliedToGroupAdded", "PolicyAdded"] },
  },
  {
    name: "namespace label change",
    steps: [
      ...baseCluster,
      dbPolicy({ ingress: [{ _from: [{ namespaceSelector: { matchLabels: { team: "a" } } }] }] }),
      (c) => c.upsertNamespace(namespace("lab", { team: "a" })),
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[nsSel(team=a)/*] ports=*", {
      "nsSel(team=a)/*": ["10.0.1.1 http/TCP/8080", "10.0.2.1 pg/TCP/5432", "10.0.2.2 http/TCP/8081", "10.0.3.1 dns/UDP/53"],
    }),
    lastEvents: { n2: ["AddressGroupMembersAdded"] },
  },
  {
    name: "namespace deletion drops its pods",
    steps: [
      ...baseCluster,
      dbPolicy({ ingress: [{ _from: [{ namespaceSelector: {} }] }] }),
      (c) => c.deleteNamespace("lab"),
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[nsSel(*)/*] ports=*", {
      "nsSel(*)/*": ["10.0.1.1 http/TCP/8080", "10.0.2.1 pg/TCP/5432", "10.0.2.2 http/TCP/8081"],
    }),
  },
  {
    name: "pod in unknown namespace",
    steps: [
      (c) => c.upsertNamespace(namespace("shop", { team: "a" })),
      (c) => c.upsertPod(pod("shop", "db-1", { labels: { app: "db" }, node: "n2", ips: ["10.0.2.1"] })),
      (c) => c.upsertPod(pod("late", "x", { node: "n3", ips: ["10.0.3.3"] })),
      (c) => c.upsertPolicy(policy("shop", "p", { podSelector: {}, ingress: [{ _from: [{ namespaceSelector: {} }] }] })),
    ],
    expect: {
      n2: {
        policies: ["shop/p Ingress on ns(shop)/* | in0 peers=[nsSel(*)/*] ports=*"],
        appliedTo: { "ns(shop)/*": ["shop/db-1 10.0.2.1"] },
        address: { "nsSel(*)/*": ["10.0.2.1"] },
      },
    },
  },
  {
    name: "namespace created after its pods",
    steps: [
      (c) => c.upsertNamespace(namespace("shop", { team: "a" })),
      (c) => c.upsertPod(pod("shop", "db-1", { labels: { app: "db" }, node: "n2", ips: ["10.0.2.1"] })),
      (c) => c.upsertPod(pod("late", "x", { node: "n3", ips: ["10.0.3.3"] })),
      (c) => c.upsertPolicy(policy("shop", "p", { podSelector: {}, ingress: [{ _from: [{ namespaceSelector: {} }] }] })),
      (c) => c.upsertNamespace(namespace("late")),
    ],
    expect: {
      n2: {
        policies: ["shop/p Ingress on ns(shop)/* | in0 peers=[nsSel(*)/*] ports=*"],
        appliedTo: { "ns(shop)/*": ["shop/db-1 10.0.2.1"] },
        address: { "nsSel(*)/*": ["10.0.2.1", "10.0.3.3"] },
      },
    },
  },
  {
    name: "namespace name label selects one namespace",
    steps: [
      ...baseCluster,
      dbPolicy({ ingress: [{ _from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "lab" } } }] }] }),
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=[nsSel(kubernetes.io/metadata.name=lab)/*] ports=*", {
      "nsSel(kubernetes.io/metadata.name=lab)/*": ["10.0.3.1 dns/UDP/53"],
    }),
  },
  {
    name: "span grows with first pod",
    steps: [
      ...baseCluster,
      dbPolicy({ ingress: [{ _from: [{ podSelector: { matchLabels: { app: "web" } } }] }] }),
      (c) => c.upsertPod(pod("shop", "db-2", { labels: { app: "db" }, node: "n3", ips: ["10.0.3.2"] })),
    ],
    expect: {
      ...dbSlice("Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/app=web] ports=*", { "ns(shop)/app=web": webAddresses }),
      n3: {
        policies: ["shop/p Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/app=web] ports=*"],
        appliedTo: { "ns(shop)/app=db": ["shop/db-2 10.0.3.2"] },
        address: { "ns(shop)/app=web": webAddresses },
      },
    },
    lastEvents: { n3: ["AddressGroupAdded", "AppliedToGroupAdded", "PolicyAdded"] },
  },
  {
    name: "span shrinks with last pod",
    steps: [
      ...baseCluster,
      dbPolicy({ ingress: [{ _from: [{ podSelector: { matchLabels: { app: "web" } } }] }] }),
      (c) => c.deletePod("shop", "db-1"),
    ],
    expect: {},
    lastEvents: { n2: ["PolicyRemoved", "AddressGroupRemoved", "AppliedToGroupRemoved"] },
  },
  {
    name: "applied-to members filtered per node",
    steps: [...baseCluster, (c) => c.upsertPolicy(policy("shop", "p", { podSelector: {}, ingress: [{ _from: [{ podSelector: {} }] }] }))],
    expect: {
      n1: {
        policies: ["shop/p Ingress on ns(shop)/* | in0 peers=[ns(shop)/*] ports=*"],
        appliedTo: { "ns(shop)/*": [webOnN1] },
        address: { "ns(shop)/*": ["10.0.1.1 http/TCP/8080", "10.0.2.1 pg/TCP/5432", "10.0.2.2 http/TCP/8081"] },
      },
      n2: {
        policies: ["shop/p Ingress on ns(shop)/* | in0 peers=[ns(shop)/*] ports=*"],
        appliedTo: { "ns(shop)/*": [dbOnN2, webOnN2] },
        address: { "ns(shop)/*": ["10.0.1.1 http/TCP/8080", "10.0.2.1 pg/TCP/5432", "10.0.2.2 http/TCP/8081"] },
      },
    },
  },
  {
    name: "policies sharing a selector share groups",
    steps: [
      ...baseCluster,
      dbPolicy({ ingress: [{ _from: [{ podSelector: { matchLabels: { app: "web" } } }] }] }),
      (c) =>
        c.upsertPolicy(
          policy("shop", "p2", {
            podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["db"] }] },
            egress: [{ to: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: 80 }] }],
          }),
        ),
    ],
    expect: {
      n2: {
        policies: [
          "shop/p Ingress on ns(shop)/app=db | in0 peers=[ns(shop)/app=web] ports=*",
          "shop/p2 Egress+Ingress on ns(shop)/app=db | out0 peers=[ns(shop)/app=web] ports=[TCP 80]",
        ],
        appliedTo: { "ns(shop)/app=db": [dbOnN2] },
        address: { "ns(shop)/app=web": webAddresses },
      },
    },
  },
  {
    name: "policy in other namespace",
    steps: [...baseCluster, (c) => c.upsertPolicy(policy("lab", "p", { podSelector: { matchLabels: { app: "db" } } }))],
    expect: {},
  },
  {
    name: "policy selector update",
    steps: [
      ...baseCluster,
      dbPolicy({ ingress: [{ _from: [{ podSelector: { matchLabels: { app: "web" } } }] }] }),
      (c) => c.upsertPolicy(policy("shop", "p", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ _from: [{ podSelector: { matchLabels: { app: "db" } } }] }] })),
    ],
    expect: {
      n1: {
        policies: ["shop/p Ingress on ns(shop)/app=web | in0 peers=[ns(shop)/app=db] ports=*"],
        appliedTo: { "ns(shop)/app=web": [webOnN1] },
        address: { "ns(shop)/app=db": ["10.0.2.1 pg/TCP/5432"] },
      },
      n2: {
        policies: ["shop/p Ingress on ns(shop)/app=web | in0 peers=[ns(shop)/app=db] ports=*"],
        appliedTo: { "ns(shop)/app=web": [webOnN2] },
        address: { "ns(shop)/app=db": ["10.0.2.1 pg/TCP/5432"] },
      },
    },
    lastEvents: {
      n1: ["AddressGroupAdded", "AppliedToGroupAdded", "PolicyAdded"],
      n2: ["AddressGroupAdded", "AppliedToGroupAdded", "PolicyUpdated", "AddressGroupRemoved", "AppliedToGroupRemoved"],
    },
  },
  {
    name: "policy rule update",
    steps: [...baseCluster, dbPolicy({ ingress: [{ ports: [{ port: 1 }] }] }), dbPolicy({ ingress: [{ ports: [{ port: 2 }] }] })],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=* ports=[TCP 2]"),
    lastEvents: { n2: ["PolicyUpdated"] },
  },
  {
    name: "policy deletion empties slices",
    steps: [
      ...baseCluster,
      dbPolicy({ ingress: [{ _from: [{ podSelector: { matchLabels: { app: "web" } } }] }] }),
      (c) => c.deletePolicy("shop", "p"),
    ],
    expect: {},
    lastEvents: { n2: ["PolicyRemoved", "AddressGroupRemoved", "AppliedToGroupRemoved"] },
  },
  {
    name: "policy uid gives id",
    steps: [...baseCluster, (c) => c.upsertPolicy(policy("shop", "p", { podSelector: { matchLabels: { app: "db" } } }, "uid-1"))],
    expect: { n2: { policies: ["shop/p/uid-1 Ingress on ns(shop)/app=db"], appliedTo: { "ns(shop)/app=db": [dbOnN2] }, address: {} } },
  },
  {
    name: "recreated policy gets new id",
    steps: [
      ...baseCluster,
      (c) => c.upsertPolicy(policy("shop", "p", { podSelector: { matchLabels: { app: "db" } } }, "uid-1")),
      (c) => c.upsertPolicy(policy("shop", "p", { podSelector: { matchLabels: { app: "db" } } }, "uid-2")),
    ],
    expect: { n2: { policies: ["shop/p/uid-2 Ingress on ns(shop)/app=db"], appliedTo: { "ns(shop)/app=db": [dbOnN2] }, address: {} } },
    lastEvents: { n2: ["PolicyAdded", "PolicyRemoved"] },
  },
  {
    name: "repeated upsert emits nothing",
    steps: [
      ...baseCluster,
      dbPolicy({ ingress: [{}] }),
      dbPolicy({ ingress: [{}] }),
      ...baseCluster,
    ],
    expect: dbSlice("Ingress on ns(shop)/app=db | in0 peers=* ports=*"),
    lastEvents: {},
  },
  {
    name: "egress to pod in same policy group",
    steps: [
      ...baseCluster,
      (c) => c.upsertPolicy(policy("shop", "p", { podSelector: { matchLabels: { app: "web" } }, egress: [{ to: [{ podSelector: { matchLabels: { app: "db" } } }], ports: [{ port: "pg" }] }] })),
    ],
    expect: {
      n1: {
        policies: ["shop/p Egress+Ingress on ns(shop)/app=web | out0 peers=[ns(shop)/app=db] ports=[TCP pg]"],
        appliedTo: { "ns(shop)/app=web": [webOnN1] },
        address: { "ns(shop)/app=db": ["10.0.2.1 pg/TCP/5432"] },
      },
      n2: {
        policies: ["shop/p Egress+Ingress on ns(shop)/app=web | out0 peers=[ns(shop)/app=db] ports=[TCP pg]"],
        appliedTo: { "ns(shop)/app=web": [webOnN2] },
        address: { "ns(shop)/app=db": ["10.0.2.1 pg/TCP/5432"] },
      },
    },
  },
];

// ---- Runner ----------------------------------------------------------------------------

function replayedSlice(nodeName: string, events: readonly SliceEvent[]): NodeSlice {
  return applySliceEvents(emptySlice(nodeName), events);
}

describe("NetworkPolicy semantics", () => {
  for (const testCase of cases) {
    it(testCase.name, () => {
      const computer = new NetworkPolicyComputer();
      const streams = new Map<string, SliceEvent[]>(nodes.map((n) => [n, []]));
      let lastEvents = new Map<string, string[]>();
      computer.onUpdate((nodeName, events) => {
        streams.get(nodeName)?.push(...events);
        lastEvents.set(nodeName, events.map((e) => e.type));
      });
      for (const step of testCase.steps) {
        lastEvents = new Map();
        step(computer);
      }

      for (const nodeName of nodes) {
        const slice = computer.snapshot(nodeName);
        assert.deepEqual(summarize(slice), testCase.expect[nodeName] ?? empty, `slice of ${nodeName}`);
        assert.deepEqual(replayedSlice(nodeName, streams.get(nodeName) ?? []), slice, `events replayed on ${nodeName}`);
      }
      if (testCase.lastEvents !== undefined) {
        assert.deepEqual(Object.fromEntries(lastEvents), testCase.lastEvents, "events of the last step");
      }
    });
  }
});

// ---- Ids, validation, named-port resolution ---------------------------------------------

describe("NetworkPolicy ids", () => {
  it("group id is selector hash", () => {
    const computer = new NetworkPolicyComputer();
    for (const step of baseCluster) step(computer);
    computer.upsertPolicy(policy("shop", "p", { podSelector: { matchLabels: { app: "db" } } }, "u"));
    const [group] = computer.snapshot("n2").appliedToGroups;
    const canonical = JSON.stringify(["shop", null, [{ key: "app", operator: "In", values: ["db"] }]]);
    const expected = createHash("sha256").update(canonical).digest("hex").slice(0, 16);
    assert.equal(group?.id, expected);
  });

  it("rule ids carry policy id and index", () => {
    const computer = new NetworkPolicyComputer();
    for (const step of baseCluster) step(computer);
    computer.upsertPolicy(policy("shop", "p", { podSelector: {}, ingress: [{}, {}], egress: [{}] }, "u-7"));
    const ids = computer.snapshot("n1").policies[0]?.rules.map((r) => r.id);
    assert.deepEqual(ids, ["shop/p/u-7/ingress/0", "shop/p/u-7/ingress/1", "shop/p/u-7/egress/0"]);
  });

  it("equal selectors written differently share a group", () => {
    const computer = new NetworkPolicyComputer();
    for (const step of baseCluster) step(computer);
    computer.upsertPolicy(policy("shop", "a", { podSelector: { matchLabels: { app: "db" } } }));
    computer.upsertPolicy(
      policy("shop", "b", { podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["db", "db"] }] } }),
    );
    const slice = computer.snapshot("n2");
    assert.equal(slice.appliedToGroups.length, 1);
    assert.equal(slice.policies[0]?.appliedToGroup, slice.policies[1]?.appliedToGroup);
  });
});

describe("NetworkPolicy validation", () => {
  const invalid: [string, V1NetworkPolicySpec, string][] = [
    ["unknown protocol", { podSelector: {}, ingress: [{ ports: [{ protocol: "ICMP" }] }] }, "spec.ingress[0].ports[0].protocol"],
    ["endPort without port", { podSelector: {}, ingress: [{ ports: [{ endPort: 90 }] }] }, "spec.ingress[0].ports[0].endPort"],
    ["endPort below port", { podSelector: {}, ingress: [{ ports: [{ port: 90, endPort: 80 }] }] }, "spec.ingress[0].ports[0].endPort"],
    ["endPort with named port", { podSelector: {}, ingress: [{ ports: [{ port: "http", endPort: 80 }] }] }, "spec.ingress[0].ports[0].endPort"],
    ["port out of range", { podSelector: {}, egress: [{ ports: [{ port: 70000 }] }] }, "spec.egress[0].ports[0].port"],
    ["bad CIDR", { podSelector: {}, ingress: [{ _from: [{ ipBlock: { cidr: "10.0.0.0/33" } }] }] }, "spec.ingress[0].from[0].ipBlock.cidr"],
    [
      "except outside cidr",
      { podSelector: {}, ingress: [{ _from: [{ ipBlock: { cidr: "10.0.0.0/16", except: ["10.1.0.0/24"] } }] }] },
      "spec.ingress[0].from[0].ipBlock.except[0]",
    ],
    [
      "ipBlock with selector",
      { podSelector: {}, ingress: [{ _from: [{ ipBlock: { cidr: "10.0.0.0/16" }, podSelector: {} }] }] },
      "spec.ingress[0].from[0]",
    ],
    ["empty peer", { podSelector: {}, ingress: [{ _from: [{}] }] }, "spec.ingress[0].from[0]"],
    [
      "unknown operator",
      { podSelector: { matchExpressions: [{ key: "a", operator: "Equals", values: ["b"] }] } },
      "spec.podSelector.matchExpressions[0].operator",
    ],
    ["unknown policy type", { podSelector: {}, policyTypes: ["Both"] }, "spec.policyTypes[0]"],
  ];

  for (const [name, spec, field] of invalid) {
    it(`rejects ${name}`, () => {
      const computer = new NetworkPolicyComputer();
      for (const step of baseCluster) step(computer);
      computer.drainUpdates();
      assert.throws(
        () => computer.upsertPolicy(policy("shop", "bad", spec)),
        (error: unknown) => error instanceof PolicyValidationError && error.field === field && error.code === "INVALID_POLICY",
      );
      assert.equal(computer.drainUpdates().size, 0);
      assert.equal(computer.snapshot("n1").policies.length, 0);
    });
  }
});

describe("NetworkPolicy large namespace", () => {
  // 70 pods and 21 policies in one namespace pass the sizes at which the namespace pod index
  // and the group label index switch from scanning to indexing.
  function build(policiesFirst: boolean): NetworkPolicyComputer {
    const computer = new NetworkPolicyComputer();
    computer.upsertNamespace(namespace("big"));
    const pods = Array.from({ length: 70 }, (_, i) =>
      pod("big", `pod-${i}`, { labels: { app: `a${i % 7}` }, node: "n1", ips: [`10.1.0.${i + 1}`] }),
    );
    const policies = Array.from({ length: 21 }, (_, j) =>
      policy("big", `p${j}`, {
        podSelector: { matchLabels: { app: `a${j % 7}` } },
        ingress: [{ _from: [{ podSelector: { matchLabels: { app: `a${(j + 1) % 7}` } } }] }],
      }),
    );
    if (policiesFirst) policies.forEach((p) => computer.upsertPolicy(p));
    pods.forEach((p) => computer.upsertPod(p));
    if (!policiesFirst) policies.forEach((p) => computer.upsertPolicy(p));
    return computer;
  }

  for (const policiesFirst of [false, true]) {
    it(`groups sized by label, ${policiesFirst ? "policies first" : "pods first"}`, () => {
      const slice = build(policiesFirst).snapshot("n1");
      assert.equal(slice.policies.length, 21);
      assert.equal(slice.appliedToGroups.length, 7);
      assert.equal(slice.addressGroups.length, 7);
      for (const group of slice.appliedToGroups) assert.equal(group.members.length, 10, selectorText(group.selector));
      for (const group of slice.addressGroups) assert.equal(group.members.length, 10, selectorText(group.selector));
    });
  }

  it("relabel moves one member", () => {
    const computer = build(false);
    computer.upsertPod(pod("big", "pod-0", { labels: { app: "a1" }, node: "n1", ips: ["10.1.0.1"] }));
    const sizes = Object.fromEntries(computer.snapshot("n1").addressGroups.map((g) => [selectorText(g.selector), g.members.length]));
    assert.deepEqual(sizes, {
      "ns(big)/app=a0": 9,
      "ns(big)/app=a1": 11,
      "ns(big)/app=a2": 10,
      "ns(big)/app=a3": 10,
      "ns(big)/app=a4": 10,
      "ns(big)/app=a5": 10,
      "ns(big)/app=a6": 10,
    });
  });
});
