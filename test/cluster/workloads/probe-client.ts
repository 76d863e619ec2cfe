// Probe client, run inside a pod's network namespace by the probe helpers: tries each target
// at once and prints one JSON array with a result per target, in input order.
// TCP: reachable when the connection is accepted. UDP: reachable when a random payload comes
// back unchanged (the echo server's round trip). SCTP: reachable when an INIT with a random
// Initiate Tag shows up in the target's arrivals file, which its SCTP receiver writes without
// ever replying (see sctp-receiver.ts). Each try gives up after --timeout-ms.
// Usage: probe-client.ts --targets '[{"host":"10.0.0.5","port":80,"protocol":"tcp"}]' [--timeout-ms 1000] [--source-ip 10.0.0.4]
import { spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { createSocket } from "node:dgram";
import { readFile } from "node:fs/promises";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";

import { buildSctpPacket, initChunk } from "../../lab/sctp-packet.ts";
import { parseProbeTargets } from "./probe-targets.ts";
import type { ProbeTargetSpec } from "./probe-targets.ts";
import { parseArrivals } from "./sctp-receiver.ts";

interface Outcome {
  reachable: boolean;
  /** Why the target counts as blocked: "timeout" or the socket error code. */
  reason?: string;
}

const { values } = parseArgs({
  options: {
    targets: { type: "string", default: "[]" },
    "timeout-ms": { type: "string", default: "1000" },
    "source-ip": { type: "string", default: "" },
  },
  strict: true,
});
const targets = parseProbeTargets(values.targets);
const timeoutMs = Number(values["timeout-ms"]);
/** Interval between two reads of an SCTP arrivals file. */
const arrivalsPollMs = 50;
/**
 * Times after the first INIT at which an INIT that has not arrived is sent again, with the same
 * port and tag. The userspace datapath drops a tunnelled packet while it resolves the remote
 * node's address, and unlike TCP, one INIT has no retransmission. Only a client that probes
 * SCTP alone resends: spawning socat blocks the event loop, which would delay TCP and UDP timers.
 */
const resendAfterMs = [250, 500] as const;
const resendInits = targets.every((target) => target.protocol === "sctp");

function probeTcp(target: ProbeTargetSpec): Promise<Outcome> {
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

function probeUdp(target: ProbeTargetSpec): Promise<Outcome> {
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

/** An INIT on its way: the fields that identify it in the arrivals file, or why sending failed. */
type SentInit = { sourcePort: number; initiateTag: number; packet: Buffer; host: string } | { error: string };

/** Sends one INIT to the target from a random source port with a random Initiate Tag, which distinguishes this probe from every other one. */
async function sendInit(target: ProbeTargetSpec): Promise<SentInit> {
  const sourcePort = randomInt(1024, 65536);
  const initiateTag = randomInt(1, 2 ** 32);
  const init = initChunk({ initiateTag, receiverWindow: 65536, outboundStreams: 1, inboundStreams: 1, initialTsn: initiateTag });
  const packet = buildSctpPacket({ sourcePort, destinationPort: target.port, verificationTag: 0, chunks: [init] });
  const error = await sendRawSctp({ host: target.host, packet });
  return error === undefined ? { sourcePort, initiateTag, packet, host: target.host } : { error };
}

/** Waits until the target's arrivals file lists the INIT `sent`. */
async function awaitArrival(target: ProbeTargetSpec, sent: SentInit): Promise<Outcome> {
  if ("error" in sent) return { reachable: false, reason: sent.error };
  const { sourcePort, initiateTag } = sent;
  const arrivalsPath = target.arrivals ?? "";
  const start = Date.now();
  const deadline = start + timeoutMs;
  const resends = resendInits ? [...resendAfterMs] : [];
  let fileSeen = false;
  for (;;) {
    const text = await readArrivals(arrivalsPath);
    fileSeen ||= text !== undefined;
    const arrived = parseArrivals(text ?? "").some(
      (arrival) =>
        arrival.tag === initiateTag && arrival.sourcePort === sourcePort && arrival.destinationPort === target.port && (values["source-ip"] === "" || arrival.source === values["source-ip"]),
    );
    if (arrived) return { reachable: true };
    if (Date.now() >= deadline) return { reachable: false, reason: fileSeen ? "timeout" : `no SCTP receiver: ${arrivalsPath} does not exist` };
    if (resends.length > 0 && Date.now() - start >= (resends[0] ?? 0)) {
      resends.shift();
      await sendRawSctp({ host: sent.host, packet: sent.packet });
    }
    await sleep(arrivalsPollMs);
  }
}

async function readArrivals(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Sends `packet` as the payload of an IPv4 datagram of protocol 132 with socat, because Node
 * has no raw sockets. Returns socat's error text when it fails, otherwise undefined.
 */
function sendRawSctp(options: { host: string; packet: Buffer }): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socat = spawn("socat", ["-u", "STDIN", `IP4-SENDTO:${options.host}:132`], { stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    socat.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    socat.once("error", (error) => resolve(`socat could not start: ${error.message}`));
    socat.once("close", (code) => resolve(code === 0 ? undefined : `socat exited with code ${String(code)}: ${stderr.trim()}`));
    // socat may exit before reading, for example when it cannot resolve the host. Its exit
    // code reports that, so the write error (EPIPE) is not a second failure.
    socat.stdin.on("error", () => {});
    // One write below PIPE_BUF reaches socat in one read, so it sends one datagram.
    socat.stdin.end(options.packet);
  });
}

function probeTarget(target: ProbeTargetSpec, sent: SentInit | undefined): Promise<Outcome> {
  switch (target.protocol) {
    case "tcp":
      return probeTcp(target);
    case "udp":
      return probeUdp(target);
    case "sctp":
      return awaitArrival(target, sent ?? { error: "no INIT sent" });
  }
}

// Every INIT goes out before any TCP or UDP timer starts. Spawning socat blocks the event
// loop, and on a loaded machine a timer that runs late would end a TCP or UDP probe as
// "timeout" before the socket event queued behind it is handled.
const sentInits = await Promise.all(targets.map((target) => (target.protocol === "sctp" ? sendInit(target) : undefined)));
const outcomes = await Promise.all(targets.map((target, index) => probeTarget(target, sentInits[index])));
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
