// The "openflow" tracer: wire-level detail (every message sent and received, with a hex
// dump) for debugging. It is off unless SWITCHYARD_TRACE lists "openflow" (comma-separated,
// or "all"), and the hex dump is built only when it is on. Trace lines go to the sink given
// in the connection options, or to stderr when the environment turned tracing on and no
// sink was given.
import { formatHexDump } from "../print/hex-dump.ts";

export type TraceSink = (line: string) => void;

/** Returns whether SWITCHYARD_TRACE (from `env`) enables the named tracer. */
export function traceEnabled(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.SWITCHYARD_TRACE ?? "";
  return value.split(",").some((item) => {
    const trimmed = item.trim();
    return trimmed === name || trimmed === "all";
  });
}

export class OpenFlowTracer {
  private readonly sink: TraceSink | undefined;

  constructor(options: { sink?: TraceSink | undefined; env?: NodeJS.ProcessEnv }) {
    if (options.sink !== undefined) this.sink = options.sink;
    else if (traceEnabled("openflow", options.env)) this.sink = (line) => process.stderr.write(`${line}\n`);
  }

  get enabled(): boolean {
    return this.sink !== undefined;
  }

  /** Records one message. `describe` is called only when tracing is on. */
  message(direction: "send" | "recv", bytes: Buffer, describe: () => string): void {
    if (this.sink === undefined) return;
    this.sink(`openflow ${direction} ${bytes.length} bytes: ${describe()}\n${formatHexDump(bytes, { ascii: true })}`);
  }

  event(text: string): void {
    this.sink?.(`openflow ${text}`);
  }
}
