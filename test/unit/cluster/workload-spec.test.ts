// Reading a pod's workload from its first container's image, args and env.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Container, V1Pod } from "@kubernetes/client-node";

import { ClusterErrorCode } from "../../cluster/errors.ts";
import { imageRepository, parseWorkloadSpec, workloadArgv } from "../../cluster/workload-spec.ts";
import { formatRoute, parsePortList, parseRoute } from "../../cluster/workloads/routes.ts";

function podWith(container: Partial<V1Container>): V1Pod {
  return { metadata: { namespace: "ns1", name: "p1", uid: "u1" }, spec: { containers: [{ name: "c", ...container }] } };
}

test("http-server routes from env and args", () => {
  const spec = parseWorkloadSpec(
    podWith({
      image: "switchyard/http-server:latest",
      env: [{ name: "HTTP_ROUTES", value: "POST /v1/request-landing 200 Ship landed\n\nGET /health 204\n" }, { name: "PORT", value: "8080" }],
      args: ["--route", "PUT /v1/exhaust-port 403 Exhaust port sealed"],
    }),
  );
  assert.deepEqual(spec, {
    kind: "http-server",
    port: 8080,
    routes: [
      { method: "POST", path: "/v1/request-landing", status: 200, body: "Ship landed" },
      { method: "GET", path: "/health", status: 204, body: "" },
      { method: "PUT", path: "/v1/exhaust-port", status: 403, body: "Exhaust port sealed" },
    ],
  });
});

test("http-server defaults and --port=", () => {
  assert.deepEqual(parseWorkloadSpec(podWith({ image: "switchyard/http-server" })), { kind: "http-server", port: 80, routes: [] });
  assert.deepEqual(parseWorkloadSpec(podWith({ image: "switchyard/http-server", args: ["--port=9000"], env: [{ name: "PORT", value: "1" }] })), { kind: "http-server", port: 9000, routes: [] });
});

test("echo-server ports", () => {
  assert.deepEqual(parseWorkloadSpec(podWith({ image: "switchyard/echo-server" })), { kind: "echo-server", tcpPorts: [80, 81], udpPorts: [80] });
  assert.deepEqual(parseWorkloadSpec(podWith({ image: "switchyard/echo-server", args: ["--tcp", "7,8"] })), { kind: "echo-server", tcpPorts: [7, 8], udpPorts: [] });
  assert.deepEqual(parseWorkloadSpec(podWith({ image: "switchyard/echo-server", env: [{ name: "UDP_PORTS", value: "53" }] })), { kind: "echo-server", tcpPorts: [], udpPorts: [53] });
});

test("idle with a digest", () => {
  assert.deepEqual(parseWorkloadSpec(podWith({ image: "switchyard/idle@sha256:abcd" })), { kind: "idle" });
});

test("invalid workloads are rejected", () => {
  const cases: [V1Pod, RegExp][] = [
    [{ metadata: { name: "p1" }, spec: { containers: [] } }, /pod default\/p1: the pod has no container/],
    [podWith({ image: "nginx:1.27" }), /image "nginx:1\.27" names no workload: use one of switchyard\/http-server, switchyard\/echo-server, switchyard\/idle/],
    [podWith({ image: "switchyard/http-server", args: ["--route", "get / 200"] }), /invalid route "get \/ 200"/],
    [podWith({ image: "switchyard/http-server", args: ["--verbose"] }), /--verbose/],
    [podWith({ image: "switchyard/http-server", args: ["--port", "70000"] }), /invalid port "70000"/],
    [podWith({ image: "switchyard/echo-server", args: ["--tcp", "80,x"] }), /invalid port "x" in "80,x"/],
  ];
  for (const [pod, pattern] of cases) {
    assert.throws(() => parseWorkloadSpec(pod), (error: Error & { code?: string }) => {
      assert.equal(error.code, ClusterErrorCode.WorkloadInvalid);
      assert.match(error.message, pattern);
      return true;
    });
  }
});

test("image repository strips tag and digest", () => {
  const cases: [string, string][] = [
    ["switchyard/idle", "switchyard/idle"],
    ["switchyard/idle:1.0", "switchyard/idle"],
    ["switchyard/idle@sha256:ab", "switchyard/idle"],
    ["registry.local:5000/switchyard/idle:2", "registry.local:5000/switchyard/idle"],
  ];
  for (const [image, repository] of cases) assert.equal(imageRepository(image), repository, image);
});

test("workload argv carries pod identity", () => {
  const argv = workloadArgv({
    spec: { kind: "http-server", port: 80, routes: [{ method: "GET", path: "/", status: 200, body: "hi there" }] },
    nodeBinary: "/n/node",
    pod: { namespace: "ns1", name: "p1", uid: "u1" },
  });
  assert.equal(argv[0], "/n/node");
  assert.match(argv[1] ?? "", /\/test\/cluster\/workloads\/http-server\.ts$/);
  assert.deepEqual(argv.slice(2), ["--pod", "ns1/p1", "--pod-uid", "u1", "--port", "80", "--route", "GET / 200 hi there"]);
  const echo = workloadArgv({ spec: { kind: "echo-server", tcpPorts: [80, 81], udpPorts: [80] }, nodeBinary: "node", pod: { namespace: "a", name: "b", uid: "c" } });
  assert.deepEqual(echo.slice(2), ["--pod", "a/b", "--pod-uid", "c", "--tcp", "80,81", "--udp", "80"]);
});

test("routes and port lists parse and format", () => {
  assert.deepEqual(parseRoute("DELETE /a/b 500 it broke: badly"), { method: "DELETE", path: "/a/b", status: 500, body: "it broke: badly" });
  assert.equal(formatRoute({ method: "GET", path: "/x", status: 204, body: "" }), "GET /x 204");
  assert.throws(() => parseRoute("GET x 200"), /invalid route "GET x 200"/);
  assert.throws(() => parseRoute("GET / 600"), /invalid route/);
  assert.deepEqual(parsePortList(" 80, 81 "), [80, 81]);
  assert.deepEqual(parsePortList(""), []);
  assert.throws(() => parsePortList("0"), /invalid port "0"/);
});
