// The winston logger of the agent and the controller. Messages are constant strings, and the
// objects involved go in fields with fixed names (node, pod, namespace, policy, error), so logs
// can be filtered.
import winston from "winston";

export type LogFormat = "json" | "text";
export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type Logger = winston.Logger;

/** Creates a logger writing to stderr, so stdout stays free for command output. */
export function createLogger(options: { level: LogLevel; format: LogFormat }): Logger {
  const format =
    options.format === "json"
      ? winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json())
      : winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), textFormat());
  return winston.createLogger({
    level: options.level,
    format,
    transports: [new winston.transports.Console({ stderrLevels: [...LOG_LEVELS] })],
  });
}

/** A logger that drops everything, for tests and library callers that pass none. */
export function createSilentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}

function textFormat(): winston.Logform.Format {
  return winston.format.printf((entry) => {
    const { timestamp, level, message, ...fields } = entry;
    const pairs = Object.entries(fields).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
    return [String(timestamp), level.toUpperCase(), String(message), ...pairs].join(" ");
  });
}

/**
 * Returns the message of an unknown thrown value, for the `error` log field, followed by the
 * messages of its `cause` chain that it does not already contain. undici's "fetch failed",
 * for one, keeps the refused address only in its cause.
 */
export function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let message = error.message;
  const seen = new Set<unknown>([error]);
  for (let cause: unknown = error.cause; cause !== undefined && cause !== null && !seen.has(cause); cause = cause instanceof Error ? cause.cause : undefined) {
    seen.add(cause);
    const causeMessage = cause instanceof Error ? cause.message : String(cause);
    if (causeMessage !== "" && !message.includes(causeMessage)) message += `: ${causeMessage}`;
  }
  return message;
}
