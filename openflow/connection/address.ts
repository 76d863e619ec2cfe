// Switch addresses as operators write them: "unix:/run/openvswitch/br-int.mgmt",
// "tcp:127.0.0.1:6653", or a bare path to a bridge's .mgmt socket.

export type SwitchAddress = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

/** Raised for an address that is neither unix:PATH, tcp:HOST:PORT nor a socket path. */
export class SwitchAddressError extends Error {
  readonly code = "ERR_OPENFLOW_ADDRESS";

  constructor(text: string, problem: string) {
    super(`invalid switch address "${text}": ${problem}; use unix:PATH, tcp:HOST:PORT or the path of a .mgmt socket`);
    this.name = "SwitchAddressError";
  }
}

/** Parses a switch address. IPv6 hosts are written in brackets: tcp:[::1]:6653. */
export function parseSwitchAddress(text: string): SwitchAddress {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    if (path === "") throw new SwitchAddressError(text, "the socket path is empty");
    return { kind: "unix", path };
  }
  if (text.startsWith("tcp:")) {
    const rest = text.slice("tcp:".length);
    const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(rest);
    if (match === null) throw new SwitchAddressError(text, "expected tcp:HOST:PORT");
    const port = Number(match[3]);
    if (port < 1 || port > 65535) throw new SwitchAddressError(text, `port ${port} is outside 1-65535`);
    return { kind: "tcp", host: match[1] ?? match[2] ?? "", port };
  }
  if (text.includes("/") || text.endsWith(".mgmt")) return { kind: "unix", path: text };
  throw new SwitchAddressError(text, "unknown form");
}

export function formatSwitchAddress(address: SwitchAddress): string {
  return address.kind === "unix" ? `unix:${address.path}` : `tcp:${address.host}:${address.port}`;
}
