import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AttachmentStore } from "../../../agent/cniserver/store.ts";

function tempDirectory(t: { after(fn: () => void): void }): string {
  const directory = mkdtempSync(join(tmpdir(), "syn-store-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

const RECORD = {
  network: "net",
  containerId: "c1",
  ifName: "eth0",
  netns: "/var/run/netns/c1",
  hostIfName: "c1-eth0",
  mac: "02:00:00:00:00:01",
  mtu: 1450,
  state: "ready",
};

test("store reads numbered address families", (t) => {
  const directory = tempDirectory(t);
  // A record as agents wrote it while AllocatedAddress.family was 4 or 6.
  const legacy = {
    ...RECORD,
    addresses: [
      { family: 4, address: "10.1.0.2", prefixLength: 24, gateway: "10.1.0.1" },
      { family: 6, address: "fd00:1::2", prefixLength: 64, gateway: "fd00:1::1" },
    ],
  };
  writeFileSync(join(directory, "legacy.json"), JSON.stringify(legacy));

  const store = AttachmentStore.open({ directory });

  assert.deepEqual(store.get("net/c1/eth0")?.addresses, [
    { family: "IPv4", address: "10.1.0.2", prefixLength: 24, gateway: "10.1.0.1" },
    { family: "IPv6", address: "fd00:1::2", prefixLength: 64, gateway: "fd00:1::1" },
  ]);
});

test("store round-trips a record", (t) => {
  const directory = tempDirectory(t);
  const record = { ...RECORD, state: "ready" as const, addresses: [{ family: "IPv6" as const, address: "fd00:1::2", prefixLength: 64, gateway: "fd00:1::1" }] };
  AttachmentStore.open({ directory }).put(record);

  const reopened = AttachmentStore.open({ directory });

  assert.deepEqual(reopened.list(), [record]);
});

test("store reports a record without addresses as corrupt", (t) => {
  const directory = tempDirectory(t);
  writeFileSync(join(directory, "broken.json"), JSON.stringify(RECORD));
  const corrupt: string[] = [];

  const store = AttachmentStore.open({ directory, onCorrupt: (file) => corrupt.push(file) });

  assert.deepEqual(corrupt, ["broken.json"]);
  assert.deepEqual(store.list(), []);
});
