// The agents' reports of which policies they have realized in OVS.
import { ProtocolError, ProtocolErrorCode, type StatusReport } from "./protocol.ts";

export interface StoredReport extends StatusReport {
  receivedAt: string;
}

/** Latest status report per node. Synchronous; last report wins. */
export class RealizationStatusStore {
  private readonly reports = new Map<string, StoredReport>();

  /** Stores a node's report, replacing the previous one, and returns what it replaced. */
  record(node: string, report: StatusReport, now: Date = new Date()): StoredReport | undefined {
    const previous = this.reports.get(node);
    this.reports.set(node, { ...report, receivedAt: now.toISOString() });
    return previous;
  }

  get(node: string): StoredReport | undefined {
    return this.reports.get(node);
  }

  forget(node: string): void {
    this.reports.delete(node);
  }

  nodes(): string[] {
    return [...this.reports.keys()].sort();
  }

  /** Policy counts over all nodes' latest reports. */
  totals(): { realized: number; failed: number } {
    let realized = 0;
    let failed = 0;
    for (const report of this.reports.values()) {
      realized += report.realized.length;
      failed += report.failed.length;
    }
    return { realized, failed };
  }
}

/** Checks a decoded POST /v1/status body. Throws ProtocolError naming the bad field. */
export function parseStatusReport(value: unknown): StatusReport {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolError(ProtocolErrorCode.invalidMessage, "status report must be a JSON object with generation, realized and failed");
  }
  const body = value as Record<string, unknown>;
  if (typeof body.generation !== "number" || !Number.isInteger(body.generation) || body.generation < 0) {
    throw new ProtocolError(ProtocolErrorCode.invalidMessage, `status report field generation must be a non-negative integer, got ${JSON.stringify(body.generation)}`);
  }
  if (!Array.isArray(body.realized) || body.realized.some((id) => typeof id !== "string")) {
    throw new ProtocolError(ProtocolErrorCode.invalidMessage, "status report field realized must be a list of policy id strings");
  }
  const failedInput = body.failed ?? [];
  if (!Array.isArray(failedInput)) {
    throw new ProtocolError(ProtocolErrorCode.invalidMessage, "status report field failed must be a list of {policyId, message}");
  }
  const failed = failedInput.map((entry: unknown, index: number) => {
    const item = entry as { policyId?: unknown; message?: unknown } | null;
    if (item === null || typeof item !== "object" || typeof item.policyId !== "string" || typeof item.message !== "string") {
      throw new ProtocolError(ProtocolErrorCode.invalidMessage, `status report field failed[${index}] must be {policyId: string, message: string}`);
    }
    return { policyId: item.policyId, message: item.message };
  });
  return { generation: body.generation, realized: [...(body.realized as string[])], failed };
}
