import { test } from "node:test";
import assert from "node:assert/strict";
import type { Vswitch } from "../../../ovsdb/index.ts";
import { OfportReservations } from "../../../agent/cniserver/ofports.ts";

/** Builds a replica view with the given interfaces, each as its own port. */
function fakeVswitch(interfaces: { name: string; ofport: number | null; ofport_request: number | null }[]): Vswitch {
  const fake = {
    listPorts: () => interfaces.map((iface) => ({ name: iface.name })),
    interface: (name: string) => interfaces.find((iface) => iface.name === name),
  };
  return fake as unknown as Vswitch;
}

test("ofport reservation skips used numbers", () => {
  const reservations = new OfportReservations(
    fakeVswitch([
      { name: "a", ofport: 1, ofport_request: null },
      { name: "b", ofport: -1, ofport_request: 2 },
      { name: "c", ofport: 4, ofport_request: 4 },
    ]),
  );
  assert.equal(reservations.reserve(), 3);
  assert.equal(reservations.reserve(), 5, "3 is held until released");
  reservations.release(3);
  assert.equal(reservations.reserve(), 3);
});
