// The SCTP parts of the pod runner and the probes: the echo server's SCTP ports, the probe
// client's --targets JSON, and the arrivals file format.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Container, V1Pod } from "@kubernetes/client-node";

import { ClusterErrorCode } from "../../cluster/errors.ts";
import { targetSpec } from "../../cluster/probe.ts";
import { parseWorkloadSpec, workloadArgv } from "../../cluster/workload-spec.ts";
import { parseProbeTargets } from "../../cluster/workloads/probe-targets.ts";
import { formatArrival, parseArrivals, sctpArrivalsPath } from "../../cluster/workloads/sctp-receiver.ts";

const uid = "3f1c2a9e-0b7d-4c8e-9a55-1e2f3a4b5c6d";

function echoPod(container: Partial<V1Container>): V1Pod {
  return { metadata: { namespace: "x", name: "a", uid }, spec: { containers: [{ name: "echo", image: "switchyard/echo-server", ...container }] } };
}

test("echo-server SCTP ports from containerPorts", () => {
  const spec = parseWorkloadSpec(
    echoPod({
      ports: [
        { name: "serve-80-tcp", containerPort: 80, protocol: "TCP" },
        { name: "serve-80-sctp", containerPort: 80, protocol: "SCTP" },
        { name: "serve-9-sctp", containerPort: 9, protocol: "SCTP" },
        { name: "again-80-sctp", containerPort: 80, protocol: "SCTP" },
      ],
    }),
  );
  assert.deepEqual(spec, { kind: "echo-server", tcpPorts: [80, 81], udpPorts: [80], sctpPorts: [80, 9] });
});

test("echo-server SCTP ports from args and env", () => {
  const sctpPorts = [{ containerPort: 80, protocol: "SCTP" }];
  assert.deepEqual(parseWorkloadSpec(echoPod({ args: ["--sctp", "7,8"], ports: sctpPorts })), { kind: "echo-server", tcpPorts: [80, 81], udpPorts: [80], sctpPorts: [7, 8] });
  assert.deepEqual(parseWorkloadSpec(echoPod({ env: [{ name: "SCTP_PORTS", value: "5" }], args: ["--udp", "80"] })), { kind: "echo-server", tcpPorts: [], udpPorts: [80], sctpPorts: [5] });
  // An empty list turns the containerPorts off.
  assert.deepEqual(parseWorkloadSpec(echoPod({ args: ["--sctp="], ports: sctpPorts })), { kind: "echo-server", tcpPorts: [80, 81], udpPorts: [80] });
});

test("echo-server without SCTP keeps its shape", () => {
  const spec = parseWorkloadSpec(echoPod({ ports: [{ containerPort: 80, protocol: "UDP" }] }));
  assert.deepEqual(spec, { kind: "echo-server", tcpPorts: [80, 81], udpPorts: [80] });
  const argv = workloadArgv({ spec, nodeBinary: "/bin/node", pod: { namespace: "x", name: "a", uid } });
  assert.ok(!argv.includes("--sctp"), argv.join(" "));
  assert.ok(!argv.includes("--sctp-arrivals"), argv.join(" "));
});

test("echo-server invalid SCTP port", () => {
  assert.throws(() => parseWorkloadSpec(echoPod({ ports: [{ containerPort: 0, protocol: "SCTP" }] })), (error: Error & { code?: string }) => {
    assert.equal(error.code, ClusterErrorCode.WorkloadInvalid);
    assert.match(error.message, /invalid port "0"/);
    return true;
  });
  assert.throws(() => parseWorkloadSpec(echoPod({ args: ["--sctp", "80,x"] })), /invalid port "x"/);
});

test("echo-server argv with SCTP", () => {
  const spec = parseWorkloadSpec(echoPod({ ports: [{ containerPort: 80, protocol: "SCTP" }] }));
  const argv = workloadArgv({ spec, nodeBinary: "/bin/node", pod: { namespace: "x", name: "a", uid } });
  assert.deepEqual(argv.slice(2), [
    "--pod",
    "x/a",
    "--pod-uid",
    uid,
    "--tcp",
    "80,81",
    "--udp",
    "80",
    "--sctp",
    "80",
    "--sctp-arrivals",
    "/run/switchyard-sctp-arrivals/3f1c2a9e-0b7d-4c8e-9a55-1e2f3a4b5c6d.arrivals",
  ]);
});

test("arrivals path rejects odd uids", () => {
  assert.equal(sctpArrivalsPath("abc-123"), "/run/switchyard-sctp-arrivals/abc-123.arrivals");
  assert.throws(() => sctpArrivalsPath("../etc/passwd"), /invalid pod uid "..\/etc\/passwd"/);
  assert.throws(() => sctpArrivalsPath(""), /invalid pod uid ""/);
});

test("arrivals lines parse", () => {
  const text = "10.244.1.2 80 40000 4294967295\nnot an arrival\n10.244.0.3 80 1024 1\n10.244.0.4 80 10";
  assert.deepEqual(parseArrivals(text), [
    { source: "10.244.1.2", destinationPort: 80, sourcePort: 40000, tag: 4294967295 },
    { source: "10.244.0.3", destinationPort: 80, sourcePort: 1024, tag: 1 },
  ]);
  assert.deepEqual(parseArrivals(""), []);
  const arrival = { source: "10.0.0.1", destinationPort: 9, sourcePort: 65535, tag: 7 };
  assert.equal(formatArrival(arrival), "10.0.0.1 9 65535 7\n");
  assert.deepEqual(parseArrivals(formatArrival(arrival)), [arrival]);
});

test("probe targets JSON", () => {
  const text = '[{"host":"10.0.0.5","port":80,"protocol":"tcp"},{"host":"10.0.0.5","port":80,"protocol":"udp"},{"host":"10.0.0.5","port":80,"protocol":"sctp","arrivals":"/run/a.arrivals"}]';
  assert.deepEqual(parseProbeTargets(text), [
    { host: "10.0.0.5", port: 80, protocol: "tcp" },
    { host: "10.0.0.5", port: 80, protocol: "udp" },
    { host: "10.0.0.5", port: 80, protocol: "sctp", arrivals: "/run/a.arrivals" },
  ]);
  assert.deepEqual(parseProbeTargets("[]"), []);
});

test("probe targets JSON rejections", () => {
  const cases: [string, RegExp][] = [
    ["{", /not JSON/],
    ['{"host":"h"}', /expected a JSON array, got object/],
    ["[7]", /probe target 0: expected an object/],
    ['[{"host":"","port":80,"protocol":"tcp"}]', /host "" must be a non-empty string/],
    ['[{"host":"h","port":0,"protocol":"tcp"}]', /port 0 must be an integer from 1 to 65535/],
    ['[{"host":"h","port":80.5,"protocol":"tcp"}]', /port 80.5 must be/],
    ['[{"host":"h","port":80,"protocol":"icmp"}]', /protocol "icmp" must be one of tcp, udp, sctp/],
    ['[{"host":"h","port":80,"protocol":"tcp"},{"host":"h","port":80,"protocol":"sctp"}]', /probe target 1: an sctp target needs "arrivals"/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseProbeTargets(text), message, text);
});

test("probe target spec of SCTP", () => {
  const pod: V1Pod = { metadata: { namespace: "x", name: "a", uid }, status: { podIP: "10.244.0.2" } };
  assert.deepEqual(targetSpec({ pod, port: { port: 80, protocol: "sctp" } }), {
    host: "10.244.0.2",
    port: 80,
    protocol: "sctp",
    arrivals: "/run/switchyard-sctp-arrivals/3f1c2a9e-0b7d-4c8e-9a55-1e2f3a4b5c6d.arrivals",
  });
  assert.deepEqual(targetSpec({ pod, port: { port: 81, protocol: "tcp" } }), { host: "10.244.0.2", port: 81, protocol: "tcp" });
});
