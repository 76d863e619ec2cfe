// Reads a parsed YAML or JSON configuration document field by field for the agent and the
// controller. Each reader collects every invalid field instead of stopping at the first, so
// one run reports all of them, and returns the field's default in place of a bad value.
import { isIP } from "node:net";

/** One invalid field: its dotted path and what is wrong with its value. */
export interface ConfigIssue {
  readonly field: string;
  readonly message: string;
}

/** A mapping of a configuration document, as parsed. */
export type Section = Record<string, unknown>;

/** Formats a value for an error message, cut to 80 characters. */
export function showValue(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Collects issues while reading one document. Absent and null fields take their fallback. */
export class FieldReader {
  readonly issues: ConfigIssue[] = [];

  report(field: string, message: string): void {
    this.issues.push({ field, message });
  }

  /** Returns the mapping at `key`, rejecting unknown fields inside it; `prefix` is the parent's dotted path. */
  section(parent: Section, key: string, allowed: readonly string[], prefix = ""): Section {
    const field = prefix + key;
    const value = parent[key];
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value)) {
      this.report(field, `invalid value ${showValue(value)}: expected a mapping with fields ${allowed.join(", ")}`);
      return {};
    }
    this.rejectUnknown(value as Section, allowed, `${field}.`);
    return value as Section;
  }

  rejectUnknown(section: Section, allowed: readonly string[], prefix: string): void {
    for (const key of Object.keys(section)) {
      if (!allowed.includes(key)) this.report(prefix + key, `unknown field; allowed fields here: ${allowed.join(", ")}`);
    }
  }

  integer(section: Section, key: string, options: { field: string; fallback: number; min: number; max: number }): number {
    const value = section[key];
    if (value === undefined || value === null) return options.fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < options.min || value > options.max) {
      this.report(options.field, `invalid value ${showValue(value)}: expected an integer from ${options.min} to ${options.max}`);
      return options.fallback;
    }
    return value;
  }

  boolean(section: Section, key: string, options: { field: string; fallback: boolean }): boolean {
    const value = section[key];
    if (value === undefined || value === null) return options.fallback;
    if (typeof value !== "boolean") {
      this.report(options.field, `invalid value ${showValue(value)}: expected true or false`);
      return options.fallback;
    }
    return value;
  }

  string(section: Section, key: string, options: { field: string; fallback: string; nonEmpty?: boolean }): string {
    const value = section[key];
    if (value === undefined || value === null) return options.fallback;
    if (typeof value !== "string" || (options.nonEmpty === true && value === "")) {
      this.report(options.field, `invalid value ${showValue(value)}: expected ${options.nonEmpty === true ? "a non-empty" : "a"} string`);
      return options.fallback;
    }
    return value;
  }

  choice<T extends string>(section: Section, key: string, options: { field: string; fallback: T; allowed: readonly T[] }): T {
    const value = section[key];
    if (value === undefined || value === null) return options.fallback;
    if (typeof value !== "string" || !(options.allowed as readonly string[]).includes(value)) {
      this.report(options.field, `invalid value ${showValue(value)}: expected one of ${options.allowed.map((a) => `"${a}"`).join(", ")}`);
      return options.fallback;
    }
    return value as T;
  }

  /** Reads an IPv4 or IPv6 address; `example` completes the message ("such as 127.0.0.1"). */
  ipAddress(section: Section, key: string, options: { field: string; fallback: string; example: string }): string {
    const value = this.string(section, key, options);
    if (isIP(value) === 0) {
      this.report(options.field, `invalid value ${showValue(value)}: expected an IPv4 or IPv6 address such as ${options.example}`);
      return options.fallback;
    }
    return value;
  }

  stringList(section: Section, key: string, options: { field: string; fallback: readonly string[] }): string[] {
    const value = section[key];
    if (value === undefined || value === null) return [...options.fallback];
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
      this.report(options.field, `invalid value ${showValue(value)}: expected a list of strings`);
      return [...options.fallback];
    }
    return value as string[];
  }
}
