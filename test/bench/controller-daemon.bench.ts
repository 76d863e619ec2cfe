// Benchmarks of the controller daemon's hot paths, each against a reference measured in the
// same run: watch-stream decoding (against node:readline plus JSON.parse), node IPAM
// allocation (against formatting the same CIDRs only), and the agent's resync diff
// (against serialising both slices). Run: node test/bench/controller-daemon.bench.ts
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { performance } from "node:perf_hooks";
import { diffSlices } from "../../agent/policyclient/diff.ts";
import { LineDecoder, decodeMessage, encodeMessage } from "../../controller/distribution/protocol.ts";
import { NodeCidrAllocator } from "../../controller/ipam/allocator.ts";
import { formatAddress } from "../../common/net/cidr.ts";
import type { AddressGroup, InternalPolicy, NodeSlice, SliceEvent } from "../../controller/networkpolicy/types.ts";

function report(name: string, options: { ms: number; referenceMs: number; units: number; unit: string }): void {
  const rate = (options.units / options.ms) * 1000;
  console.log(
    `${name}: ${options.ms.toFixed(1)} ms (${Math.round(rate).toLocaleString("en-US")} ${options.unit}/s), ` +
      `reference ${options.referenceMs.toFixed(1)} ms, ratio ${(options.ms / options.referenceMs).toFixed(2)}`,
  );
}

async function time(work: () => unknown): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** Lines of member events, 20 addresses each, cut into 16 KiB chunks as TLS delivers them. */
function watchStream(lines: number): Buffer[] {
  const text: string[] = [];
  for (let i = 0; i < lines; i++) {
    const members = Array.from({ length: 20 }, (_, j) => ({ ip: `10.${(i >> 8) & 255}.${i & 255}.${j}`, namedPorts: [] }));
    const event: SliceEvent = { type: "AddressGroupMembersAdded", generation: i + 1, groupId: "0123456789abcdef", members };
    text.push(encodeMessage({ type: "events", events: [event] }));
  }
  const all = Buffer.from(text.join(""));
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < all.length; offset += 16384) chunks.push(all.subarray(offset, offset + 16384));
  return chunks;
}

async function benchDecoding(): Promise<void> {
  const chunks = watchStream(50_000);
  const bytes = chunks.reduce((sum, c) => sum + c.length, 0);
  let decoded = 0;
  const ms = await time(() => {
    const decoder = new LineDecoder();
    for (const chunk of chunks) for (const line of decoder.push(chunk)) if (decodeMessage(line).type === "events") decoded += 1;
  });
  let parsed = 0;
  const referenceMs = await time(async () => {
    const lines = createInterface({ input: Readable.from(chunks), crlfDelay: Infinity });
    for await (const line of lines) if ((JSON.parse(line) as { type: string }).type === "events") parsed += 1;
  });
  if (decoded !== parsed) throw new Error(`decoded ${decoded} lines but the reference parsed ${parsed}`);
  report(`watch decoding, ${decoded} lines, ${(bytes / 1e6).toFixed(1)} MB`, { ms, referenceMs, units: bytes / 1e6, unit: "MB" });
}

async function benchIpam(): Promise<void> {
  const nodes = 65_536;
  const ipam = new NodeCidrAllocator({ clusterCIDRs: ["10.0.0.0/8", "fd00::/48"], nodeCIDRMaskSizeIPv4: 24, nodeCIDRMaskSizeIPv6: 64 });
  const ms = await time(() => {
    for (let i = 0; i < nodes; i++) ipam.allocate(`node-${i}`);
  });
  const formatted: string[] = [];
  const referenceMs = await time(() => {
    for (let i = 0; i < nodes; i++) {
      formatted.push(`${formatAddress("IPv4", 0x0a000000n + (BigInt(i) << 8n))}/24`, `${formatAddress("IPv6", (0xfd00n << 112n) + (BigInt(i) << 64n))}/64`);
    }
  });
  report(`IPAM dual-stack allocation, ${nodes} nodes`, { ms, referenceMs, units: nodes, unit: "nodes" });
}

function policy(i: number, port: number): InternalPolicy {
  return {
    id: `ns-${i % 50}/p-${i}/uid-${i}`,
    namespace: `ns-${i % 50}`,
    name: `p-${i}`,
    uid: `uid-${i}`,
    appliedToGroup: `a-${i % 200}`,
    policyTypes: ["Ingress"],
    rules: [{ id: `ns-${i % 50}/p-${i}/uid-${i}/ingress/0`, direction: "Ingress", index: 0, peers: { addressGroups: [`g-${i % 500}`], ipBlocks: [] }, ports: [{ protocol: "TCP", port }] }],
  };
}

function group(i: number, shift: number): AddressGroup {
  return { id: `g-${i}`, selector: { namespace: "ns", namespaceSelector: null, podSelector: [] }, members: Array.from({ length: 40 }, (_, j) => ({ ip: `10.1.${i % 250}.${(j + shift) % 250}`, namedPorts: [] })) };
}

async function benchDiff(): Promise<void> {
  const before: NodeSlice = { nodeName: "n", generation: 1, policies: Array.from({ length: 10_000 }, (_, i) => policy(i, 80)), addressGroups: Array.from({ length: 500 }, (_, i) => group(i, 0)), appliedToGroups: [] };
  const after: NodeSlice = {
    nodeName: "n",
    generation: 2,
    policies: Array.from({ length: 10_000 }, (_, i) => policy(i, i % 10 === 0 ? 443 : 80)),
    addressGroups: Array.from({ length: 500 }, (_, i) => group(i, i % 5 === 0 ? 3 : 0)),
    appliedToGroups: [],
  };
  let events = 0;
  const ms = await time(() => {
    events = diffSlices(before, after).length;
  });
  let length = 0;
  const referenceMs = await time(() => {
    length = JSON.stringify(before).length + JSON.stringify(after).length;
  });
  if (length === 0) throw new Error("reference serialised nothing");
  report(`resync diff, 10000 policies and 500 groups of 40, ${events} events`, { ms, referenceMs, units: 1, unit: "diffs" });
}

await benchDecoding();
await benchIpam();
await benchDiff();
