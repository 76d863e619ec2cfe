// The logger a ResilientInformer writes to, which both daemons' winston loggers satisfy.
// Each call passes a constant message and fields from a fixed set: kind, server, error,
// delayMs, objects, and the object's identity (namespace, pod, node, policy or name).
export interface InformerLogger {
  debug(message: string, fields: Record<string, unknown>): unknown;
  warn(message: string, fields: Record<string, unknown>): unknown;
  error(message: string, fields: Record<string, unknown>): unknown;
}
