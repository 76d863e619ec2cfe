import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeProtobufObject } from "../../apiserver/protobuf.ts";
import { ApiStatusError } from "../../apiserver/status.ts";

// Request bodies captured from kubectl 1.32.4 on the wire.
const KUBECTL_BODIES = {
  // kubectl create namespace protons
  namespace:
    "6b3873000a0f0a02763112094e616d657370616365121f0a170a0770726f746f6e7312001a0022002a0032003800420012001a020a001a002200",
  // kubectl create serviceaccount robot -n demo
  serviceAccount:
    "6b3873000a140a027631120e536572766963654163636f756e74121b0a190a05726f626f7412001a0464656d6f22002a003200380042001a002200",
  // kubectl create service nodeport s2 --tcp=81:8081 --node-port=30001 -n demo
  nodePortService:
    "6b3873000a0d0a027631120753657276696365126b0a210a02733212001a0464656d6f22002a003200380042005a090a036170701202733212420a1d0a0738312d38303831120354435018512207080010913f1a0028b1ea0112090a03617070120273321a0022084e6f6465506f72743a00420052005a00600068001a020a001a002200",
};

test("protobuf namespace from kubectl", () => {
  assert.deepEqual(decodeProtobufObject(Buffer.from(KUBECTL_BODIES.namespace, "hex")), {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "protons" },
    spec: {},
    status: {},
  });
});

test("protobuf service account from kubectl", () => {
  assert.deepEqual(decodeProtobufObject(Buffer.from(KUBECTL_BODIES.serviceAccount, "hex")), {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "robot", namespace: "demo" },
  });
});

test("protobuf service from kubectl", () => {
  assert.deepEqual(decodeProtobufObject(Buffer.from(KUBECTL_BODIES.nodePortService, "hex")), {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "s2", namespace: "demo", labels: { app: "s2" } },
    spec: {
      ports: [{ name: "81-8081", protocol: "TCP", port: 81, targetPort: 8081, nodePort: 30001 }],
      selector: { app: "s2" },
      type: "NodePort",
    },
    status: { loadBalancer: {} },
  });
});

test("protobuf rejects unknown fields", () => {
  // The namespace body with an extra ObjectMeta field 13 (ownerReferences), which this decoder lacks.
  const body = Buffer.from("6b3873000a0f0a02763112094e616d6573706163651208" + "0a060a01786a0100", "hex");
  assert.throws(
    () => decodeProtobufObject(body),
    (error: unknown) => error instanceof ApiStatusError && error.code === 415 && /field 13 of ObjectMeta/.test(error.message),
  );
});

test("protobuf rejects truncated bodies", () => {
  const truncated = Buffer.from(KUBECTL_BODIES.namespace.slice(0, 60), "hex");
  assert.throws(() => decodeProtobufObject(truncated), (error: unknown) => error instanceof ApiStatusError && error.code === 400);
  assert.throws(() => decodeProtobufObject(Buffer.from("{}")), (error: unknown) => error instanceof ApiStatusError && error.code === 400);
});
