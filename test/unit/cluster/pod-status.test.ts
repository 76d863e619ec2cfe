// Pod status built from a CNI result, in the kubelet's shape.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";

import { pendingStatus, podIpsFromResult, rfc3339, runningStatus } from "../../cluster/pod-status.ts";

const pod: V1Pod = { metadata: { name: "p", namespace: "n", uid: "u" }, spec: { containers: [{ name: "main", image: "switchyard/idle" }] } };

test("pod IPs come from result ips in order", () => {
  const result = { cniVersion: "1.0.0", ips: [{ address: "10.99.1.5/24", gateway: "10.99.1.1" }, { address: "fd00::5/64" }, { gateway: "x" }] };
  assert.deepEqual(podIpsFromResult(result), ["10.99.1.5", "fd00::5"]);
  assert.deepEqual(podIpsFromResult({ cniVersion: "1.0.0" }), []);
});

test("running status has ready conditions", () => {
  const status = runningStatus({ pod, hostIp: "192.0.2.10", podIps: ["10.99.1.5"], sandboxId: "abc", startTime: new Date("2026-01-02T03:04:05.678Z"), restartCount: 2 });
  assert.equal(status.phase, "Running");
  assert.equal(status.podIP, "10.99.1.5");
  assert.deepEqual(status.podIPs, [{ ip: "10.99.1.5" }]);
  assert.equal(status.hostIP, "192.0.2.10");
  assert.equal(status.startTime, "2026-01-02T03:04:05Z");
  const conditions = status.conditions as { type: string; status: string }[];
  assert.deepEqual(conditions.map((condition) => `${condition.type}=${condition.status}`).sort(), ["ContainersReady=True", "Initialized=True", "PodReadyToStartContainers=True", "PodScheduled=True", "Ready=True"]);
  assert.deepEqual(status.containerStatuses, [
    { name: "main", image: "switchyard/idle", imageID: "", containerID: "switchyard-podrunner://abc", ready: true, started: true, restartCount: 2, state: { running: { startedAt: "2026-01-02T03:04:05Z" } } },
  ]);
});

test("pending status names the sandbox error", () => {
  const status = pendingStatus({ pod, hostIp: "192.0.2.10", reason: "FailedCreatePodSandBox", message: "CNI plugin bridge ADD failed: x", now: new Date(0) });
  assert.equal(status.phase, "Pending");
  assert.equal(status.podIP, undefined);
  const conditions = status.conditions as { type: string; status: string; reason?: string; message?: string }[];
  assert.deepEqual(conditions.find((condition) => condition.type === "PodReadyToStartContainers"), {
    type: "PodReadyToStartContainers",
    status: "False",
    lastTransitionTime: "1970-01-01T00:00:00Z",
    reason: "FailedCreatePodSandBox",
    message: "CNI plugin bridge ADD failed: x",
  });
  assert.equal(conditions.find((condition) => condition.type === "Ready")?.status, "False");
  assert.deepEqual((status.containerStatuses as { state: unknown }[])[0]?.state, { waiting: { reason: "ContainerCreating", message: "CNI plugin bridge ADD failed: x" } });
  assert.equal(rfc3339(new Date("2026-12-04T20:00:00.999Z")), "2026-12-04T20:00:00Z");
});
