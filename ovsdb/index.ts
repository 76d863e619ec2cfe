// Public API of the OVSDB client package.
export { OvsdbClient, checkTransactionResults } from "./client.ts";
export type {
  BackoffOptions,
  MonitorCondSinceOptions,
  MonitorCondSinceResult,
  MonitorOptions,
  MonitorResult,
  OvsdbClientEvents,
  OvsdbClientOptions,
} from "./client.ts";
export { JsonRpcConnection, formatEndpoint, parseEndpoint } from "./connection.ts";
export type { CallOptions, Endpoint, JsonRpcConnectionOptions } from "./connection.ts";
export {
  CancelledError,
  ConnectionClosedError,
  FramingError,
  OvsdbError,
  OvsdbErrorCode,
  RpcError,
  SchemaError,
  TimeoutError,
  TransactionError,
} from "./errors.ts";
export { JsonStreamScanner } from "./framing.ts";
export * from "./protocol.ts";
export { Replica } from "./replica.ts";
export type { MonitorMethod, ReplicaEvents, ReplicaOptions, ReplicaRow, ReplicaTableOptions, RowChange } from "./replica.ts";
export { DatabaseSchema, TableSchema, decodeDatum, encodeDatum, parseColumnType } from "./schema.ts";
export type { Atom, ColumnType, Datum, DecodedRow } from "./schema.ts";
export { isTracerEnabled } from "./trace.ts";
export type { TraceSink } from "./trace.ts";
export { Vswitch } from "./vswitch/vswitch.ts";
export { OfportError, VswitchError } from "./vswitch/errors.ts";
export { VSWITCH_DB } from "./vswitch/types.ts";
export type {
  AddPortResult,
  BridgeSpec,
  EnsureResult,
  OpenFlowProtocol,
  PortSpec,
  VswitchBridge,
  VswitchFlowTable,
  VswitchInterface,
  VswitchOpenVSwitch,
  VswitchOptions,
  VswitchPort,
} from "./vswitch/types.ts";
export type * from "./schema/vswitch.ts";
export { VSWITCH_COLUMN_TYPES, VSWITCH_SCHEMA_VERSION } from "./schema/vswitch.ts";
