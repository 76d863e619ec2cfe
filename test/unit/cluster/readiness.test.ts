// Reading bound ports from /proc/PID/net tables.
import assert from "node:assert/strict";
import { test } from "node:test";

import { boundPorts, waitForPorts, workloadPorts } from "../../cluster/readiness.ts";

// Lines in the format of the kernel's /proc/net/tcp: port 0x0050 = 80 listening (0A),
// 0x0051 = 81 established (01), 0x1F90 = 8080 listening.
const tcpTable = [
  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
  "   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1371 1 0000000000000000 100 0 0 10 0",
  "   1: 0A630102:0051 0A630103:C350 01 00000000:00000000 00:00000000 00000000     0        0 1372 1 0000000000000000 20 4 30 10 -1",
  "   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1373 1 0000000000000000 100 0 0 10 0",
  "",
].join("\n");

test("listening TCP ports only", () => {
  assert.deepEqual([...boundPorts(tcpTable, "0A")].sort((a, b) => a - b), [80, 8080]);
  assert.deepEqual([...boundPorts(tcpTable, "01")], [81]);
});

test("ports expected per workload", () => {
  assert.deepEqual(workloadPorts({ kind: "http-server", port: 8080, routes: [] }), { tcp: [8080], udp: [] });
  assert.deepEqual(workloadPorts({ kind: "echo-server", tcpPorts: [80, 81], udpPorts: [80] }), { tcp: [80, 81], udp: [80] });
  assert.deepEqual(workloadPorts({ kind: "idle" }), { tcp: [], udp: [] });
});

test("waiting on an exited process fails", async () => {
  // PID 2^22 + 1 is above the kernel's maximum pid_max, so no process has it.
  await assert.rejects(waitForPorts({ pid: 4_194_305, tcp: [80], udp: [], timeoutMs: 100 }), /exited before binding its ports/);
});
