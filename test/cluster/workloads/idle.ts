// Workload switchyard/idle: does nothing until SIGTERM, for pods that only send (probe clients).
// Usage: idle.ts --pod NS/NAME --pod-uid UID
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { pod: { type: "string", default: "" }, "pod-uid": { type: "string", default: "" } },
  strict: true,
});
console.log(`idle workload of pod ${values.pod} started`);
// A timer keeps the event loop, and so the process, alive.
setInterval(() => {}, 1 << 30);
process.on("SIGTERM", () => process.exit(0));
