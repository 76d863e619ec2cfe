// Checks, before a lab creates anything, that the machine can run it.
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { delimiter, join } from "node:path";

import { LabError, LabErrorCode } from "./errors.ts";
import { defaultSchemaPath } from "./ovs.ts";

/** Commands the lab runs, each with the Debian package that installs it. */
export const requiredCommands = [
  { command: "ip", packageName: "iproute2" },
  { command: "ovs-vsctl", packageName: "openvswitch-switch" },
  { command: "ovs-appctl", packageName: "openvswitch-switch" },
  { command: "ovsdb-tool", packageName: "openvswitch-switch" },
  { command: "ovsdb-server", packageName: "openvswitch-switch" },
  { command: "ovs-vswitchd", packageName: "openvswitch-switch" },
  { command: "python3", packageName: "python3" },
] as const;

/** Raises PRECONDITION_FAILED unless the process is root and every required command is on PATH. */
export async function checkPreconditions(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new LabError(LabErrorCode.PreconditionFailed, "the lab needs root to create network namespaces: run it as root (for example with sudo)");
  }
  const missing: string[] = [];
  for (const { command, packageName } of requiredCommands) {
    if (!(await isOnPath(command))) missing.push(`${command} (install ${packageName})`);
  }
  if (missing.length > 0) {
    throw new LabError(LabErrorCode.PreconditionFailed, `missing commands: ${missing.join(", ")}; for example apt-get install openvswitch-switch iproute2`);
  }
  try {
    await access(defaultSchemaPath, constants.R_OK);
  } catch (error) {
    throw new LabError(LabErrorCode.PreconditionFailed, `OVS schema ${defaultSchemaPath} is missing: install openvswitch-common`, { cause: error });
  }
}

/** Tells whether an executable named `command` is in a folder of $PATH. */
export async function isOnPath(command: string): Promise<boolean> {
  for (const folder of (process.env.PATH ?? "").split(delimiter)) {
    if (folder === "") continue;
    try {
      await access(join(folder, command), constants.X_OK);
      return true;
    } catch {
      // Not in this folder; try the next.
    }
  }
  return false;
}
