// The --targets JSON of the probe client: what probe.ts writes and probe-client.ts reads.
// Depends on nothing but the language, so the probe client stays a plain Node script.

export type ProbeProtocol = "tcp" | "udp" | "sctp";

export const probeProtocols: readonly ProbeProtocol[] = ["tcp", "udp", "sctp"];

/** One target of a probe client. */
export interface ProbeTargetSpec {
  /** IPv4 address of the target pod. */
  host: string;
  port: number;
  protocol: ProbeProtocol;
  /** Arrivals file of the target's SCTP receiver, where the client looks for its INIT. Required for "sctp" only. */
  arrivals?: string;
}

/**
 * Parses and checks the --targets JSON: an array of { host, port, protocol, arrivals? }.
 * Raises RangeError naming the entry and the field when the text is not such an array.
 */
export function parseProbeTargets(text: string): ProbeTargetSpec[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new RangeError(`invalid probe targets ${JSON.stringify(text.slice(0, 100))}: not JSON`, { cause: error });
  }
  if (!Array.isArray(parsed)) throw new RangeError(`invalid probe targets: expected a JSON array, got ${typeof parsed}`);
  return parsed.map((entry: unknown, index) => parseTarget(entry, index));
}

function parseTarget(entry: unknown, index: number): ProbeTargetSpec {
  const where = `probe target ${index}`;
  if (typeof entry !== "object" || entry === null) throw new RangeError(`invalid ${where}: expected an object with host, port and protocol`);
  const { host, port, protocol, arrivals } = entry as Record<string, unknown>;
  if (typeof host !== "string" || host === "") throw new RangeError(`invalid ${where}: host ${JSON.stringify(host)} must be a non-empty string`);
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`invalid ${where}: port ${JSON.stringify(port)} must be an integer from 1 to 65535`);
  }
  if (!probeProtocols.includes(protocol as ProbeProtocol)) {
    throw new RangeError(`invalid ${where}: protocol ${JSON.stringify(protocol)} must be one of ${probeProtocols.join(", ")}`);
  }
  const target: ProbeTargetSpec = { host, port, protocol: protocol as ProbeProtocol };
  if (protocol === "sctp") {
    if (typeof arrivals !== "string" || arrivals === "") {
      throw new RangeError(`invalid ${where}: an sctp target needs "arrivals", the path of the target's SCTP arrivals file`);
    }
    target.arrivals = arrivals;
  }
  return target;
}
