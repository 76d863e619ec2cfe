// OpenFlow port numbers requested for new pod ports (Interface ofport_request).
import type { Vswitch } from "../../ovsdb/index.ts";

/** OFPP_MAX in OpenFlow 1.3 and later: the highest number of a physical or logical port. */
const MAX_OFPORT = 0xffffff00;

/**
 * Picks port numbers that no interface uses or requests and that no ADD in progress
 * holds, so a pod's flows can be installed while ovs-vswitchd is still adding its port.
 * OVS may still assign another number; the caller compares and reinstalls.
 */
export class OfportReservations {
  readonly #vswitch: Vswitch;
  readonly #held = new Set<number>();

  constructor(vswitch: Vswitch) {
    this.#vswitch = vswitch;
  }

  /** Returns the lowest free number and holds it until release(). */
  reserve(): number {
    const used = new Set<number>(this.#held);
    for (const port of this.#vswitch.listPorts()) {
      const iface = this.#vswitch.interface(port.name);
      if (typeof iface?.ofport === "number" && iface.ofport > 0) used.add(iface.ofport);
      if (typeof iface?.ofport_request === "number") used.add(iface.ofport_request);
    }
    let candidate = 1;
    while (used.has(candidate) && candidate < MAX_OFPORT) candidate++;
    this.#held.add(candidate);
    return candidate;
  }

  release(ofport: number): void {
    this.#held.delete(ofport);
  }
}
