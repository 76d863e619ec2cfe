// Error types of the lab library. Callers branch on `code`, never on the message text.

/** Stable codes for every failure the lab library raises. */
export const LabErrorCode = {
  /** An option or argument has an invalid value (bad lab name, node count, CIDR). */
  InvalidOption: "INVALID_OPTION",
  /** The machine lacks something the lab needs (root, ovs-vsctl, ip). */
  PreconditionFailed: "PRECONDITION_FAILED",
  /** `up` found a lab of the same name already recorded. */
  LabExists: "LAB_EXISTS",
  /** A lab resource (namespace, folder) exists but no state file records it. */
  ResourceConflict: "RESOURCE_CONFLICT",
  /** A state file is missing fields or is not JSON. */
  StateInvalid: "STATE_INVALID",
  /** A command exited with a non-zero code or was killed by a signal. */
  CommandFailed: "COMMAND_FAILED",
  /** A command's executable is not on PATH. */
  CommandNotFound: "COMMAND_NOT_FOUND",
  /** A command ran longer than its time limit and was killed. */
  CommandTimedOut: "COMMAND_TIMED_OUT",
  /** ovsdb-server or ovs-vswitchd did not start or did not respond to ovs-appctl. */
  OvsStartFailed: "OVS_START_FAILED",
  /** A process did not exit after SIGKILL. */
  ProcessStuck: "PROCESS_STUCK",
} as const;

export type LabErrorCode = (typeof LabErrorCode)[keyof typeof LabErrorCode];

/** A failure of a lab operation; `message` names the bad value and what to do. */
export class LabError extends Error {
  readonly code: LabErrorCode;

  constructor(code: LabErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LabError";
    this.code = code;
  }
}

/** A command that failed, with everything needed to reproduce and diagnose it. */
export class CommandError extends LabError {
  readonly argv: readonly string[];
  /** Exit code, or undefined when a signal ended the command or it never started. */
  readonly exitCode: number | undefined;
  readonly signal: NodeJS.Signals | undefined;
  readonly stdout: string;
  readonly stderr: string;

  constructor(
    code: LabErrorCode,
    message: string,
    details: {
      argv: readonly string[];
      exitCode?: number;
      signal?: NodeJS.Signals;
      stdout?: string;
      stderr?: string;
      cause?: unknown;
    },
  ) {
    super(code, message, { cause: details.cause });
    this.name = "CommandError";
    this.argv = details.argv;
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stdout = details.stdout ?? "";
    this.stderr = details.stderr ?? "";
  }
}
