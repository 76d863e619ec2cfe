// Reads the agent's configuration file (YAML, or JSON which is a YAML subset).
import { readFile } from "node:fs/promises";
import { load as parseYaml, YAMLException } from "js-yaml";
import { AgentConfigError, validateAgentConfig } from "./validate.ts";
import type { AgentConfig } from "./types.ts";

/** Parses configuration text; `source` names the file in error messages. Throws AgentConfigError. */
export function parseAgentConfig(text: string, source: string): AgentConfig {
  let document: unknown;
  try {
    document = parseYaml(text, { filename: source });
  } catch (error) {
    const reason = error instanceof YAMLException ? error.message : String(error);
    throw new AgentConfigError(source, [{ field: "(document)", message: `not valid YAML or JSON: ${reason}` }], { cause: error });
  }
  return validateAgentConfig(document, source);
}

/** Reads and validates the configuration file at `path`. Throws AgentConfigError. */
export async function loadAgentConfigFile(path: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AgentConfigError(path, [{ field: "(file)", message: `cannot be read: ${reason}` }], { cause: error });
  }
  return parseAgentConfig(text, path);
}
