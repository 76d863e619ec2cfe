// The internal NetworkPolicy model the controller computes from Kubernetes objects and
// streams to agents: policies, applied-to groups, address groups, the per-node slice of them,
// and the events that move a node's slice from one generation to the next.
//
// Every type here is plain JSON-serialisable data (no Map, Set, class or undefined-valued
// key), so an object can go over the wire as one JSON line and come back equal.
//
// Identifiers:
//   PolicyId   "<namespace>/<name>/<uid>", for example "shop/allow-web/5f0c…". A policy deleted
//              and re-created under the same name gets a new uid and therefore a new id, so
//              the agent removes the old flows instead of updating them in place. When the
//              object has no metadata.uid (hand-written test objects) the id is
//              "<namespace>/<name>".
//   RuleId     "<PolicyId>/<direction>/<index>", for example "shop/allow-web/5f0c…/ingress/0",
//              where index is the rule's position in spec.ingress or spec.egress. It is unique
//              in the cluster and stable while the policy object keeps its rule list. The
//              agent maps it to its own 32-bit conjunction ids and ct_label values with a
//              local table: a 32-bit hash of the string could collide at 100,000 rules.
//   GroupId    16 hex digits: the first 64 bits of the SHA-256 of the group's canonical
//              selector (see GroupSelector). Equal selectors give equal ids in every
//              controller run, so one group is shared by every policy that uses the selector.
//              An applied-to group and an address group built from the same selector carry
//              the same id. That is safe because the two kinds never share a collection.
//              If two different selectors ever share the 64 bits, the later one gets a "-1"
//              suffix, so its id then depends on the order the selectors appeared in.

import type { V1Namespace, V1NetworkPolicy, V1Pod } from "@kubernetes/client-node";

/** Transport protocol of a rule port. Kubernetes defaults an absent protocol to TCP. */
export type Protocol = "TCP" | "UDP" | "SCTP";

/** Traffic direction of a rule, relative to the pods the policy is applied to. */
export type Direction = "Ingress" | "Egress";

export type PolicyId = string;
export type RuleId = string;
export type GroupId = string;

/** One label requirement of a normalised selector. matchLabels `k: v` becomes `k In [v]`. */
export interface LabelRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
  /** Sorted and without duplicates; empty for Exists and DoesNotExist. */
  values: string[];
}

/**
 * A canonical pod selection: which namespaces, then which pods in them. Exactly one of
 * `namespace` and `namespaceSelector` is non-null. Requirements are sorted by key, operator
 * and values, so two selectors that select the same way serialise to the same JSON, which is
 * the group's canonical key.
 */
export interface GroupSelector {
  /** The one namespace whose pods are selected (a policy's own namespace). */
  namespace: string | null;
  /** Namespaces whose labels satisfy every requirement; `[]` selects every known namespace. */
  namespaceSelector: LabelRequirement[] | null;
  /** Pods whose labels satisfy every requirement; `[]` selects every pod in scope. */
  podSelector: LabelRequirement[];
}

/** A container port that has a name, as declared in the pod spec (protocol defaulted to TCP). */
export interface NamedPort {
  name: string;
  protocol: Protocol;
  port: number;
}

/**
 * A pod a policy is applied to, as sent to the node that runs it. The agent finds the pod's
 * OVS port by namespace and name. Members are identified by `namespace/name`: a member whose
 * addresses or ports change is sent as a removal of the old value followed by an addition.
 */
export interface AppliedToMember {
  namespace: string;
  name: string;
  /** status.podIPs, one per address family on dual-stack; empty until the pod has an IP. */
  ips: string[];
  /** The pod's named container ports, sorted by name and protocol, used to resolve
   * named rule ports of ingress rules. */
  namedPorts: NamedPort[];
}

/**
 * One address of a peer pod. Members are identified by the address together with its named
 * ports, so the agent can resolve an egress rule's named port for each destination address.
 * Two running pods with the same address and ports give one member, which stays until
 * neither pod has the address.
 */
export interface AddressMember {
  ip: string;
  /** Named container ports of the pod(s) with this address, sorted by name and protocol. */
  namedPorts: NamedPort[];
}

/**
 * The pods one selector chooses as the target of policies, restricted to one node's pods.
 * Only pods scheduled to a node, not using the host network and not terminated
 * (phase Succeeded or Failed) are members.
 */
export interface AppliedToGroup {
  id: GroupId;
  selector: GroupSelector;
  /** This node's members only, sorted by appliedToMemberKey (slice.ts). */
  members: AppliedToMember[];
}

/**
 * The addresses of the pods one peer selector chooses, across the whole cluster. Only
 * running pods' addresses are members: no host-network pods (their address is the node's),
 * no terminated pods (their address may already belong to a new pod), no pods without an IP.
 */
export interface AddressGroup {
  id: GroupId;
  selector: GroupSelector;
  /** Sorted by addressMemberKey (slice.ts). */
  members: AddressMember[];
}

/** A CIDR peer with carved-out sub-ranges (the `ipBlock` of a NetworkPolicy peer). */
export interface IpBlock {
  /** IPv4 or IPv6 CIDR as written in the policy. */
  cidr: string;
  /** Sub-ranges of cidr that the peer excludes; empty when the policy lists none. */
  except: string[];
}

/**
 * One port entry of a rule. Exactly one of these shapes:
 * - `{ protocol }`: every port of that protocol;
 * - `{ protocol, port }`: one port number;
 * - `{ protocol, port, endPort }`: the range port..endPort, both inclusive;
 * - `{ protocol, portName }`: a named port, resolved per pod. For an ingress rule the agent
 *   looks the name up in each applied-to member's namedPorts; for an egress rule, in each
 *   address member's namedPorts. A pod or address without a port of that name and protocol
 *   is not matched by this entry. Resolution splits the members by the port number they
 *   resolve to, and each (port number, member subset) pair is enforced like a numeric port.
 */
export interface RulePort {
  protocol: Protocol;
  port?: number;
  endPort?: number;
  portName?: string;
}

/**
 * The peers of a rule: the union of the pods of `addressGroups` and the addresses in
 * `ipBlocks`. A peer listing both a namespaceSelector and a podSelector is one address group
 * whose selector requires both; two peers give two address groups.
 */
export interface RulePeers {
  /** Sorted, without duplicates. */
  addressGroups: GroupId[];
  /** In the order the policy lists them. */
  ipBlocks: IpBlock[];
}

/** One ingress or egress rule of a policy. Traffic is allowed when peer and port both match. */
export interface PolicyRule {
  id: RuleId;
  direction: Direction;
  /** Position in spec.ingress or spec.egress of the policy. */
  index: number;
  /** null: every peer (the rule's from/to list is absent or empty). */
  peers: RulePeers | null;
  /** null: every port of every protocol (the rule's ports list is absent or empty). */
  ports: RulePort[] | null;
}

/**
 * A NetworkPolicy as the agent enforces it. The pods of `appliedToGroup` are isolated in
 * each direction of `policyTypes`: in that direction, only traffic that some rule of some
 * policy applied to the pod (in that direction) allows is accepted. A direction in
 * policyTypes with no rules therefore denies all traffic in that direction. Rules of a
 * direction not in policyTypes are dropped, because Kubernetes ignores them.
 */
export interface InternalPolicy {
  id: PolicyId;
  namespace: string;
  name: string;
  /** metadata.uid; empty string when the object has none. */
  uid: string;
  appliedToGroup: GroupId;
  /** After Kubernetes defaulting: Ingress always, Egress when listed or when spec.egress has
   * rules. Sorted: "Egress" before "Ingress". */
  policyTypes: Direction[];
  /** Ingress rules in policy order, then egress rules in policy order. */
  rules: PolicyRule[];
}

/**
 * Everything one node needs, at one generation: the policies applied to at least one of its
 * pods, every address group those policies reference (with all cluster members), and their
 * applied-to groups with only this node's members. All lists are sorted by id.
 */
export interface NodeSlice {
  nodeName: string;
  /** The generation of the last event emitted for this node; 0 before any event. */
  generation: number;
  policies: InternalPolicy[];
  addressGroups: AddressGroup[];
  appliedToGroups: AppliedToGroup[];
}

/** Fields common to every event. */
interface SliceEventBase {
  /**
   * Per node, starting at 1 and increasing by 1 with each event. A client that has applied a
   * snapshot or event at generation g needs exactly the events with a greater generation.
   */
  generation: number;
}

export interface PolicyAddedEvent extends SliceEventBase {
  type: "PolicyAdded";
  policy: InternalPolicy;
}

/** The policy's spec changed; `policy` replaces the whole previous value. */
export interface PolicyUpdatedEvent extends SliceEventBase {
  type: "PolicyUpdated";
  policy: InternalPolicy;
}

export interface PolicyRemovedEvent extends SliceEventBase {
  type: "PolicyRemoved";
  policyId: PolicyId;
}

export interface AddressGroupAddedEvent extends SliceEventBase {
  type: "AddressGroupAdded";
  group: AddressGroup;
}

export interface AddressGroupRemovedEvent extends SliceEventBase {
  type: "AddressGroupRemoved";
  groupId: GroupId;
}

/** Members that joined the group since the previous event about it; only the delta. */
export interface AddressGroupMembersAddedEvent extends SliceEventBase {
  type: "AddressGroupMembersAdded";
  groupId: GroupId;
  members: AddressMember[];
}

export interface AddressGroupMembersRemovedEvent extends SliceEventBase {
  type: "AddressGroupMembersRemoved";
  groupId: GroupId;
  members: AddressMember[];
}

/** `group.members` contains only the receiving node's members. */
export interface AppliedToGroupAddedEvent extends SliceEventBase {
  type: "AppliedToGroupAdded";
  group: AppliedToGroup;
}

export interface AppliedToGroupRemovedEvent extends SliceEventBase {
  type: "AppliedToGroupRemoved";
  groupId: GroupId;
}

/** Members on the receiving node that joined the group; only the delta. */
export interface AppliedToGroupMembersAddedEvent extends SliceEventBase {
  type: "AppliedToGroupMembersAdded";
  groupId: GroupId;
  members: AppliedToMember[];
}

/** Members on the receiving node that left the group, with the value they had. */
export interface AppliedToGroupMembersRemovedEvent extends SliceEventBase {
  type: "AppliedToGroupMembersRemoved";
  groupId: GroupId;
  members: AppliedToMember[];
}

/**
 * One change to a node's slice. Within one batch for a node, events come in this order:
 * groups added, group members removed and added, policies added or updated, policies
 * removed, groups removed. So a policy event only names groups the node already has, and a
 * group is removed only after the last policy on the node that names it. Within a phase,
 * address-group events come before applied-to-group events, then the order is by object id,
 * and a group's removed members come before its added ones.
 */
export type SliceEvent =
  | PolicyAddedEvent
  | PolicyUpdatedEvent
  | PolicyRemovedEvent
  | AddressGroupAddedEvent
  | AddressGroupRemovedEvent
  | AddressGroupMembersAddedEvent
  | AddressGroupMembersRemovedEvent
  | AppliedToGroupAddedEvent
  | AppliedToGroupRemovedEvent
  | AppliedToGroupMembersAddedEvent
  | AppliedToGroupMembersRemovedEvent;

export type SliceEventType = SliceEvent["type"];

/**
 * Receives the events of one node produced by one input call, in generation order. Event
 * objects belong to one node, but the groups, policies and member arrays inside them are
 * shared between nodes and with later snapshots, so a listener must treat them as read-only.
 */
export type SliceUpdateListener = (nodeName: string, events: SliceEvent[]) => void;

/**
 * The computation as the controller daemon drives it (implemented by NetworkPolicyComputer in
 * computer.ts). Inputs are the informers' objects; each input call updates the state, emits
 * the resulting events for every affected node, and returns. Calls are synchronous and must
 * not overlap (Node.js runs them one at a time). Upserts are idempotent: repeating an object
 * emits no events. Deletes of unknown objects do nothing.
 *
 * Nodes are not inputs: a pod's node is its spec.nodeName.
 */
export interface PolicyComputation {
  upsertPod(pod: V1Pod): void;
  deletePod(namespace: string, name: string): void;
  upsertNamespace(namespace: V1Namespace): void;
  deleteNamespace(name: string): void;
  /** Throws PolicyValidationError (computer state unchanged) for a spec Kubernetes rejects. */
  upsertPolicy(policy: V1NetworkPolicy): void;
  deletePolicy(namespace: string, name: string): void;

  /**
   * Returns the node's whole slice at its current generation, which already includes every
   * event emitted so far (delivered or still buffered). A node unknown to the computer gets
   * an empty slice at generation 0.
   */
  snapshot(nodeName: string): NodeSlice;

  /**
   * Registers a listener called after each input call, once per affected node. While at
   * least one listener is registered, events go to listeners and are not buffered.
   * Returns a function that unregisters it.
   */
  onUpdate(listener: SliceUpdateListener): () => void;

  /** Returns and clears the events buffered per node while no listener was registered. */
  drainUpdates(): Map<string, SliceEvent[]>;

  /**
   * Runs several input calls and emits their combined events once, one batch per node (an
   * informer's initial list, for example). If `inputs` throws, the changes made before the
   * error are still emitted, then the error is rethrown. A nested call joins the outer batch.
   */
  runBatch(inputs: () => void): void;
}
