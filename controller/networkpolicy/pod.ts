// The facts of a pod that the policy computation uses, extracted once per pod update.
import type { V1Pod } from "@kubernetes/client-node";
import { addressMemberKey, namedPortsKey, sortStringsInPlace } from "./slice.ts";
import type { AddressMember, AppliedToMember, NamedPort, Protocol } from "./types.ts";
import type { Labels } from "./selector.ts";

/** An immutable view of one pod; a pod update builds a new one. */
export interface PodFacts {
  /** `namespace/name`. */
  key: string;
  namespace: string;
  name: string;
  labels: Labels;
  /**
   * Whether the pod can be in a group at all: not on the host network and not terminated
   * (phase Succeeded or Failed). Selectors are evaluated only for selectable pods.
   */
  selectable: boolean;
  /** spec.nodeName; null before the pod is scheduled. */
  nodeName: string | null;
  /** The member sent in applied-to groups; null when the pod is not selectable or not scheduled. */
  appliedToMember: AppliedToMember | null;
  /** The member's addresses and named ports as one string, to detect a changed member cheaply. */
  appliedToSignature: string;
  /** One member per pod IP; empty when the pod is not selectable or has no IP yet. */
  addressMembers: { key: string; member: AddressMember }[];
}

/** Extracts the facts of a pod. Pure; the pod object is not retained. */
export function podFactsOf(pod: V1Pod): PodFacts {
  const namespace = pod.metadata?.namespace ?? "";
  const name = pod.metadata?.name ?? "";
  const phase = pod.status?.phase;
  const selectable = pod.spec?.hostNetwork !== true && phase !== "Succeeded" && phase !== "Failed";
  const nodeName = pod.spec?.nodeName ?? null;
  const ips = selectable ? podIps(pod) : [];
  const namedPorts = selectable ? podNamedPorts(pod) : [];

  const appliedToMember = selectable && nodeName !== null ? { namespace, name, ips, namedPorts } : null;
  const addressMembers = ips.map((ip) => {
    const member: AddressMember = { ip, namedPorts };
    return { key: addressMemberKey(member), member };
  });

  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    labels: { ...(pod.metadata?.labels ?? {}) },
    selectable,
    nodeName,
    appliedToMember,
    appliedToSignature: appliedToMember === null ? "" : `${ips.join(",")}|${namedPortsKey(namedPorts)}`,
    addressMembers,
  };
}

// status.podIPs lists one address per family on dual-stack clusters; older objects only set
// status.podIP.
function podIps(pod: V1Pod): string[] {
  const listed = (pod.status?.podIPs ?? []).map((entry) => entry.ip).filter((ip) => ip !== "");
  if (listed.length > 0) {
    return sortStringsInPlace(listed.length < 2 ? listed.slice() : [...new Set(listed)]);
  }
  const single = pod.status?.podIP;
  return single === undefined || single === "" ? [] : [single];
}

// NOTE: only spec.containers are read. Ports of restartable init containers (sidecars) are
// not resolved as named ports.
function podNamedPorts(pod: V1Pod): NamedPort[] {
  const byKey = new Map<string, NamedPort>();
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (port.name === undefined || port.name === "") continue;
      const protocol = (port.protocol ?? "TCP") as Protocol;
      byKey.set(`${port.name}/${protocol}`, { name: port.name, protocol, port: port.containerPort });
    }
  }
  const keys = sortStringsInPlace([...byKey.keys()]);
  return keys.map((key) => byKey.get(key)).filter((port) => port !== undefined);
}

/** Returns whether two facts put the pod in the same groups with the same members. */
export function sameMembership(a: PodFacts, b: PodFacts): boolean {
  return (
    a.selectable === b.selectable &&
    a.nodeName === b.nodeName &&
    a.appliedToSignature === b.appliedToSignature &&
    a.addressMembers.length === b.addressMembers.length &&
    a.addressMembers.every((entry, index) => entry.key === b.addressMembers[index]?.key) &&
    sameLabels(a.labels, b.labels)
  );
}

function sameLabels(a: Labels, b: Labels): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}
