// Workload switchyard/echo-server: sends back every byte received on each TCP port and
// every datagram received on each UDP port, to its sender. With --sctp, a child process
// records every SCTP packet to those ports in the --sctp-arrivals file and replies to none
// of them (see sctp-receiver.ts for why).
// Usage: echo-server.ts --pod NS/NAME --pod-uid UID --tcp 80,81 --udp 80 [--sctp 80 --sctp-arrivals FILE]
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { parseArgs } from "node:util";

import { parsePortList } from "./routes.ts";
import { removeArrivals, startSctpReceiver } from "./sctp-receiver.ts";

const { values } = parseArgs({
  options: {
    pod: { type: "string", default: "" },
    "pod-uid": { type: "string", default: "" },
    tcp: { type: "string", default: "" },
    udp: { type: "string", default: "" },
    sctp: { type: "string", default: "" },
    "sctp-arrivals": { type: "string", default: "" },
  },
  strict: true,
});

// Registered before anything starts, so a SIGTERM during start-up still runs the exit handlers.
process.on("SIGTERM", () => process.exit(0));

// The SCTP receiver starts first: the runner calls the pod ready once the TCP and UDP ports
// are bound, and by then the receiver's raw socket is open too.
const sctpPorts = parsePortList(values.sctp);
if (sctpPorts.length > 0) {
  const arrivalsPath = values["sctp-arrivals"];
  if (arrivalsPath === "") throw new RangeError(`--sctp ${values.sctp} needs --sctp-arrivals FILE, the file that records the SCTP packets`);
  const receiver = await startSctpReceiver({ ports: sctpPorts, arrivalsPath });
  receiver.once("exit", (code, signal) => {
    console.error(`echo-server of pod ${values.pod}: the SCTP receiver exited with code ${String(code)}, signal ${String(signal)}. Exiting.`);
    process.exit(1);
  });
  // The receiver also dies with this process by PR_SET_PDEATHSIG. Killing it here and
  // removing the file keeps an orderly exit from leaving either behind.
  process.once("exit", () => {
    receiver.kill("SIGKILL");
    removeArrivals(arrivalsPath);
  });
  console.log(`echo-server of pod ${values.pod} recording SCTP ports ${sctpPorts.join(", ")} in ${arrivalsPath}`);
}

for (const port of parsePortList(values.tcp)) {
  const server = createServer((socket) => {
    socket.on("error", () => socket.destroy());
    socket.pipe(socket);
  });
  server.listen(port, "0.0.0.0", () => console.log(`echo-server of pod ${values.pod} listening on TCP port ${port}`));
}

for (const port of parsePortList(values.udp)) {
  const socket = createSocket("udp4");
  socket.on("message", (message, remote) => socket.send(message, remote.port, remote.address));
  socket.bind(port, "0.0.0.0", () => console.log(`echo-server of pod ${values.pod} listening on UDP port ${port}`));
}
