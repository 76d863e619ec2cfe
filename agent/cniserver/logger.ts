// The logging surface the CNI server needs; a winston logger satisfies it.

export type LogFields = Record<string, unknown>;

export type Logger = {
  debug(message: string, fields?: LogFields): unknown;
  info(message: string, fields?: LogFields): unknown;
  warn(message: string, fields?: LogFields): unknown;
  error(message: string, fields?: LogFields): unknown;
};

/** Discards everything; for tests that do not read logs. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
