// The agent's typed API over the Open_vSwitch database: bridges, ports, interfaces, the
// Open_vSwitch row's other_config, and flow table names. Reads come from a Replica, which
// reflects every transaction that returned before the read.
import { TimeoutError, TransactionError } from "../errors.ts";
import type { OvsdbClient } from "../client.ts";
import { namedUuid, uuid, wireMap, wireSet } from "../protocol.ts";
import type { Condition, Mutation, Operation, WireAtom } from "../protocol.ts";
import { Replica } from "../replica.ts";
import type { ReplicaRow } from "../replica.ts";
import { datumEquals } from "../datum.ts";
import type { Datum } from "../schema.ts";
import { OfportError, VswitchError } from "./errors.ts";
import { REPLICATED_COLUMNS, VSWITCH_DB } from "./types.ts";
import type {
  AddPortResult,
  BridgeSpec,
  EnsureResult,
  PortSpec,
  VswitchBridge,
  VswitchInterface,
  VswitchOpenVSwitch,
  VswitchOptions,
  VswitchPort,
} from "./types.ts";

const DEFAULT_TIMEOUT_MS = 10_000;

function byName(name: string): Condition[] {
  return [["name", "==", name]];
}

function recordToMap(record: Record<string, string> | undefined): Map<string, string> {
  return new Map(Object.entries(record ?? {}));
}

/** Reports whether every key of `wanted` has the same value in `current`. */
function mapContains(current: Datum | undefined, wanted: Record<string, string> | undefined): boolean {
  const map = current instanceof Map ? current : new Map();
  return Object.entries(wanted ?? {}).every(([key, value]) => map.get(key) === value);
}

/** Returns the mutations that set the given keys of a map column, leaving other keys alone. */
function setMapKeys(column: string, values: Record<string, string>): Mutation[] {
  const keys = Object.keys(values);
  if (keys.length === 0) return [];
  // RFC 7047 5.1: "insert" ignores pairs whose key already exists, so delete the keys first.
  return [
    [column, "delete", wireSet(keys)],
    [column, "insert", wireMap(values)],
  ];
}

/**
 * Typed operations on the local Open_vSwitch database. Methods are safe to call
 * concurrently; each change is one all-or-nothing transaction. The ensure/add methods
 * are idempotent: calling them again with the same spec changes nothing.
 */
export class Vswitch {
  readonly client: OvsdbClient;
  readonly replica: Replica;
  readonly #timeoutMs: number;

  private constructor(client: OvsdbClient, replica: Replica, options: VswitchOptions) {
    this.client = client;
    this.replica = replica;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Starts the replica of the tables this API reads and resolves once it is synced. */
  static async open(client: OvsdbClient, options: VswitchOptions = {}): Promise<Vswitch> {
    const tables = Object.fromEntries(Object.entries(REPLICATED_COLUMNS).map(([table, columns]) => [table, { columns: [...columns] }]));
    const replica = await Replica.start(client, { db: VSWITCH_DB, tables });
    return new Vswitch(client, replica, options);
  }

  /** Stops the replica. The client stays open. */
  async close(): Promise<void> {
    await this.replica.stop();
  }

  openVSwitch(): VswitchOpenVSwitch | undefined {
    return this.replica.rows("Open_vSwitch").values().next().value as VswitchOpenVSwitch | undefined;
  }

  bridge(name: string): VswitchBridge | undefined {
    return this.replica.find("Bridge", (row) => row["name"] === name)[0] as VswitchBridge | undefined;
  }

  port(name: string): VswitchPort | undefined {
    return this.replica.find("Port", (row) => row["name"] === name)[0] as VswitchPort | undefined;
  }

  interface(name: string): VswitchInterface | undefined {
    return this.replica.find("Interface", (row) => row["name"] === name)[0] as VswitchInterface | undefined;
  }

  /** Returns the ports of `bridge` (all bridges when omitted). */
  listPorts(bridge?: string): VswitchPort[] {
    const bridges = bridge === undefined ? this.#bridges() : [this.#requireBridge(bridge)];
    return bridges.flatMap((row) => row.ports.map((id) => this.replica.row("Port", id) as VswitchPort | undefined)).filter((p) => p !== undefined);
  }

  /**
   * Creates the bridge with its local internal port (as `ovs-vsctl add-br` does), or
   * brings an existing bridge's listed settings to `spec`. Idempotent.
   */
  async ensureBridge(spec: BridgeSpec): Promise<EnsureResult> {
    const existing = this.bridge(spec.name);
    if (existing !== undefined) {
      return this.#updateBridge(existing, spec);
    }
    const row: Record<string, unknown> = { name: spec.name, ports: wireSet([namedUuid("port")]) };
    if (spec.datapathType !== undefined) row["datapath_type"] = spec.datapathType;
    if (spec.protocols !== undefined) row["protocols"] = wireSet(spec.protocols);
    if (spec.failMode !== undefined) row["fail_mode"] = spec.failMode;
    if (spec.otherConfig !== undefined) row["other_config"] = wireMap(spec.otherConfig);
    if (spec.externalIds !== undefined) row["external_ids"] = wireMap(spec.externalIds);
    const ops: Operation[] = [
      { op: "insert", table: "Interface", row: { name: spec.name, type: "internal" }, "uuid-name": "iface" },
      { op: "insert", table: "Port", row: { name: spec.name, interfaces: namedUuid("iface") }, "uuid-name": "port" },
      { op: "insert", table: "Bridge", row: row as Record<string, WireAtom>, "uuid-name": "bridge" },
      { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["bridges", "insert", wireSet([namedUuid("bridge")])]] },
    ];
    try {
      const results = await this.#transact(ops);
      return { uuid: results[2]?.uuid?.[1] as string, created: true, updated: false };
    } catch (error) {
      // Another client created it between our read and our commit (Bridge.name is unique).
      const raced = this.bridge(spec.name);
      if (error instanceof TransactionError && error.error === "constraint violation" && raced !== undefined) {
        return this.#updateBridge(raced, spec);
      }
      throw error;
    }
  }

  async #updateBridge(existing: VswitchBridge, spec: BridgeSpec): Promise<EnsureResult> {
    const row: Record<string, WireAtom | ReturnType<typeof wireSet>> = {};
    if (spec.datapathType !== undefined && existing.datapath_type !== spec.datapathType) row["datapath_type"] = spec.datapathType;
    if (spec.protocols !== undefined && !datumEquals(existing.protocols, spec.protocols)) row["protocols"] = wireSet(spec.protocols);
    if (spec.failMode !== undefined && existing.fail_mode !== spec.failMode) row["fail_mode"] = spec.failMode;
    const mutations = [
      ...(mapContains(existing.other_config, spec.otherConfig) ? [] : setMapKeys("other_config", spec.otherConfig ?? {})),
      ...(mapContains(existing.external_ids, spec.externalIds) ? [] : setMapKeys("external_ids", spec.externalIds ?? {})),
    ];
    const where: Condition[] = [["_uuid", "==", uuid(existing._uuid)]];
    const ops: Operation[] = [];
    if (Object.keys(row).length > 0) ops.push({ op: "update", table: "Bridge", where, row });
    if (mutations.length > 0) ops.push({ op: "mutate", table: "Bridge", where, mutations });
    if (ops.length > 0) await this.#transact(ops);
    return { uuid: existing._uuid, created: false, updated: ops.length > 0 };
  }

  /**
   * Adds a port with one interface to `spec.bridge` in one transaction, or brings an
   * existing port's interface settings to `spec`. Raises VswitchError when the bridge does
   * not exist or the port belongs to another bridge. Idempotent.
   */
  async addPort(spec: PortSpec): Promise<AddPortResult> {
    const bridge = this.#requireBridge(spec.bridge);
    const existing = this.port(spec.name);
    if (existing !== undefined) {
      if (!bridge.ports.includes(existing._uuid)) {
        const owner = this.#bridges().find((b) => b.ports.includes(existing._uuid));
        throw new VswitchError(`port ${spec.name} already exists on bridge ${owner?.name ?? "(none)"}, not ${spec.bridge}; delete it first`);
      }
      return this.#updatePort(existing, spec);
    }
    const iface: Record<string, unknown> = { name: spec.name };
    if (spec.type !== undefined) iface["type"] = spec.type;
    if (spec.options !== undefined) iface["options"] = wireMap(spec.options);
    if (spec.externalIds !== undefined) iface["external_ids"] = wireMap(spec.externalIds);
    if (spec.ofportRequest !== undefined) iface["ofport_request"] = spec.ofportRequest;
    if (spec.mtuRequest !== undefined) iface["mtu_request"] = spec.mtuRequest;
    const port: Record<string, unknown> = { name: spec.name, interfaces: namedUuid("iface") };
    if (spec.externalIds !== undefined) port["external_ids"] = wireMap(spec.externalIds);
    const ops: Operation[] = [
      // Fails the transaction ("timed out") unless exactly this bridge still exists.
      { op: "wait", table: "Bridge", where: [["_uuid", "==", uuid(bridge._uuid)]], columns: ["name"], until: "==", rows: [{ name: spec.bridge }], timeout: 0 },
      { op: "insert", table: "Interface", row: iface as Record<string, WireAtom>, "uuid-name": "iface" },
      { op: "insert", table: "Port", row: port as Record<string, WireAtom>, "uuid-name": "port" },
      { op: "mutate", table: "Bridge", where: [["_uuid", "==", uuid(bridge._uuid)]], mutations: [["ports", "insert", wireSet([namedUuid("port")])]] },
    ];
    try {
      const results = await this.#transact(ops);
      return { interfaceUuid: results[1]?.uuid?.[1] as string, portUuid: results[2]?.uuid?.[1] as string, created: true, updated: false };
    } catch (error) {
      if (error instanceof TransactionError && error.index === 0) {
        throw new VswitchError(`bridge ${spec.bridge} was deleted while adding port ${spec.name}`, { cause: error });
      }
      // Another caller added the same port between our read and our commit (Port.name
      // and Interface.name are unique), so bring that port to this spec instead.
      const raced = this.port(spec.name);
      if (error instanceof TransactionError && error.error === "constraint violation" && raced !== undefined) {
        return this.#updatePort(raced, spec);
      }
      throw error;
    }
  }

  async #updatePort(existing: VswitchPort, spec: PortSpec): Promise<AddPortResult> {
    const ifaceUuid = existing.interfaces[0] as string;
    const iface = this.replica.row("Interface", ifaceUuid) as VswitchInterface | undefined;
    if (iface === undefined) throw new VswitchError(`port ${spec.name} has no interface in the replica`);
    const row: Record<string, unknown> = {};
    if (spec.type !== undefined && iface.type !== spec.type) row["type"] = spec.type;
    if (spec.options !== undefined && !datumEquals(iface.options, recordToMap(spec.options))) row["options"] = wireMap(spec.options);
    if (spec.ofportRequest !== undefined && iface.ofport_request !== spec.ofportRequest) row["ofport_request"] = spec.ofportRequest;
    if (spec.mtuRequest !== undefined && iface.mtu_request !== spec.mtuRequest) row["mtu_request"] = spec.mtuRequest;
    const ops: Operation[] = [];
    if (Object.keys(row).length > 0) {
      ops.push({ op: "update", table: "Interface", where: [["_uuid", "==", uuid(ifaceUuid)]], row: row as Record<string, WireAtom> });
    }
    if (!mapContains(iface.external_ids, spec.externalIds) || !mapContains(existing.external_ids, spec.externalIds)) {
      const mutations = setMapKeys("external_ids", spec.externalIds ?? {});
      ops.push({ op: "mutate", table: "Interface", where: [["_uuid", "==", uuid(ifaceUuid)]], mutations });
      ops.push({ op: "mutate", table: "Port", where: [["_uuid", "==", uuid(existing._uuid)]], mutations });
    }
    if (ops.length > 0) await this.#transact(ops);
    return { portUuid: existing._uuid, interfaceUuid: ifaceUuid, created: false, updated: ops.length > 0 };
  }

  /**
   * Removes the port from the bridge in one transaction; OVSDB then garbage-collects the
   * Port row and its Interface rows. Returns false when the port did not exist. Raises
   * VswitchError when it exists on another bridge. Idempotent.
   */
  async deletePort(spec: { bridge: string; name: string }): Promise<boolean> {
    const bridge = this.#requireBridge(spec.bridge);
    const port = this.port(spec.name);
    if (port === undefined) return false;
    if (!bridge.ports.includes(port._uuid)) {
      throw new VswitchError(`port ${spec.name} is not on bridge ${spec.bridge}; nothing deleted`);
    }
    // The "includes" condition makes the mutate a no-op (count 0) when a concurrent change
    // already removed the port, instead of failing.
    const [result] = await this.#transact([
      {
        op: "mutate",
        table: "Bridge",
        where: [["_uuid", "==", uuid(bridge._uuid)], ["ports", "includes", uuid(port._uuid)]],
        mutations: [["ports", "delete", uuid(port._uuid)]],
      },
    ]);
    return result?.count === 1;
  }

  /** Sets Interface.type and/or replaces Interface.options of the named interface. */
  async setInterfaceOptions(name: string, settings: { type?: string; options?: Record<string, string> }): Promise<void> {
    if (this.interface(name) === undefined) throw new VswitchError(`interface ${name} not found; add the port first`);
    const row: Record<string, unknown> = {};
    if (settings.type !== undefined) row["type"] = settings.type;
    if (settings.options !== undefined) row["options"] = wireMap(settings.options);
    if (Object.keys(row).length === 0) return;
    const [result] = await this.#transact([{ op: "update", table: "Interface", where: byName(name), row: row as Record<string, WireAtom> }]);
    if (result?.count !== 1) throw new VswitchError(`interface ${name} was deleted before its options were set`);
  }

  /**
   * Resolves with the interface's OpenFlow port number once ovs-vswitchd has assigned it,
   * watching the replica (no polling). Rejects with OfportError when ofport is -1 and
   * with TimeoutError after options.timeoutMs.
   */
  async waitForOfport(name: string, options: { timeoutMs: number }): Promise<number> {
    try {
      return await this.replica.waitFor(
        "Interface",
        (row) => {
          if (row["name"] !== name) return undefined;
          const ofport = row["ofport"] as number | null;
          if (ofport === -1) throw new OfportError(name, row["error"] as string | null);
          return ofport !== null && ofport > 0 ? ofport : undefined;
        },
        options,
      );
    } catch (error) {
      if (error instanceof TimeoutError) {
        const hint = "check that ovs-vswitchd is running and the bridge exists";
        throw new TimeoutError(`wait for ofport of interface ${name}`, options.timeoutMs, hint);
      }
      throw error;
    }
  }

  /** Returns the ports whose Port.external_ids, or whose first interface's external_ids, contain every given pair. */
  findPorts(filter: { externalIds: Record<string, string> }): VswitchPort[] {
    return (this.replica.find("Port", () => true) as VswitchPort[]).filter((port) => {
      if (mapContains(port.external_ids, filter.externalIds)) return true;
      const iface = this.replica.row("Interface", port.interfaces[0] ?? "") as VswitchInterface | undefined;
      return iface !== undefined && mapContains(iface.external_ids, filter.externalIds);
    });
  }

  /**
   * Sets keys of Open_vSwitch.other_config (for example hw-offload, flow-restore-wait);
   * a null value removes the key. Other keys are left alone.
   */
  async setOpenVSwitchOtherConfig(values: Record<string, string | null>): Promise<void> {
    const keys = Object.keys(values);
    if (keys.length === 0) return;
    const set = Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== null));
    const mutations: Mutation[] = [["other_config", "delete", wireSet(keys)]];
    if (Object.keys(set).length > 0) mutations.push(["other_config", "insert", wireMap(set)]);
    await this.#transact([{ op: "mutate", table: "Open_vSwitch", where: [], mutations }]);
  }

  /**
   * Names OpenFlow tables through Flow_Table rows referenced from Bridge.flow_tables, so
   * `ovs-ofctl dump-flows --names` prints "table=Classifier". Tables already carrying the
   * requested name are left alone. Idempotent.
   */
  async nameFlowTables(bridgeName: string, names: Record<number, string>): Promise<void> {
    const bridge = this.#requireBridge(bridgeName);
    const ops: Operation[] = [];
    const ids: number[] = [];
    const refs: [WireAtom, WireAtom][] = [];
    for (const [idText, name] of Object.entries(names)) {
      const id = Number(idText);
      if (!Number.isInteger(id) || id < 0 || id > 254) throw new VswitchError(`invalid OpenFlow table id ${idText}; expected 0 to 254`);
      const current = bridge.flow_tables.get(id);
      const currentName = current === undefined ? undefined : (this.replica.row("Flow_Table", current)?.["name"] as string | null | undefined);
      if (currentName === name) continue;
      ops.push({ op: "insert", table: "Flow_Table", row: { name }, "uuid-name": `table${id}` });
      ids.push(id);
      refs.push([id, namedUuid(`table${id}`)]);
    }
    if (ops.length === 0) return;
    const where: Condition[] = [["_uuid", "==", uuid(bridge._uuid)]];
    ops.push({ op: "mutate", table: "Bridge", where, mutations: [["flow_tables", "delete", wireSet(ids)], ["flow_tables", "insert", ["map", refs]]] });
    await this.#transact(ops);
  }

  /**
   * Increments Open_vSwitch.next_cfg and resolves once ovs-vswitchd has applied every
   * change up to it (cur_cfg catches up), as `ovs-vsctl` does without --no-wait. Use it
   * before talking OpenFlow to a bridge just created. Rejects with TimeoutError.
   */
  async waitForVswitchd(options: { timeoutMs: number }): Promise<void> {
    const [, select] = await this.#transact([
      { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] },
      { op: "select", table: "Open_vSwitch", where: [], columns: ["next_cfg"] },
    ]);
    const target = select?.rows?.[0]?.["next_cfg"] as number;
    try {
      await this.replica.waitFor("Open_vSwitch", (row) => ((row["cur_cfg"] as number) >= target ? true : undefined), options);
    } catch (error) {
      if (error instanceof TimeoutError) {
        throw new TimeoutError(`wait for ovs-vswitchd to apply next_cfg ${target}`, options.timeoutMs, "check that ovs-vswitchd is running");
      }
      throw error;
    }
  }

  #bridges(): VswitchBridge[] {
    return [...this.replica.rows("Bridge").values()] as ReplicaRow[] as unknown as VswitchBridge[];
  }

  #requireBridge(name: string): VswitchBridge {
    const bridge = this.bridge(name);
    if (bridge === undefined) throw new VswitchError(`bridge ${name} not found; create it with ensureBridge first`);
    return bridge;
  }

  #transact(ops: Operation[]) {
    return this.client.transact(VSWITCH_DB, ops, { timeoutMs: this.#timeoutMs });
  }
}
