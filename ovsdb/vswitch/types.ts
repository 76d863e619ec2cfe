// Specs, results and row types of the agent's vswitch API.
import type { BridgeRow, FlowTableRow, InterfaceRow, OpenVSwitchRow, PortRow } from "../schema/vswitch.ts";

export const VSWITCH_DB = "Open_vSwitch";

/** Columns replicated per table. Interface statistics are left out: vswitchd rewrites them every few seconds. */
export const REPLICATED_COLUMNS = {
  Open_vSwitch: ["bridges", "other_config", "external_ids", "ovs_version", "next_cfg", "cur_cfg"],
  Bridge: ["name", "datapath_type", "protocols", "fail_mode", "other_config", "external_ids", "ports", "flow_tables"],
  Port: ["name", "interfaces", "external_ids", "tag"],
  Interface: ["name", "type", "options", "ofport", "ofport_request", "mtu_request", "error", "external_ids", "mac_in_use"],
  Flow_Table: ["name", "external_ids"],
} as const;

type Replicated<Row, Table extends keyof typeof REPLICATED_COLUMNS> = Pick<
  Row,
  Extract<keyof Row, (typeof REPLICATED_COLUMNS)[Table][number] | "_uuid">
>;

export type VswitchOpenVSwitch = Replicated<OpenVSwitchRow, "Open_vSwitch">;
export type VswitchBridge = Replicated<BridgeRow, "Bridge">;
export type VswitchPort = Replicated<PortRow, "Port">;
export type VswitchInterface = Replicated<InterfaceRow, "Interface">;
export type VswitchFlowTable = Replicated<FlowTableRow, "Flow_Table">;

export type OpenFlowProtocol = "OpenFlow10" | "OpenFlow11" | "OpenFlow12" | "OpenFlow13" | "OpenFlow14" | "OpenFlow15";

export type BridgeSpec = {
  name: string;
  /** "netdev" for the userspace datapath, "system" (or "") for the kernel one. */
  datapathType?: string;
  protocols?: OpenFlowProtocol[];
  failMode?: "secure" | "standalone";
  /** Keys set in Bridge.other_config; keys not listed are left alone. */
  otherConfig?: Record<string, string>;
  /** Keys set in Bridge.external_ids; keys not listed are left alone. */
  externalIds?: Record<string, string>;
};

export type PortSpec = {
  bridge: string;
  name: string;
  /** Interface.type: "" (system device), "internal", "geneve", "vxlan", "gre", "patch", ... */
  type?: string;
  /** Interface.options, for example { remote_ip: "flow", key: "flow", dst_port: "6081", csum: "true" }. */
  options?: Record<string, string>;
  /** Set on both the Port and its Interface. */
  externalIds?: Record<string, string>;
  ofportRequest?: number;
  mtuRequest?: number;
};

export type EnsureResult = { uuid: string; created: boolean; updated: boolean };
export type AddPortResult = { portUuid: string; interfaceUuid: string; created: boolean; updated: boolean };

export type VswitchOptions = {
  /** Timeout of each transaction, in milliseconds. Default 10000. */
  timeoutMs?: number;
};

