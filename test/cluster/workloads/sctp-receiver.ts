// The SCTP side of the echo-server workload and the arrivals file it shares with the probe
// client. The test kernel may have no SCTP sockets (CONFIG_IP_SCTP unset) and Node has no
// raw sockets, so a python3 child opens a raw IPv4 socket of protocol 132 in the pod's
// network namespace. It never sends anything back: it appends one line per SCTP packet to a
// served port to the arrivals file, and the probe client looks there for its own packet.
//
// Why no reply: Open vSwitch 3.1's userspace conntrack keys SCTP by the address pair alone.
// Once the other side of a pair has sent one packet, every SCTP packet between the two pods
// passes as established, so a reply to one probe would hide the result of later ones.
//
// Depends on nothing but Node, so the workload script stays a plain Node program.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

/** Folder of the arrivals files on the host. Pod network namespaces share the host's file system. */
export const sctpArrivalsDir = "/run/switchyard-sctp-arrivals";

/** Time the python3 receiver gets to open its raw socket. */
const receiverStartTimeoutMs = 5000;

/** One SCTP packet the receiver saw, as one line of the arrivals file. */
export interface SctpArrival {
  /** Source IPv4 address in dotted decimal. */
  source: string;
  destinationPort: number;
  sourcePort: number;
  /** The Initiate Tag when the first chunk is an INIT, otherwise the Verification Tag. */
  tag: number;
}

const podUidPattern = /^[A-Za-z0-9-]+$/;

/**
 * Returns the arrivals file of the pod with this uid. The runner passes it to the echo
 * server, and probe.ts computes the same path from the target Pod. Raises RangeError for a
 * uid that is not a file name (Kubernetes uids are UUIDs).
 */
export function sctpArrivalsPath(podUid: string): string {
  if (!podUidPattern.test(podUid)) {
    throw new RangeError(`invalid pod uid ${JSON.stringify(podUid)} for an SCTP arrivals file: use letters, digits and '-' only`);
  }
  return join(sctpArrivalsDir, `${podUid}.arrivals`);
}

/** Returns the arrivals file line of `arrival`, newline included: "SOURCE DPORT SPORT TAG". */
export function formatArrival(arrival: SctpArrival): string {
  return `${arrival.source} ${arrival.destinationPort} ${arrival.sourcePort} ${arrival.tag}\n`;
}

const arrivalPattern = /^(\d{1,3}(?:\.\d{1,3}){3}) (\d{1,5}) (\d{1,5}) (\d{1,10})$/;

/**
 * Parses the text of an arrivals file. Skips a last line without its newline, because the
 * receiver may be writing it, and any line that does not match the format.
 */
export function parseArrivals(text: string): SctpArrival[] {
  const lines = text.split("\n");
  lines.pop();
  const arrivals: SctpArrival[] = [];
  for (const line of lines) {
    const match = arrivalPattern.exec(line);
    if (match === null) continue;
    const [, source = "", destinationPort = "", sourcePort = "", tag = ""] = match;
    arrivals.push({ source, destinationPort: Number(destinationPort), sourcePort: Number(sourcePort), tag: Number(tag) });
  }
  return arrivals;
}

/**
 * The receiver: argv[1] is the arrivals file, argv[2] the served ports separated by commas,
 * argv[3] the PID of the workload. PR_SET_PDEATHSIG (prctl option 1) has the kernel kill it
 * when the workload exits, even by SIGKILL. The PID check covers a workload that exited
 * before prctl ran. A raw IPv4 socket returns the IP header with the packet, whose low
 * nibble of byte 0 is the header length in 32-bit words. In the SCTP packet, byte 12 is the
 * first chunk's type (1 is INIT) and bytes 16 to 19 are an INIT's Initiate Tag.
 */
const receiverScript = `
import ctypes, os, signal, socket, struct, sys
ctypes.CDLL(None).prctl(1, signal.SIGKILL)
if os.getppid() != int(sys.argv[3]):
    sys.exit("the echo-server workload exited before the SCTP receiver started")
ports = {int(port) for port in sys.argv[2].split(",")}
receiver = socket.socket(socket.AF_INET, socket.SOCK_RAW, 132)
arrivals = open(sys.argv[1], "w", buffering=1)
print("ready", flush=True)
while True:
    datagram = receiver.recv(65535)
    sctp = datagram[(datagram[0] & 0x0F) * 4:]
    if len(sctp) < 12:
        continue
    source_port, destination_port, tag = struct.unpack("!HHI", sctp[:8])
    if destination_port not in ports:
        continue
    if len(sctp) >= 20 and sctp[12] == 1:
        tag = struct.unpack("!I", sctp[16:20])[0]
    arrivals.write("%s %d %d %d\\n" % (socket.inet_ntoa(datagram[12:16]), destination_port, source_port, tag))
`;

/**
 * Starts the receiver for `ports` in the caller's network namespace and resolves once its raw
 * socket is open. The arrivals file is created empty, replacing an older one. Rejects with
 * the receiver's exit status when it exits first or does not start within 5 s.
 * The receiver dies with the calling process.
 */
export async function startSctpReceiver(options: { ports: readonly number[]; arrivalsPath: string }): Promise<ChildProcess> {
  mkdirSync(sctpArrivalsDir, { recursive: true });
  const child = spawn("python3", ["-c", receiverScript, options.arrivalsPath, options.ports.join(","), String(process.pid)], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the SCTP receiver (python3) did not open its raw socket within ${receiverStartTimeoutMs} ms`)), receiverStartTimeoutMs);
    const fail = (problem: string): void => {
      clearTimeout(timer);
      reject(new Error(`the SCTP receiver (python3) ${problem}`));
    };
    child.once("error", (error) => fail(`could not start: ${error.message}; install python3`));
    child.once("exit", (code, signal) => fail(`exited with code ${String(code)}, signal ${String(signal)} before opening its raw socket. Its stderr is in the workload log`));
    child.stdout?.once("data", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  child.removeAllListeners("exit");
  child.removeAllListeners("error");
  return child;
}

/** Removes an arrivals file. Idempotent. */
export function removeArrivals(arrivalsPath: string): void {
  rmSync(arrivalsPath, { force: true });
}
