// Named tracer for OVSDB wire detail. It is on when SWITCHYARD_TRACE (a comma-separated
// list) contains "ovsdb" or "all", or when the caller passes its own sink. Otherwise the
// library writes nothing to the console.

/** A sink for trace lines, for example a winston logger's debug method. */
export type TraceSink = (line: string) => void;

export const OVSDB_TRACER_NAME = "ovsdb";

/** Reports whether SWITCHYARD_TRACE in `env` enables the tracer called `name`. */
export function isTracerEnabled(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env["SWITCHYARD_TRACE"];
  if (value === undefined || value === "") {
    return false;
  }
  const names = value.split(",").map((part) => part.trim());
  return names.includes(name) || names.includes("all");
}

/**
 * Returns the sink to trace through: the caller's sink when given, stderr when
 * SWITCHYARD_TRACE enables the ovsdb tracer, otherwise undefined (tracing off, and callers
 * skip building the line).
 */
export function resolveTraceSink(sink: TraceSink | undefined): TraceSink | undefined {
  if (sink !== undefined) {
    return sink;
  }
  if (!isTracerEnabled(OVSDB_TRACER_NAME)) {
    return undefined;
  }
  return (line) => process.stderr.write(`[ovsdb] ${line}\n`);
}
