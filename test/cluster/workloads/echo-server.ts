// Workload switchyard/echo-server: sends back every byte received on each TCP port and
// every datagram received on each UDP port, to its sender.
// Usage: echo-server.ts --pod NS/NAME --pod-uid UID --tcp 80,81 --udp 80
import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { parseArgs } from "node:util";

import { parsePortList } from "./routes.ts";

const { values } = parseArgs({
  options: {
    pod: { type: "string", default: "" },
    "pod-uid": { type: "string", default: "" },
    tcp: { type: "string", default: "" },
    udp: { type: "string", default: "" },
  },
  strict: true,
});

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

process.on("SIGTERM", () => process.exit(0));
