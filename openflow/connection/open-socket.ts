// Opening the stream socket to a switch, with a timeout and an error that names the address.
import { connect as netConnect } from "node:net";
import type { Socket } from "node:net";
import { formatSwitchAddress } from "./address.ts";
import type { SwitchAddress } from "./address.ts";
import { ConnectionErrorCode, OpenFlowConnectionError } from "./errors.ts";

/** Connects to `address`. Rejects with OpenFlowConnectionError (CONNECT) on failure or timeout. */
export function openSocket(address: SwitchAddress, timeoutMs: number): Promise<Socket> {
  const name = formatSwitchAddress(address);
  return new Promise((resolve, reject) => {
    const socket = address.kind === "unix" ? netConnect({ path: address.path }) : netConnect({ host: address.host, port: address.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new OpenFlowConnectionError(ConnectionErrorCode.CONNECT, `timed out after ${timeoutMs} ms connecting to ${name}`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(
        new OpenFlowConnectionError(
          ConnectionErrorCode.CONNECT,
          `cannot connect to ${name}: ${error.message}; check that ovs-vswitchd runs and the bridge exists`,
          { cause: error },
        ),
      );
    });
  });
}
