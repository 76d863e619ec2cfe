/** Shared helpers for the API server tests: a server with a kubeconfig in a temporary folder, and polling. */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import type { ApiServer, ApiServerOptions } from "../../apiserver/index.ts";
import { startApiServer } from "../../apiserver/index.ts";

export interface TestCluster {
  server: ApiServer;
  folder: string;
  kubeconfigPath: string;
  kubeConfig: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  /** Stops the server and removes the folder; safe to call twice. */
  cleanup: () => Promise<void>;
}

export async function startTestCluster(options: ApiServerOptions = {}): Promise<TestCluster> {
  const folder = await mkdtemp(join(tmpdir(), "sya-"));
  const server = await startApiServer(options);
  const kubeconfigPath = join(folder, "kubeconfig");
  await server.writeKubeconfig(kubeconfigPath);
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  return {
    server,
    folder,
    kubeconfigPath,
    kubeConfig,
    core: kubeConfig.makeApiClient(k8s.CoreV1Api),
    cleanup: async () => {
      await server.close();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** Polls `condition` every 20 ms until it returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
