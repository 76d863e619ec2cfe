// Probe client, run inside a pod's network namespace by the probe helpers: tries each target
// at once and prints one JSON array with a result per target, in input order.
// TCP: reachable when the connection is accepted. UDP: reachable when a random payload comes
// back unchanged (the echo server's round trip). Each try gives up after --timeout-ms.
// Usage: probe-client.ts --targets '[{"host":"10.0.0.5","port":80,"protocol":"tcp"}]' [--timeout-ms 1000]
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { parseArgs } from "node:util";

interface Target {
  host: string;
  port: number;
  protocol: "tcp" | "udp";
}

interface Outcome {
  reachable: boolean;
  /** Why the target counts as blocked: "timeout" or the socket error code. */
  reason?: string;
}

const { values } = parseArgs({
  options: { targets: { type: "string", default: "[]" }, "timeout-ms": { type: "string", default: "1000" } },
  strict: true,
});
const targets = JSON.parse(values.targets) as Target[];
const timeoutMs = Number(values["timeout-ms"]);

function probeTcp(target: Target): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => finish({ reachable: false, reason: "timeout" }), timeoutMs);
    function finish(outcome: Outcome): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    }
    socket.on("connect", () => finish({ reachable: true }));
    socket.on("error", (error: NodeJS.ErrnoException) => finish({ reachable: false, reason: error.code ?? error.message }));
  });
}

function probeUdp(target: Target): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = createSocket("udp4");
    const payload = randomBytes(16);
    const timer = setTimeout(() => finish({ reachable: false, reason: "timeout" }), timeoutMs);
    function finish(outcome: Outcome): void {
      clearTimeout(timer);
      socket.close();
      resolve(outcome);
    }
    socket.on("message", (message) => {
      if (message.equals(payload)) finish({ reachable: true });
    });
    // An ICMP port unreachable shows up as ECONNREFUSED on a connected socket.
    socket.on("error", (error: NodeJS.ErrnoException) => finish({ reachable: false, reason: error.code ?? error.message }));
    // A failed connect (no route, for example) calls back with the error instead of emitting it.
    socket.connect(target.port, target.host, (error?: Error) => {
      if (error === undefined || error === null) socket.send(payload);
      else finish({ reachable: false, reason: (error as NodeJS.ErrnoException).code ?? error.message });
    });
  });
}

const outcomes = await Promise.all(targets.map((target) => (target.protocol === "udp" ? probeUdp(target) : probeTcp(target))));
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
