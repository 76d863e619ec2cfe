// The benchmark's handle on one prober process (prober.ts) running inside the prober pod's
// network namespace: start it, wait until every target echoes steadily, tell it to watch
// for silence, and collect its record.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

import type { ProbeRecord, ProbeTarget } from "./record.ts";

const proberScript = fileURLToPath(new URL("./prober.ts", import.meta.url));

/** Prober settings the benchmark passes through. */
export interface ProberSettings {
  intervalMs: number;
  silenceMs: number;
  timeoutMs: number;
  echoWindowMs: number;
  steadyCount: number;
}

/** Raised when the prober misbehaves or a wait times out; `code` is stable. */
export class ProberError extends Error {
  readonly code: "PROBER_EXITED" | "PROBER_TIMEOUT" | "PROBER_OUTPUT";
  constructor(code: ProberError["code"], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProberError";
    this.code = code;
  }
}

/** One running prober. Not reusable: each measurement starts its own. */
export class ProberProcess {
  readonly #child: ChildProcess;
  readonly #stderr: string[] = [];
  readonly #steady: Promise<number>;
  readonly #record: Promise<ProbeRecord>;

  /** Starts `node prober.ts` inside `netns`; ports from `firstPort` up are used once each. */
  constructor(options: { netns: string; nodeBinary: string; targets: readonly ProbeTarget[]; firstPort: number; settings: ProberSettings }) {
    const { settings } = options;
    const argv = [
      "netns", "exec", options.netns, options.nodeBinary, proberScript,
      "--targets", JSON.stringify(options.targets),
      "--first-port", String(options.firstPort),
      "--interval-ms", String(settings.intervalMs),
      "--silence-ms", String(settings.silenceMs),
      "--timeout-ms", String(settings.timeoutMs),
      "--echo-window-ms", String(settings.echoWindowMs),
      "--steady-count", String(settings.steadyCount),
    ];
    this.#child = spawn("ip", argv, { stdio: ["pipe", "pipe", "pipe"] });
    this.#child.stderr?.on("data", (chunk: Buffer) => this.#stderr.push(chunk.toString()));

    const exited = new Promise<never>((_resolve, reject) => {
      this.#child.on("error", (error) => reject(new ProberError("PROBER_EXITED", `the prober could not start in ${options.netns}: ${error.message}`, { cause: error })));
      this.#child.on("close", (code, signal) => reject(new ProberError("PROBER_EXITED", `the prober in ${options.netns} exited (${code ?? signal}) without a record: ${this.#stderr.join("").slice(-500)}`)));
    });
    exited.catch(() => undefined);

    let resolveSteady: (at: number) => void = () => {};
    let resolveRecord: (record: ProbeRecord) => void = () => {};
    const steady = new Promise<number>((resolve) => (resolveSteady = resolve));
    const record = new Promise<ProbeRecord>((resolve) => (resolveRecord = resolve));
    this.#steady = Promise.race([steady, exited]);
    this.#record = Promise.race([record, exited]);
    this.#steady.catch(() => undefined);
    this.#record.catch(() => undefined);

    if (this.#child.stdout === null) throw new ProberError("PROBER_OUTPUT", "the prober has no stdout pipe");
    createInterface({ input: this.#child.stdout }).on("line", (line) => {
      const message = JSON.parse(line) as { type?: string; at?: number };
      if (message.type === "steady") resolveSteady(message.at ?? 0);
      if (message.type === "record") resolveRecord(message as ProbeRecord);
    });
  }

  /** Resolves with the time every target had echoed steadily; raises PROBER_TIMEOUT after `timeoutMs`. */
  waitSteady(timeoutMs: number): Promise<number> {
    return withTimeout(this.#steady, timeoutMs, `every target to echo steadily`);
  }

  /** Tells the prober to stop once every target has been silent for the silence time. */
  watch(): void {
    this.#child.stdin?.write(`${JSON.stringify({ type: "watch" })}\n`);
  }

  /** Resolves with the record the prober prints when it stops on its own. */
  record(timeoutMs: number): Promise<ProbeRecord> {
    return withTimeout(this.#record, timeoutMs, "the prober's record");
  }

  /** Stops probing now (SIGTERM) and resolves with the record. */
  async stop(timeoutMs = 5000): Promise<ProbeRecord> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGTERM");
    return this.record(timeoutMs);
  }

  /** Kills the prober without waiting for its record (cleanup after a failure). Idempotent. */
  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGKILL");
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, awaited: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new ProberError("PROBER_TIMEOUT", `timed out after ${timeoutMs} ms waiting for ${awaited}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
