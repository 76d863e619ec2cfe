// Where a policy's realization time goes, read from the daemons' JSON logs. Each agent logs
// "Applied NetworkPolicy slice" once its flow bundle is committed, with the bundle's
// duration and flow counts. The controller logs "agent realization status" when an agent
// reports the policy realized. The controller logs no line when it receives the policy or
// sends the slice, so the span from t0 to the start of the agent's bundle is not split further.
//
// NOTE: log timestamps are wall-clock milliseconds (winston, Date), while t0 is
// performance.timeOrigin + performance.now(). Both follow the system clock, but
// timeOrigin is taken once at process start, so a clock step during the run skews them.
import { readFile } from "node:fs/promises";

/** One agent's part of a policy change. */
export interface AgentApplied {
  node: string;
  /** Log time of the commit minus t0, in milliseconds. */
  appliedMs: number;
  /** Bundle duration the agent measured, in milliseconds. */
  bundleMs: number;
  added: number;
  removed: number;
  /** Controller log time of the agent's realization report minus t0; undefined when not found. */
  reportedMs: number | undefined;
}

interface LogLine {
  message?: string;
  timestamp?: string;
  node?: string;
  policies?: number;
  realized?: number;
  seconds?: number;
  added?: number;
  removed?: number;
}

async function readJsonLines(path: string): Promise<LogLine[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  const lines: LogLine[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // A line cut by a concurrent write: skip it.
    }
  }
  return lines;
}

const timeOf = (line: LogLine): number => Date.parse(line.timestamp ?? "");

/**
 * Finds, per node, the first slice applied at or after t0 whose policy count is
 * `policies`, and the controller's first realization report of that node after t0 with
 * `realized` policies. Nodes without a matching line are left out.
 */
export async function agentBreakdown(options: {
  t0: number;
  agentLogs: ReadonlyMap<string, string>;
  controllerLog: string;
  policies: number;
}): Promise<AgentApplied[]> {
  const { t0 } = options;
  // Log times have millisecond resolution, so a line in the same millisecond as t0 counts.
  const after = (line: LogLine): boolean => timeOf(line) >= Math.floor(t0);
  const controller = (await readJsonLines(options.controllerLog)).filter((line) => line.message === "agent realization status" && after(line));
  const result: AgentApplied[] = [];
  for (const [node, path] of options.agentLogs) {
    const applied = (await readJsonLines(path)).find((line) => line.message === "Applied NetworkPolicy slice" && after(line) && line.policies === options.policies);
    if (applied === undefined) continue;
    const report = controller.find((line) => line.node === node && line.realized === options.policies);
    result.push({
      node,
      appliedMs: timeOf(applied) - t0,
      bundleMs: (applied.seconds ?? 0) * 1000,
      added: applied.added ?? 0,
      removed: applied.removed ?? 0,
      reportedMs: report === undefined ? undefined : timeOf(report) - t0,
    });
  }
  return result;
}
