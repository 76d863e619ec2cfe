// The SCTP probe the conformance matrix relies on, without OVS: the echo server's SCTP
// receiver in one network namespace and the probe client in another, joined by a veth pair.
// Checks what the matrix takes for granted: a served port records the INIT, an unserved one
// does not, nothing ever comes back, and the receiver dies with the workload.
// Needs root, iproute2, socat and python3.
import { execFileSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";

import { createNamespaces, deleteNamespaces, run, spawnInNetns } from "../../lab/index.ts";
import { sctpArrivalsPath } from "../../cluster/workloads/sctp-receiver.ts";

const isRoot = process.getuid?.() === 0;
const hasTools = ["socat", "python3"].every((command) => {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
});

const senderNetns = "symsp-a";
const receiverNetns = "symsp-b";
const senderIp = "10.251.0.1";
const receiverIp = "10.251.0.2";
const podUid = "symsp-0000-4000-8000-000000000001";
const arrivalsPath = sctpArrivalsPath(podUid);
const echoServerPath = fileURLToPath(new URL("../../cluster/workloads/echo-server.ts", import.meta.url));
const probeClientPath = fileURLToPath(new URL("../../cluster/workloads/probe-client.ts", import.meta.url));

/**
 * An INIT written byte by byte. The common header has source port 0x1234, destination port
 * 80, verification tag 0 and a zero checksum, which the receiver does not check. The chunk
 * has type 1, flags 0, length 20, Initiate Tag 0xDEADBEEF, a_rwnd 65536, one outbound and
 * one inbound stream, and initial TSN 1.
 */
const literalInit = Buffer.from("123400500000000000000000" + "01000014deadbeef0001000000010001" + "00000001", "hex");

interface Outcome {
  reachable: boolean;
  reason?: string;
}

async function startEchoServer(): Promise<ChildProcess> {
  const child = spawnInNetns(
    [process.execPath, echoServerPath, "--pod", "t/b", "--pod-uid", podUid, "--tcp", "", "--udp", "", "--sctp", "80", "--sctp-arrivals", arrivalsPath],
    { netns: receiverNetns, spawnOptions: { stdio: ["ignore", "pipe", "inherit"] } },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the echo server did not report its SCTP receiver within 10 s")), 10_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("recording SCTP ports")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the echo server exited with code ${String(code)} before its SCTP receiver was up`));
    });
  });
  return child;
}

/** Returns the PIDs of the direct children of `pid`, read from /proc. */
function childPids(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
}

function isRunning(pid: number): boolean {
  try {
    // A zombie keeps its /proc entry, so the state letter decides.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await sleep(20);
  }
  return condition();
}

async function probe(targets: readonly object[]): Promise<Outcome[]> {
  const output = await run([process.execPath, probeClientPath, "--targets", JSON.stringify(targets), "--timeout-ms", "1000", "--source-ip", senderIp], { netns: senderNetns, timeoutMs: 20_000 });
  return JSON.parse(output) as Outcome[];
}

/** Returns the IPv4 InReceives counter of the sender's namespace, from its /proc/net/snmp. */
async function senderIpInReceives(): Promise<number> {
  const lines = (await run(["cat", "/proc/net/snmp"], { netns: senderNetns })).split("\n").filter((line) => line.startsWith("Ip: "));
  const [names, values] = lines.map((line) => line.split(/\s+/));
  const index = names?.indexOf("InReceives") ?? -1;
  assert.ok(index > 0, `InReceives in /proc/net/snmp: ${lines.join(" | ")}`);
  return Number(values?.[index]);
}

/** Sends `packet` as one IPv4 datagram of protocol 132 from the sender's namespace with socat. */
async function sendFromSender(packet: Buffer): Promise<void> {
  const socat = spawnInNetns(["socat", "-u", "STDIN", `IP4-SENDTO:${receiverIp}:132`], { netns: senderNetns, spawnOptions: { stdio: ["pipe", "ignore", "inherit"] } });
  const exited = new Promise<number | null>((resolve) => socat.once("exit", resolve));
  socat.stdin?.end(packet);
  assert.equal(await exited, 0, "socat exit code");
}

function arrivalLines(): string[] {
  return readFileSync(arrivalsPath, "utf8").split("\n").filter((line) => line !== "");
}

describe("SCTP probe through a raw receiver", { skip: !isRoot ? "needs root" : !hasTools ? "needs socat and python3" : false, timeout: 60_000 }, () => {
  const started: ChildProcess[] = [];

  before(async () => {
    await deleteNamespaces([senderNetns, receiverNetns]);
    await createNamespaces([senderNetns, receiverNetns]);
    await run(["ip", "link", "add", "symsp-va", "netns", senderNetns, "type", "veth", "peer", "name", "symsp-vb", "netns", receiverNetns]);
    for (const [netns, device, address] of [[senderNetns, "symsp-va", senderIp], [receiverNetns, "symsp-vb", receiverIp]] as const) {
      await run(["ip", "addr", "add", `${address}/24`, "dev", device], { netns });
      await run(["ip", "link", "set", device, "up"], { netns });
      await run(["ip", "link", "set", "lo", "up"], { netns });
    }
  });

  after(async () => {
    for (const child of started) {
      if (child.pid !== undefined && isRunning(child.pid)) child.kill("SIGKILL");
    }
    await deleteNamespaces([senderNetns, receiverNetns]);
    rmSync(arrivalsPath, { force: true });
  });

  test("served port records, unserved does not", async () => {
    const echo = await startEchoServer();
    started.push(echo);
    const outcomes = await probe([
      { host: receiverIp, port: 80, protocol: "sctp", arrivals: arrivalsPath },
      { host: receiverIp, port: 81, protocol: "sctp", arrivals: arrivalsPath },
      { host: receiverIp, port: 80, protocol: "sctp", arrivals: sctpArrivalsPath("symsp-missing") },
    ]);
    assert.deepEqual(outcomes[0], { reachable: true });
    assert.deepEqual(outcomes[1], { reachable: false, reason: "timeout" });
    assert.deepEqual(outcomes[2], { reachable: false, reason: `no SCTP receiver: ${sctpArrivalsPath("symsp-missing")} does not exist` });

    // A client probing only SCTP resends an INIT it has not seen arrive, so the third probe,
    // which watches a missing file, sends its INIT up to three times: count distinct INITs.
    const lines = arrivalLines();
    const inits = new Set(lines.map((line) => line.split(" ").slice(2).join(" ")));
    assert.equal(inits.size, 2, `INITs of both probes of port 80 recorded, none for port 81:\n${lines.join("\n")}`);
    for (const line of lines) assert.match(line, /^10\.251\.0\.1 80 \d+ \d+$/);
    const sends = [...inits].map((init) => lines.filter((line) => line.endsWith(` ${init}`)).length);
    assert.equal(Math.max(...sends), 3, `the unseen INIT is sent three times in all:\n${lines.join("\n")}`);
  });

  test("arrival line of literal INIT", async () => {
    const before = arrivalLines().length;
    await sendFromSender(literalInit);
    const recorded = await waitUntil(() => arrivalLines().length > before, 2000);
    assert.ok(recorded, "the INIT reached the arrivals file within 2 s");
    assert.equal(arrivalLines().at(-1), `${senderIp} 80 ${0x1234} ${0xdeadbeef}`);
  });

  test("receiver never replies", async () => {
    // The probes above resolved the neighbor, so from now on only a reply could arrive.
    const before = await senderIpInReceives();
    const outcomes = await probe([1, 2, 3].map(() => ({ host: receiverIp, port: 80, protocol: "sctp", arrivals: arrivalsPath })));
    assert.deepEqual(outcomes, [{ reachable: true }, { reachable: true }, { reachable: true }]);
    await sleep(300);
    assert.equal(await senderIpInReceives(), before, "IPv4 packets received by the sender's namespace");
  });

  test("SIGTERM stops receiver and removes file", async () => {
    const echo = started[0];
    assert.ok(echo?.pid !== undefined, "the echo server of the first test runs");
    const receivers = childPids(echo.pid);
    assert.equal(receivers.length, 1, `the echo server has one child, the receiver: ${receivers.join(", ")}`);
    const receiverPid = receivers[0] ?? 0;

    echo.kill("SIGTERM");
    assert.ok(await waitUntil(() => !isRunning(echo.pid ?? 0), 5000), "the echo server exits within 5 s");
    assert.ok(await waitUntil(() => !isRunning(receiverPid), 2000), `receiver ${receiverPid} exits with it`);
    assert.equal(existsSync(arrivalsPath), false, `${arrivalsPath} is removed`);
  });

  test("SIGKILL of workload kills receiver", async () => {
    const echo = await startEchoServer();
    started.push(echo);
    const [receiverPid = 0] = childPids(echo.pid ?? 0);
    assert.ok(isRunning(receiverPid), "the receiver runs");

    echo.kill("SIGKILL");
    assert.ok(await waitUntil(() => !isRunning(receiverPid), 2000), `receiver ${receiverPid} exits after its parent was killed (PR_SET_PDEATHSIG)`);
  });
});
