/** A kubeconfig for a plain-HTTP server without authentication. */

import { writeFile } from "node:fs/promises";

const CONTEXT_NAME = "switchyard";

/**
 * Renders the kubeconfig YAML for `serverUrl`, with `namespace` as the
 * context's default namespace. `insecure-skip-tls-verify` is set because
 * @kubernetes/client-node 2.x refuses an http:// server without it; with
 * plain HTTP there is no certificate to verify either way.
 */
export function renderKubeconfig(options: { serverUrl: string; namespace?: string }): string {
  const namespace = options.namespace ?? "default";
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${CONTEXT_NAME}`,
    "  cluster:",
    `    server: ${JSON.stringify(options.serverUrl)}`,
    "    insecure-skip-tls-verify: true",
    "contexts:",
    `- name: ${CONTEXT_NAME}`,
    "  context:",
    `    cluster: ${CONTEXT_NAME}`,
    `    user: ${CONTEXT_NAME}`,
    `    namespace: ${JSON.stringify(namespace)}`,
    `current-context: ${CONTEXT_NAME}`,
    "users:",
    `- name: ${CONTEXT_NAME}`,
    "  user: {}",
    "preferences: {}",
    "",
  ].join("\n");
}

/** Writes the kubeconfig with mode 0600, replacing any file at `path`. */
export async function writeKubeconfigFile(path: string, options: { serverUrl: string; namespace?: string }): Promise<void> {
  await writeFile(path, renderKubeconfig(options), { mode: 0o600 });
}
