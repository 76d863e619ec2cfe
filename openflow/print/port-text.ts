// Text of port descriptions and port statistics as ovs-ofctl prints them.
import { formatPort, portFromOfp11 } from "../match/fields.ts";
import type { PortDesc, PortModMessage, PortStats, QueueGetConfigReplyMessage, QueueStats } from "../messages/types.ts";
import { formatBitNames, formatDuration } from "./names.ts";

const CONFIG_NAMES: Readonly<Record<number, string>> = {
  0x1: "PORT_DOWN",
  0x4: "NO_RECV",
  0x20: "NO_FWD",
  0x40: "NO_PACKET_IN",
};

const STATE_NAMES: Readonly<Record<number, string>> = { 0x1: "LINK_DOWN", 0x2: "BLOCKED", 0x4: "LIVE" };

const FEATURE_NAMES: Readonly<Record<number, string>> = {
  0x1: "10MB-HD",
  0x2: "10MB-FD",
  0x4: "100MB-HD",
  0x8: "100MB-FD",
  0x10: "1GB-HD",
  0x20: "1GB-FD",
  0x40: "10GB-FD",
  0x80: "40GB-FD",
  0x100: "100GB-FD",
  0x200: "1TB-FD",
  0x400: "OTHER",
  0x800: "COPPER",
  0x1000: "FIBER",
  0x2000: "AUTO_NEG",
  0x4000: "AUTO_PAUSE",
  0x8000: "AUTO_PAUSE_ASYM",
};

function formatMac(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

function formatPortDesc(port: PortDesc): string {
  let out = `\n ${formatPort(portFromOfp11(port.portNo))}(${port.name}): addr:${formatMac(port.hwAddr)}`;
  out += `\n     config:     ${formatBitNames(port.config, CONFIG_NAMES, " ")}`;
  out += `\n     state:      ${formatBitNames(port.state, STATE_NAMES, " ")}`;
  if (port.curr !== 0) out += `\n     current:    ${formatBitNames(port.curr, FEATURE_NAMES, " ")}`;
  if (port.advertised !== 0) out += `\n     advertised: ${formatBitNames(port.advertised, FEATURE_NAMES, " ")}`;
  if (port.supported !== 0) out += `\n     supported:  ${formatBitNames(port.supported, FEATURE_NAMES, " ")}`;
  if (port.peer !== 0) out += `\n     peer:       ${formatBitNames(port.peer, FEATURE_NAMES, " ")}`;
  out += `\n     speed: ${Math.floor(port.currSpeed / 1000)} Mbps now, ${Math.floor(port.maxSpeed / 1000)} Mbps max`;
  return out;
}

/** Formats port descriptions sorted by port number, in Open vSwitch's 16-bit numbering. */
export function formatPortDescs(ports: readonly PortDesc[]): string {
  return [...ports]
    .sort((a, b) => portFromOfp11(a.portNo) - portFromOfp11(b.portNo))
    .map(formatPortDesc)
    .join("");
}

function counter(value: bigint): string {
  return value === 0xffffffffffffffffn ? "?" : `${value}`;
}

/** Formats port statistics as in `ovs-ofctl dump-ports`. */
export function formatPortStats(ports: readonly PortStats[]): string {
  let out = ` ${ports.length} ports`;
  for (const p of ports) {
    const name = formatPort(portFromOfp11(p.portNo));
    out += `\n  port ${/^\d+$/.test(name) ? name.padStart(2, " ") : name}: rx pkts=${counter(p.rxPackets)}, bytes=${counter(p.rxBytes)}`;
    out += `, drop=${counter(p.rxDropped)}, errs=${counter(p.rxErrors)}, frame=${counter(p.rxFrameErr)}`;
    out += `, over=${counter(p.rxOverErr)}, crc=${counter(p.rxCrcErr)}`;
    out += `\n           tx pkts=${counter(p.txPackets)}, bytes=${counter(p.txBytes)}, drop=${counter(p.txDropped)}`;
    out += `, errs=${counter(p.txErrors)}, coll=${counter(p.collisions)}`;
    if (p.durationSec !== 0xffffffff) out += `\n           duration=${formatDuration(p.durationSec, p.durationNsec)}s`;
  }
  return out;
}

/** Formats a port_mod body: the port, then config, mask and advertised features. */
export function formatPortMod(m: PortModMessage): string {
  let out = ` port: ${formatPort(portFromOfp11(m.portNo))}: addr:${formatMac(m.hwAddr)}`;
  out += `\n     config: ${formatBitNames(m.config, CONFIG_NAMES, " ")}`;
  out += `\n     mask:   ${formatBitNames(m.mask, CONFIG_NAMES, " ")}`;
  out += `\n     advertise: ${m.advertise === 0 ? "UNCHANGED" : formatBitNames(m.advertise, FEATURE_NAMES, " ")}`;
  return out;
}

/** Formats queue statistics as in `ovs-ofctl queue-stats`. */
export function formatQueueStats(queues: readonly QueueStats[]): string {
  let out = ` ${queues.length} queues`;
  for (const q of queues) {
    out += `\n  port ${formatPort(portFromOfp11(q.portNo))} queue ${q.queueId}: bytes=${counter(q.txBytes)}, pkts=${counter(q.txPackets)}`;
    out += `, errors=${counter(q.txErrors)}, duration=`;
    out += q.durationSec === 0xffffffff ? "?" : `${formatDuration(q.durationSec, q.durationNsec)}s`;
  }
  return out;
}

function formatRate(label: string, rate: number | undefined): string {
  if (rate === undefined || rate > 1000) return "";
  return ` ${label}:${(rate / 10).toFixed(1)}%`;
}

/** Formats a queue configuration reply: the port, then one line per queue sorted by id. */
export function formatQueueConfig(m: QueueGetConfigReplyMessage): string {
  let out = ` port=${formatPort(portFromOfp11(m.portNo))}`;
  for (const queue of [...m.queues].sort((a, b) => a.queueId - b.queueId)) {
    out += `\nqueue ${queue.queueId}:${formatRate("min_rate", queue.minRate)}${formatRate("max_rate", queue.maxRate)}`;
  }
  return out;
}
