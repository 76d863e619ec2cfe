// The "cni" tracer: every request and reply on the CNI socket, in full. It is off unless
// SWITCHYARD_TRACE lists "cni" (comma-separated, or "all"), the same switch as the openflow
// and ovsdb tracers. Lines go to the sink given in the server options, else to stderr.
import { traceEnabled, type TraceSink } from "../../openflow/index.ts";

export const CNI_TRACER_NAME = "cni";

/** Returns the sink to trace through: `sink` when given, stderr when the environment enables the tracer, else undefined (off). */
export function resolveCniTraceSink(sink: TraceSink | undefined, env: NodeJS.ProcessEnv = process.env): TraceSink | undefined {
  if (sink !== undefined) return sink;
  if (!traceEnabled(CNI_TRACER_NAME, env)) return undefined;
  return (line) => process.stderr.write(`[cni] ${line}\n`);
}
