// Errors of the lab cluster: the pod runner, the scheduler and the probes.

export const ClusterErrorCode = {
  /** The CNI configuration folder has no usable .conflist, or the file is invalid. */
  CniConfigInvalid: "CNI_CONFIG_INVALID",
  /** A plugin named by the conflist is not in any CNI_PATH folder. */
  CniPluginNotFound: "CNI_PLUGIN_NOT_FOUND",
  /** A plugin exited non-zero or printed output that is not a CNI result. */
  CniPluginFailed: "CNI_PLUGIN_FAILED",
  /** The pod spec names no known workload or gives it invalid options. */
  WorkloadInvalid: "WORKLOAD_INVALID",
  /** The runner's state file cannot be parsed. */
  StateInvalid: "STATE_INVALID",
  /** A pod named in a probe is missing, not running or has no IP. */
  PodNotReady: "POD_NOT_READY",
  /** A probe client could not run or printed something unexpected. */
  ProbeFailed: "PROBE_FAILED",
  /** A caller passed an invalid option. */
  InvalidOption: "INVALID_OPTION",
} as const;

export type ClusterErrorCode = (typeof ClusterErrorCode)[keyof typeof ClusterErrorCode];

/** A failure in the lab cluster. `message` names the bad value and what to do. */
export class ClusterError extends Error {
  readonly code: ClusterErrorCode;

  constructor(code: ClusterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ClusterError";
    this.code = code;
  }
}

/** The error a CNI plugin printed on stdout (CNI spec "Error" object), with the plugin's name. */
export class CniPluginError extends ClusterError {
  /** Plugin type from the conflist, e.g. "bridge". */
  readonly plugin: string;
  /** CNI_COMMAND that failed: ADD, DEL or CHECK. */
  readonly command: string;
  /** CNI error code from the plugin's output, undefined when it printed no error object. */
  readonly cniCode: number | undefined;
  readonly details: string | undefined;
  readonly stderr: string;

  constructor(options: { plugin: string; command: string; cniCode?: number; msg: string; details?: string; stderr?: string; cause?: unknown }) {
    const code = options.cniCode === undefined ? "" : ` (CNI code ${options.cniCode})`;
    const details = options.details === undefined || options.details === "" ? "" : `: ${options.details}`;
    super(ClusterErrorCode.CniPluginFailed, `CNI plugin ${options.plugin} ${options.command} failed${code}: ${options.msg}${details}`, { cause: options.cause });
    this.name = "CniPluginError";
    this.plugin = options.plugin;
    this.command = options.command;
    this.cniCode = options.cniCode;
    this.details = options.details;
    this.stderr = options.stderr ?? "";
  }
}

/** Returns an error's message, or the value as text for something thrown that is not an Error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
