// Reads the controller's configuration file (YAML, or JSON which is a YAML subset).
import { readFile } from "node:fs/promises";
import { load as parseYaml, YAMLException } from "js-yaml";
import { ConfigError, validateConfig } from "./validate.ts";
import type { ControllerConfig } from "./types.ts";

/** Parses configuration text; `source` names the file in error messages. Throws ConfigError. */
export function parseConfig(text: string, source: string): ControllerConfig {
  let document: unknown;
  try {
    document = parseYaml(text, { filename: source });
  } catch (error) {
    const reason = error instanceof YAMLException ? error.message : String(error);
    throw new ConfigError(source, [{ field: "(document)", message: `not valid YAML or JSON: ${reason}` }], { cause: error });
  }
  return validateConfig(document, source);
}

/** Reads and validates the configuration file at `path`. Throws ConfigError. */
export async function loadConfigFile(path: string): Promise<ControllerConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(path, [{ field: "(file)", message: `cannot be read: ${reason}` }], { cause: error });
  }
  return parseConfig(text, path);
}
