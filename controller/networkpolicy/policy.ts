// Conversion of a Kubernetes NetworkPolicy into its normalised form: defaulted policy
// types, canonical selectors for the applied-to pods and for each peer, validated ports and
// IP blocks. Pure: no group ids yet, those come from the group registry.
import { isIPv4, isIPv6 } from "node:net";
import type {
  V1IPBlock,
  V1NetworkPolicy,
  V1NetworkPolicyIngressRule,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
} from "@kubernetes/client-node";
import { PolicyValidationError } from "./errors.ts";
import { InvalidSelectorError, normalizeSelector } from "./selector.ts";
import type { Direction, GroupSelector, IpBlock, PolicyId, Protocol, RuleId, RulePort } from "./types.ts";

/** A rule whose peers are still selectors. */
export interface NormalizedRule {
  id: RuleId;
  direction: Direction;
  index: number;
  /** null: every peer. */
  peers: { selectors: GroupSelector[]; ipBlocks: IpBlock[] } | null;
  /** null: every port of every protocol. */
  ports: RulePort[] | null;
}

export interface NormalizedPolicy {
  id: PolicyId;
  namespace: string;
  name: string;
  uid: string;
  appliedTo: GroupSelector;
  policyTypes: Direction[];
  rules: NormalizedRule[];
}

const protocols: ReadonlySet<string> = new Set(["TCP", "UDP", "SCTP"]);

/** Returns the policy id: `namespace/name/uid`, or `namespace/name` without a uid. */
export function policyIdOf(namespace: string, name: string, uid: string): PolicyId {
  return uid === "" ? `${namespace}/${name}` : `${namespace}/${name}/${uid}`;
}

/**
 * Normalises a NetworkPolicy. Throws PolicyValidationError, naming the field, for a spec that
 * the Kubernetes API server rejects (so the informer never delivers one in practice).
 */
export function normalizePolicy(policy: V1NetworkPolicy): NormalizedPolicy {
  const namespace = policy.metadata?.namespace ?? "";
  const name = policy.metadata?.name ?? "";
  const label = `${namespace}/${name}`;
  if (namespace === "" || name === "") {
    throw new PolicyValidationError({ policy: label, field: "metadata", message: "namespace and name are required" });
  }
  const uid = policy.metadata?.uid ?? "";
  const id = policyIdOf(namespace, name, uid);
  const spec = policy.spec ?? {};
  const context = new FieldContext(label);

  const appliedTo: GroupSelector = {
    namespace,
    namespaceSelector: null,
    podSelector: context.selector("spec.podSelector", () => normalizeSelector(spec.podSelector)),
  };
  const policyTypes = defaultPolicyTypes(context, spec.policyTypes, (spec.egress ?? []).length > 0);

  const rules: NormalizedRule[] = [];
  if (policyTypes.includes("Ingress")) {
    (spec.ingress ?? []).forEach((rule, index) => {
      const field = `spec.ingress[${index}]`;
      rules.push({
        id: `${id}/ingress/${index}`,
        direction: "Ingress",
        index,
        peers: normalizePeers(context, `${field}.from`, ingressPeers(rule), namespace),
        ports: normalizePorts(context, `${field}.ports`, rule.ports),
      });
    });
  }
  if (policyTypes.includes("Egress")) {
    (spec.egress ?? []).forEach((rule, index) => {
      const field = `spec.egress[${index}]`;
      rules.push({
        id: `${id}/egress/${index}`,
        direction: "Egress",
        index,
        peers: normalizePeers(context, `${field}.to`, rule.to, namespace),
        ports: normalizePorts(context, `${field}.ports`, rule.ports),
      });
    });
  }

  return { id, namespace, name, uid, appliedTo, policyTypes, rules };
}

// The client library's deserializer names the field `_from` (because `from` is reserved in its
// generator), while an object parsed straight from API JSON has `from`. Both are accepted.
function ingressPeers(rule: V1NetworkPolicyIngressRule): V1NetworkPolicyPeer[] | undefined {
  return rule._from ?? (rule as { from?: V1NetworkPolicyPeer[] }).from;
}

/** The policy being normalised, for error messages. */
class FieldContext {
  readonly policy: string;

  constructor(policy: string) {
    this.policy = policy;
  }

  fail(field: string, message: string): never {
    throw new PolicyValidationError({ policy: this.policy, field, message });
  }

  selector<T>(field: string, normalize: () => T): T {
    try {
      return normalize();
    } catch (error) {
      if (error instanceof InvalidSelectorError) {
        throw new PolicyValidationError({
          policy: this.policy,
          field: `${field}.${error.field}`,
          message: error.message,
          cause: error,
        });
      }
      throw error;
    }
  }
}

// Kubernetes defaulting: without policyTypes, Ingress always applies and Egress applies
// when the spec has at least one egress rule. An explicit list is taken as written.
function defaultPolicyTypes(context: FieldContext, listed: string[] | undefined, hasEgressRules: boolean): Direction[] {
  if (listed === undefined || listed.length === 0) {
    return hasEgressRules ? ["Egress", "Ingress"] : ["Ingress"];
  }
  let egress = false;
  let ingress = false;
  listed.forEach((type, index) => {
    if (type !== "Ingress" && type !== "Egress") {
      context.fail(`spec.policyTypes[${index}]`, `unknown policy type ${JSON.stringify(type)}; use Ingress or Egress`);
    }
    if (type === "Egress") egress = true;
    else ingress = true;
  });
  // Sorted, without duplicates: "Egress" before "Ingress".
  if (egress && ingress) return ["Egress", "Ingress"];
  return egress ? ["Egress"] : ["Ingress"];
}

function normalizePeers(
  context: FieldContext,
  field: string,
  peers: V1NetworkPolicyPeer[] | undefined,
  policyNamespace: string,
): NormalizedRule["peers"] {
  if (peers === undefined || peers.length === 0) {
    return null;
  }
  const selectors: GroupSelector[] = [];
  const ipBlocks: IpBlock[] = [];
  peers.forEach((peer, index) => {
    const peerField = `${field}[${index}]`;
    const hasSelector = peer.podSelector !== undefined || peer.namespaceSelector !== undefined;
    if (peer.ipBlock !== undefined) {
      if (hasSelector) {
        context.fail(peerField, "ipBlock cannot be combined with podSelector or namespaceSelector; use separate peers");
      }
      ipBlocks.push(normalizeIpBlock(context, `${peerField}.ipBlock`, peer.ipBlock));
      return;
    }
    if (!hasSelector) {
      context.fail(peerField, "a peer needs podSelector, namespaceSelector or ipBlock");
    }
    const podSelector = context.selector(`${peerField}.podSelector`, () => normalizeSelector(peer.podSelector));
    if (peer.namespaceSelector === undefined) {
      selectors.push({ namespace: policyNamespace, namespaceSelector: null, podSelector });
    } else {
      const namespaceSelector = context.selector(`${peerField}.namespaceSelector`, () =>
        normalizeSelector(peer.namespaceSelector),
      );
      selectors.push({ namespace: null, namespaceSelector, podSelector });
    }
  });
  return { selectors, ipBlocks };
}

function normalizePorts(
  context: FieldContext,
  field: string,
  ports: V1NetworkPolicyPort[] | undefined,
): RulePort[] | null {
  if (ports === undefined || ports.length === 0) {
    return null;
  }
  return ports.map((entry, index) => normalizePort(context, `${field}[${index}]`, entry));
}

function normalizePort(context: FieldContext, field: string, entry: V1NetworkPolicyPort): RulePort {
  const protocol = entry.protocol ?? "TCP";
  if (!protocols.has(protocol)) {
    context.fail(`${field}.protocol`, `unsupported protocol ${JSON.stringify(protocol)}; use TCP, UDP or SCTP`);
  }
  const result: RulePort = { protocol: protocol as Protocol };
  const port = entry.port;

  if (typeof port === "string") {
    if (!/[a-z]/.test(port)) {
      context.fail(`${field}.port`, `port name ${JSON.stringify(port)} must contain a letter; write numbers unquoted`);
    }
    if (entry.endPort !== undefined) {
      context.fail(`${field}.endPort`, "endPort needs a numeric port");
    }
    result.portName = port;
    return result;
  }

  if (port !== undefined) {
    checkPortNumber(context, `${field}.port`, port);
    result.port = port;
  }
  if (entry.endPort !== undefined) {
    if (port === undefined) {
      context.fail(`${field}.endPort`, "endPort needs port to be set");
    }
    checkPortNumber(context, `${field}.endPort`, entry.endPort);
    if (entry.endPort < port) {
      context.fail(`${field}.endPort`, `endPort ${entry.endPort} is less than port ${port}`);
    }
    result.endPort = entry.endPort;
  }
  return result;
}

function checkPortNumber(context: FieldContext, field: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    context.fail(field, `port ${value} is out of range; use 1 to 65535`);
  }
}

function normalizeIpBlock(context: FieldContext, field: string, block: V1IPBlock): IpBlock {
  const cidr = parseCidr(block.cidr);
  if (cidr === null) {
    context.fail(`${field}.cidr`, `invalid CIDR ${JSON.stringify(block.cidr)}; write address/prefix-length`);
  }
  const except = block.except ?? [];
  except.forEach((text, index) => {
    const inner = parseCidr(text);
    if (inner === null) {
      context.fail(`${field}.except[${index}]`, `invalid CIDR ${JSON.stringify(text)}; write address/prefix-length`);
    }
    if (!isStrictSubnet(inner, cidr)) {
      context.fail(`${field}.except[${index}]`, `${text} is not a strict subset of ${block.cidr}`);
    }
  });
  return { cidr: block.cidr, except: [...except] };
}

interface ParsedCidr {
  family: 4 | 6;
  /** The address as an integer, host bits included. */
  address: bigint;
  prefixLength: number;
}

/** Parses "a.b.c.d/n" or "x:y::z/n"; returns null when either part is invalid. */
export function parseCidr(text: string): ParsedCidr | null {
  const slash = text.lastIndexOf("/");
  if (slash < 0) return null;
  const addressText = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lengthText)) return null;
  const prefixLength = Number(lengthText);

  if (isIPv4(addressText)) {
    if (prefixLength > 32) return null;
    const address = addressText.split(".").reduce((sum, octet) => (sum << 8n) + BigInt(Number(octet)), 0n);
    return { family: 4, address, prefixLength };
  }
  if (isIPv6(addressText)) {
    if (prefixLength > 128) return null;
    return { family: 6, address: ipv6ToBigInt(addressText), prefixLength };
  }
  return null;
}

function ipv6ToBigInt(text: string): bigint {
  let groups: string[];
  let tail = text;
  let embedded: string[] = [];
  // An embedded IPv4 suffix ("::ffff:10.0.0.1") counts as two 16-bit groups.
  const lastColon = tail.lastIndexOf(":");
  if (tail.slice(lastColon + 1).includes(".")) {
    const octets = tail.slice(lastColon + 1).split(".").map(Number);
    embedded = [
      (((octets[0] ?? 0) << 8) | (octets[1] ?? 0)).toString(16),
      (((octets[2] ?? 0) << 8) | (octets[3] ?? 0)).toString(16),
    ];
    tail = tail.slice(0, lastColon + 1) + "0:0";
  }
  const halves = tail.split("::");
  if (halves.length === 2) {
    const head = halves[0] === "" ? [] : (halves[0] ?? "").split(":");
    const rest = halves[1] === "" ? [] : (halves[1] ?? "").split(":");
    groups = [...head, ...Array<string>(8 - head.length - rest.length).fill("0"), ...rest];
  } else {
    groups = tail.split(":");
  }
  if (embedded.length === 2) {
    groups = [...groups.slice(0, 6), ...embedded];
  }
  return groups.reduce((sum, group) => (sum << 16n) + BigInt(parseInt(group, 16)), 0n);
}

function isStrictSubnet(inner: ParsedCidr, outer: ParsedCidr): boolean {
  if (inner.family !== outer.family || inner.prefixLength <= outer.prefixLength) {
    return false;
  }
  const bits = BigInt(inner.family === 4 ? 32 : 128);
  const shift = bits - BigInt(outer.prefixLength);
  return inner.address >> shift === outer.address >> shift;
}
