// OVSDB benchmarks (run: node --expose-gc test/bench/ovsdb.bench.ts, or npm run bench ovsdb).
//
// 1. Add N internal ports (default 1000, env SYD_BENCH_PORTS) to a netdev bridge. Ours
//    uses one transaction per port and waits for each ofport through the replica. The
//    references, in the same run: `ovs-vsctl add-port` once per port (it waits for
//    ovs-vswitchd too), and one batched `ovs-vsctl -- add-port ... -- add-port ...` call.
// 2. A replica of 10,000 Interface rows: time to initial sync and heapUsed growth after gc,
//    against `ovsdb-client dump` of the same table.
// 3. Framing of a 5 MB reply arriving in 64 KiB chunks: JsonStreamScanner plus JSON.parse,
//    against JSON.parse of the same text in one piece (the lower bound, no framing at all).
// Needs root (network namespace for ovs-vswitchd). Cleans up the servers and namespace it made.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { JsonStreamScanner, OvsdbClient, Replica, Vswitch, namedUuid, wireSet } from "../../ovsdb/index.ts";
import type { Operation } from "../../ovsdb/index.ts";

const run = promisify(execFile);
const PORTS = Number(process.env["SYD_BENCH_PORTS"] ?? 1000);
const REPLICA_ROWS = 10_000;
const BRIDGE = "sydbench";
const SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema";

type Daemons = { dir: string; socket: string; namespace: string | undefined; pids: number[] };

async function startDaemons(options: { vswitchd: boolean }): Promise<Daemons> {
  const dir = await mkdtemp(join(tmpdir(), "syd-bench-"));
  const socket = join(dir, "db.sock");
  await run("ovsdb-tool", ["create", join(dir, "conf.db"), SCHEMA]);
  await run("ovsdb-server", [join(dir, "conf.db"), `--remote=punix:${socket}`, `--pidfile=${join(dir, "ovsdb.pid")}`, `--unixctl=${join(dir, "ovsdb.ctl")}`, `--log-file=${join(dir, "ovsdb.log")}`, "--detach", "--no-chdir"]);
  const daemons: Daemons = { dir, socket, namespace: undefined, pids: [Number(await readFile(join(dir, "ovsdb.pid"), "utf8"))] };
  await run("ovs-vsctl", [`--db=unix:${socket}`, "--no-wait", "init"]);
  if (options.vswitchd) {
    daemons.namespace = `sydbench${process.pid % 1000}`;
    await run("ip", ["netns", "add", daemons.namespace]);
    await run("ip", ["netns", "exec", daemons.namespace, "ovs-vswitchd", `unix:${socket}`, `--pidfile=${join(dir, "vswitchd.pid")}`, `--unixctl=${join(dir, "vswitchd.ctl")}`, `--log-file=${join(dir, "vswitchd.log")}`, "--detach", "--no-chdir"], { env: { ...process.env, OVS_RUNDIR: dir } });
    daemons.pids.push(Number(await readFile(join(dir, "vswitchd.pid"), "utf8")));
  }
  return daemons;
}

async function stopDaemons(daemons: Daemons): Promise<void> {
  for (const pid of [...daemons.pids].reverse()) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // Already gone.
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
  if (daemons.namespace !== undefined) await run("ip", ["netns", "del", daemons.namespace]);
  await rm(daemons.dir, { recursive: true, force: true });
}

function vsctl(daemons: Daemons, args: string[]): Promise<unknown> {
  return run("ovs-vsctl", [`--db=unix:${daemons.socket}`, "--timeout=600", ...args], { maxBuffer: 64 * 1024 * 1024 });
}

async function resetBridge(daemons: Daemons): Promise<void> {
  await vsctl(daemons, ["--if-exists", "del-br", BRIDGE, "--", "add-br", BRIDGE, "--", "set", "Bridge", BRIDGE, "datapath_type=netdev"]);
}

async function timed(label: string, action: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await action();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(`${label}: ${ms.toFixed(0)} ms (${(ms / PORTS).toFixed(2)} ms per port)`);
  return ms;
}

async function benchPorts(): Promise<void> {
  const daemons = await startDaemons({ vswitchd: true });
  try {
    const client = await OvsdbClient.connect(`unix:${daemons.socket}`);
    const vswitch = await Vswitch.open(client);
    const names = Array.from({ length: PORTS }, (_, i) => `sydq${i}`);

    await resetBridge(daemons);
    const ours = await timed(`switchyard addPort + waitForOfport x${PORTS}`, async () => {
      for (const name of names) {
        await vswitch.addPort({ bridge: BRIDGE, name, type: "internal" });
        await vswitch.waitForOfport(name, { timeoutMs: 60_000 });
      }
    });

    await resetBridge(daemons);
    const perPort = await timed(`ovs-vsctl add-port x${PORTS}`, async () => {
      for (const name of names) {
        await vsctl(daemons, ["add-port", BRIDGE, name, "--", "set", "Interface", name, "type=internal"]);
      }
    });

    await resetBridge(daemons);
    const batched = await timed(`ovs-vsctl batched (1 call, ${PORTS} add-port)`, async () => {
      await vsctl(daemons, names.flatMap((name) => ["--", "add-port", BRIDGE, name, "--", "set", "Interface", name, "type=internal"]));
    });

    console.log(`ratio ovs-vsctl per port / switchyard: ${(perPort / ours).toFixed(2)}x`);
    console.log(`ratio switchyard / ovs-vsctl batched: ${(ours / batched).toFixed(2)}x`);
    await vsctl(daemons, ["--if-exists", "del-br", BRIDGE]);
    await vswitch.close();
    client.close();
  } finally {
    await stopDaemons(daemons);
  }
}

async function benchReplica(): Promise<void> {
  const daemons = await startDaemons({ vswitchd: false });
  try {
    const client = await OvsdbClient.connect(`unix:${daemons.socket}`);
    // Interface and Port rows are garbage collected unless a bridge references them, so
    // build the full chain. No ovs-vswitchd runs here, so nothing tries to open them.
    const ops: Operation[] = [];
    const ports = [];
    for (let i = 0; i < REPLICA_ROWS; i++) {
      ops.push({ op: "insert", table: "Interface", row: { name: `sydr${i}`, type: "internal", external_ids: ["map", [["pod", `ns/pod-${i}`]]] }, "uuid-name": `i${i}` });
      ops.push({ op: "insert", table: "Port", row: { name: `sydr${i}`, interfaces: namedUuid(`i${i}`) }, "uuid-name": `p${i}` });
      ports.push(namedUuid(`p${i}`));
    }
    ops.push({ op: "insert", table: "Bridge", row: { name: BRIDGE, ports: wireSet(ports) }, "uuid-name": "b" });
    ops.push({ op: "mutate", table: "Open_vSwitch", where: [], mutations: [["bridges", "insert", wireSet([namedUuid("b")])]] });
    await client.transact("Open_vSwitch", ops, { timeoutMs: 120_000 });

    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = process.hrtime.bigint();
    const replica = await Replica.start(client, { db: "Open_vSwitch", tables: { Interface: {} } });
    const syncMs = Number(process.hrtime.bigint() - started) / 1e6;
    gc?.();
    const heapMb = (process.memoryUsage().heapUsed - heapBefore) / (1024 * 1024);
    const rows = replica.rows("Interface").size;

    const dumpStarted = process.hrtime.bigint();
    await run("ovsdb-client", ["dump", `unix:${daemons.socket}`, "Open_vSwitch", "Interface"], { maxBuffer: 256 * 1024 * 1024 });
    const dumpMs = Number(process.hrtime.bigint() - dumpStarted) / 1e6;

    console.log(`replica initial sync of ${rows} Interface rows: ${syncMs.toFixed(0)} ms`);
    console.log(gc === undefined ? "heapUsed delta: not measured (run with --expose-gc)" : `heapUsed delta after gc: ${heapMb.toFixed(1)} MB (${((heapMb * 1024 * 1024) / rows).toFixed(0)} bytes per row)`);
    console.log(`ovsdb-client dump Interface (reference): ${dumpMs.toFixed(0)} ms; ratio dump / replica sync: ${(dumpMs / syncMs).toFixed(2)}x`);
    await replica.stop();
    client.close();
  } finally {
    await stopDaemons(daemons);
  }
}

function benchFraming(): void {
  const rows = Array.from({ length: 40_000 }, (_, i) => `"${i.toString(16).padStart(8, "0")}-0000-4000-8000-000000000000":{"initial":{"name":"sydr${i}","type":"internal","external_ids":["map",[["pod","ns/pod-${i}"]]]}}`);
  const text = `{"id":2,"result":{"Interface":{${rows.join(",")}}},"error":null}`;
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += 65_536) chunks.push(bytes.subarray(offset, offset + 65_536));
  const rounds = 20;

  let started = process.hrtime.bigint();
  for (let round = 0; round < rounds; round++) {
    const scanner = new JsonStreamScanner();
    for (const chunk of chunks) for (const message of scanner.push(chunk)) JSON.parse(message);
  }
  const scanMs = Number(process.hrtime.bigint() - started) / 1e6 / rounds;

  started = process.hrtime.bigint();
  for (let round = 0; round < rounds; round++) JSON.parse(bytes.toString("utf8"));
  const parseMs = Number(process.hrtime.bigint() - started) / 1e6 / rounds;

  console.log(`framing ${(bytes.length / 1e6).toFixed(1)} MB reply in ${chunks.length} chunks: scanner + JSON.parse ${scanMs.toFixed(1)} ms, JSON.parse alone ${parseMs.toFixed(1)} ms, ratio ${(scanMs / parseMs).toFixed(2)}x`);
}

const { stdout: kernel } = await run("uname", ["-r"]);
console.log(`ovsdb benchmark: ${PORTS} ports, ${REPLICA_ROWS} replica rows, kernel ${kernel.trim()}, Node ${process.version}`);
benchFraming();
await benchReplica();
await benchPorts();
