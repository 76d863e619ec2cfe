// Loading the client configuration shared by the agent and the controller.
import { KubeConfig } from "@kubernetes/client-node";

/**
 * Loads a kubeconfig file, or the in-cluster service account configuration when `path` is
 * empty. Raises when the file is missing or invalid; the caller names the setting in its message.
 */
export function loadKubeConfig(path: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (path === "") kubeConfig.loadFromCluster();
  else kubeConfig.loadFromFile(path);
  return kubeConfig;
}
