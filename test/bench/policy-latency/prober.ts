// Streaming UDP prober of the policy-latency benchmark, run inside a prober pod's network
// namespace (`ip netns exec`). Every --interval-ms it opens a UDP socket bound to the next
// source port and sends one datagram from it to every target. Each datagram starts a new
// connection, because conntrack lets packets of an established connection pass without
// policy evaluation, so a reused 5-tuple would keep passing after a deny lands.
//
// Control protocol, one JSON object per line:
//   stdout  {"type":"steady","at":MS}  every target echoed --steady-count datagrams in a row
//   stdin   {"type":"watch"}           from now on, stop once every target has been silent
//                                      for --silence-ms (or after --timeout-ms)
//   stdout  {"type":"record",...}      the ProbeRecord (see record.ts), then the process exits
// SIGTERM, SIGINT or the end of stdin also stop probing and print the record.
// Times are `performance.timeOrigin + performance.now()` in milliseconds, which other
// processes on the same machine can compare with their own.
//
// Usage: prober.ts --targets '[{"name":"node1","ip":"10.244.0.5","port":80}]'
//          --first-port 20000 [--last-port 65000] [--interval-ms 2] [--echo-window-ms 1000]
//          [--steady-count 25] [--silence-ms 500] [--timeout-ms 30000]
import { createSocket } from "node:dgram";
import type { Socket } from "node:dgram";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

import type { ProbeRecord, ProbeTarget, StopReason, TargetRecord } from "./record.ts";

interface ProberOptions {
  targets: ProbeTarget[];
  firstPort: number;
  lastPort: number;
  intervalMs: number;
  echoWindowMs: number;
  steadyCount: number;
  silenceMs: number;
  timeoutMs: number;
}

/** Per target: the datagrams sent so far and what came back. */
interface TargetState {
  target: ProbeTarget;
  record: TargetRecord;
  /** Receive time of the newest echo, in milliseconds. */
  lastEchoAt: number;
}

const now = (): number => performance.timeOrigin + performance.now();

function readOptions(): ProberOptions {
  const { values } = parseArgs({
    options: {
      targets: { type: "string" },
      "first-port": { type: "string" },
      "last-port": { type: "string", default: "65000" },
      "interval-ms": { type: "string", default: "2" },
      "echo-window-ms": { type: "string", default: "1000" },
      "steady-count": { type: "string", default: "25" },
      "silence-ms": { type: "string", default: "500" },
      "timeout-ms": { type: "string", default: "30000" },
    },
    strict: true,
  });
  if (values.targets === undefined || values["first-port"] === undefined) {
    throw new RangeError("missing option: give --targets JSON and --first-port PORT");
  }
  const options: ProberOptions = {
    targets: JSON.parse(values.targets) as ProbeTarget[],
    firstPort: Number(values["first-port"]),
    lastPort: Number(values["last-port"]),
    intervalMs: Number(values["interval-ms"]),
    echoWindowMs: Number(values["echo-window-ms"]),
    steadyCount: Number(values["steady-count"]),
    silenceMs: Number(values["silence-ms"]),
    timeoutMs: Number(values["timeout-ms"]),
  };
  if (!(options.firstPort >= 1024 && options.firstPort <= options.lastPort && options.lastPort <= 65535)) {
    throw new RangeError(`invalid port range ${options.firstPort}-${options.lastPort}: give 1024 <= --first-port <= --last-port <= 65535`);
  }
  if (options.targets.length === 0) throw new RangeError("--targets is empty: give at least one target");
  return options;
}

/** Sends datagrams until a stop request or the last port, then prints the record once. */
class Prober {
  readonly #options: ProberOptions;
  readonly #states: TargetState[];
  readonly #openSockets = new Set<Socket>();
  #nextPort: number;
  #lastPortUsed = 0;
  #bindErrors = 0;
  #steadyReported = false;
  #watchStartedAt: number | undefined;
  #ticker: NodeJS.Timeout | undefined;
  #stopping = false;

  constructor(options: ProberOptions) {
    this.#options = options;
    this.#nextPort = options.firstPort;
    this.#states = options.targets.map((target) => ({ target, record: { ...target, sentAt: [], echoed: [] }, lastEchoAt: 0 }));
  }

  start(): void {
    this.#ticker = setInterval(() => this.#tick(), this.#options.intervalMs);
  }

  /** Starts watching for silence: probing stops once every target is silent, or at the time limit. */
  watch(): void {
    if (this.#watchStartedAt === undefined) this.#watchStartedAt = now();
  }

  /** Stops sending, waits one echo window so every datagram has its outcome, prints the record and exits. */
  stop(reason: StopReason): void {
    if (this.#stopping) return;
    this.#stopping = true;
    clearInterval(this.#ticker);
    setTimeout(() => {
      for (const socket of this.#openSockets) socket.close();
      const record: ProbeRecord = {
        type: "record",
        reason,
        firstPort: this.#options.firstPort,
        lastPort: this.#lastPortUsed,
        bindErrors: this.#bindErrors,
        watchStartedAt: this.#watchStartedAt ?? 0,
        targets: this.#states.map((state) => state.record),
      };
      process.stdout.write(`${JSON.stringify(record)}\n`, () => process.exit(0));
    }, this.#options.echoWindowMs);
  }

  #tick(): void {
    this.#checkWatch();
    if (this.#stopping) return;
    if (this.#nextPort > this.#options.lastPort) {
      this.stop("ports-exhausted");
      return;
    }
    const port = this.#nextPort;
    this.#nextPort += 1;
    this.#sendFrom(port);
  }

  #checkWatch(): void {
    const started = this.#watchStartedAt;
    if (started === undefined || this.#stopping) return;
    const at = now();
    if (at - started >= this.#options.timeoutMs) {
      this.stop("timeout");
      return;
    }
    const silent = this.#states.every((state) => at - Math.max(state.lastEchoAt, started) >= this.#options.silenceMs);
    if (silent) this.stop("silent");
  }

  /** Binds a fresh socket to `port` and sends one datagram to every target from it. */
  #sendFrom(port: number): void {
    const socket = createSocket("udp4");
    this.#openSockets.add(socket);
    const sentIndex = new Map<string, { state: TargetState; index: number }>();
    let bound = false;
    // A bind failure (EADDRINUSE) loses this tick. A send error after the bind loses only an echo.
    socket.on("error", () => {
      if (!bound) this.#bindErrors += 1;
      this.#close(socket);
    });
    socket.on("message", (message, remote) => {
      const entry = sentIndex.get(`${remote.address}:${remote.port}`);
      if (entry === undefined || message.length !== 4 || message.readUInt32BE(0) !== port) return;
      this.#recordEcho(entry.state, entry.index);
    });
    socket.bind(port, () => {
      bound = true;
      this.#lastPortUsed = port;
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(port, 0);
      for (const state of this.#states) {
        const index = state.record.sentAt.length;
        state.record.sentAt.push(Math.round(now() * 1000) / 1000);
        state.record.echoed.push(false);
        sentIndex.set(`${state.target.ip}:${state.target.port}`, { state, index });
        socket.send(payload, state.target.port, state.target.ip);
      }
      setTimeout(() => this.#close(socket), this.#options.echoWindowMs);
    });
  }

  #recordEcho(state: TargetState, index: number): void {
    if (state.record.echoed[index] === true) return;
    state.record.echoed[index] = true;
    state.lastEchoAt = now();
    this.#checkSteady();
  }

  /** Returns whether the newest `steadyCount` datagrams to the target up to some echo were all echoed. */
  #isSteady(state: TargetState): boolean {
    const echoed = state.record.echoed;
    let last = echoed.lastIndexOf(true);
    let run = 0;
    while (last >= 0 && echoed[last] === true && run < this.#options.steadyCount) {
      run += 1;
      last -= 1;
    }
    return run >= this.#options.steadyCount;
  }

  #checkSteady(): void {
    if (this.#steadyReported) return;
    if (!this.#states.every((state) => this.#isSteady(state))) return;
    this.#steadyReported = true;
    process.stdout.write(`${JSON.stringify({ type: "steady", at: now() })}\n`);
  }

  #close(socket: Socket): void {
    if (!this.#openSockets.delete(socket)) return;
    socket.close();
  }
}

const prober = new Prober(readOptions());
prober.start();
createInterface({ input: process.stdin })
  .on("line", (line) => {
    if (line.trim() === "") return;
    const message = JSON.parse(line) as { type?: string };
    if (message.type === "watch") prober.watch();
  })
  .on("close", () => prober.stop("stdin-closed"));
process.on("SIGTERM", () => prober.stop("signal"));
process.on("SIGINT", () => prober.stop("signal"));
