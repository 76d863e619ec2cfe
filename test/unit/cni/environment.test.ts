import { test } from "node:test";
import assert from "node:assert/strict";
import { parseCniArgs, parseEnvironment, interfaceNameProblem } from "../../../cni/environment.ts";
import { CniError } from "../../../cni/errors.ts";

const ADD_ENV = { CNI_COMMAND: "ADD", CNI_CONTAINERID: "abc123", CNI_NETNS: "/run/netns/x", CNI_IFNAME: "eth0", CNI_PATH: "/opt/cni/bin" };

function codeOf(action: () => unknown): number | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof CniError, `expected CniError, got ${String(error)}`);
    return error.code;
  }
}

test("environment accepts a complete ADD", () => {
  const env = parseEnvironment(ADD_ENV);
  assert.equal(env.command, "ADD");
  assert.equal(env.containerId, "abc123");
  assert.equal(env.netns, "/run/netns/x");
  assert.equal(env.ifName, "eth0");
  assert.deepEqual(env.path, ["/opt/cni/bin"]);
});

// Required variables per command, from the specification's operation sections.
const REQUIRED_CASES: { command: string; missing: string; code: number | undefined }[] = [
  { command: "ADD", missing: "CNI_CONTAINERID", code: 4 },
  { command: "ADD", missing: "CNI_NETNS", code: 4 },
  { command: "ADD", missing: "CNI_IFNAME", code: 4 },
  { command: "ADD", missing: "CNI_PATH", code: undefined },
  { command: "CHECK", missing: "CNI_NETNS", code: 4 },
  { command: "CHECK", missing: "CNI_IFNAME", code: 4 },
  { command: "DEL", missing: "CNI_NETNS", code: undefined },
  { command: "DEL", missing: "CNI_CONTAINERID", code: 4 },
  { command: "DEL", missing: "CNI_IFNAME", code: 4 },
  { command: "GC", missing: "CNI_PATH", code: 4 },
  { command: "STATUS", missing: "CNI_CONTAINERID", code: undefined },
  { command: "VERSION", missing: "CNI_IFNAME", code: undefined },
];
for (const { command, missing, code } of REQUIRED_CASES) {
  test(`environment ${command} without ${missing}`, () => {
    const env: Record<string, string> = { ...ADD_ENV, CNI_COMMAND: command };
    delete env[missing];
    assert.equal(codeOf(() => parseEnvironment(env)), code);
  });
}

const BAD_VALUES: [string, string][] = [
  ["CNI_COMMAND", "add"],
  ["CNI_COMMAND", "INIT"],
  ["CNI_COMMAND", ""],
  ["CNI_CONTAINERID", "-abc"],
  ["CNI_CONTAINERID", "_abc"],
  ["CNI_CONTAINERID", "ab c"],
  ["CNI_CONTAINERID", "ab/c"],
  ["CNI_CONTAINERID", "é"],
  ["CNI_IFNAME", "a234567890123456"],
  ["CNI_IFNAME", "."],
  ["CNI_IFNAME", ".."],
  ["CNI_IFNAME", "eth/0"],
  ["CNI_IFNAME", "eth:0"],
  ["CNI_IFNAME", "eth 0"],
  ["CNI_NETNS", "relative/path"],
  ["CNI_ARGS", "novalue"],
  ["CNI_ARGS", "=x"],
  ["CNI_ARGS", "FOO=bar"],
  ["CNI_ARGS", "IgnoreUnknown=maybe"],
];
for (const [name, value] of BAD_VALUES) {
  test(`environment rejects ${name}=${JSON.stringify(value)}`, () => {
    assert.equal(codeOf(() => parseEnvironment({ ...ADD_ENV, [name]: value })), name === "CNI_COMMAND" && value === "" ? 4 : 4);
  });
}

test("environment accepts container IDs with _ . -", () => {
  assert.equal(parseEnvironment({ ...ADD_ENV, CNI_CONTAINERID: "a_b.c-d" }).containerId, "a_b.c-d");
});

test("interface names of exactly 15 bytes pass", () => {
  assert.equal(interfaceNameProblem("a23456789012345"), undefined);
  assert.match(interfaceNameProblem("a234567890123456") ?? "", /15 bytes/);
  // Three bytes per character in UTF-8: 6 characters are 18 bytes.
  assert.match(interfaceNameProblem("€€€€€€") ?? "", /15 bytes/);
});

test("CNI_ARGS reads Kubernetes keys", () => {
  assert.deepEqual(parseCniArgs("K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web-0;K8S_POD_UID=u1;K8S_POD_INFRA_CONTAINER_ID=c1"), {
    podNamespace: "ns",
    podName: "web-0",
    podUid: "u1",
    infraContainerId: "c1",
  });
});

test("CNI_ARGS IgnoreUnknown allows other keys", () => {
  assert.deepEqual(parseCniArgs("IgnoreUnknown=1;FOO=bar;K8S_POD_NAME=p"), { podName: "p" });
  assert.deepEqual(parseCniArgs("IgnoreUnknown=true;FOO=bar"), {});
  assert.deepEqual(parseCniArgs("IgnoreUnknown=TRUE;FOO=bar"), {});
  assert.equal(codeOf(() => parseCniArgs("IgnoreUnknown=0;FOO=bar")), 4);
  assert.equal(codeOf(() => parseCniArgs("IgnoreUnknown=false;FOO=bar")), 4);
});

test("CNI_ARGS keys named like object members are unknown", () => {
  assert.equal(codeOf(() => parseCniArgs("constructor=x")), 4);
  assert.equal(codeOf(() => parseCniArgs("__proto__=x")), 4);
});

test("CNI_ARGS value may contain =", () => {
  assert.deepEqual(parseCniArgs("K8S_POD_NAME=a=b"), { podName: "a=b" });
});

test("error message names the bad value", () => {
  assert.throws(() => parseEnvironment({ ...ADD_ENV, CNI_CONTAINERID: "-bad" }), /"-bad"/);
  assert.throws(() => parseEnvironment({ ...ADD_ENV, CNI_ARGS: "FOO=1" }), /"FOO"/);
});
