// The controller action. Open vSwitch 3.1 picks the wire form like this:
//   - plain `controller` / `controller:N` (reason action, id 0, no userdata/pause/meter) is
//     OFPAT_OUTPUT to the CONTROLLER port, so it parses to an OutputAction;
//   - otherwise NXAST_CONTROLLER, unless userdata, pause or a meter id is set (or the action
//     arrived as NXAST_CONTROLLER2), which need NXAST_CONTROLLER2 and its properties.
// A 16-bit CONTROLLER2 property carries its value plus two zero bytes, so its length is 8,
// not 6; other properties are padded to 8 bytes after their stated length.

import type { BufferReader } from "../wire/reader.ts";
import type { BufferWriter } from "../wire/writer.ts";
import { CONTROLLER2_PROPERTY, NO_CONTROLLER_METER, NXAST, PACKET_IN_REASON, PORT } from "./constants.ts";
import { ActionError, badArgument } from "./errors.ts";
import { beginNiciraAction, expectZeros, finishAction } from "./frame.ts";
import { splitKeyValues } from "./key-value.ts";
import type { Action, ControllerAction } from "./types.ts";

const REASON_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(PACKET_IN_REASON).map(([name, code]) => [code, name]));

function needsController2(action: ControllerAction): boolean {
  return action.userdata.length > 0 || action.pause || action.meterId !== NO_CONTROLLER_METER || action.encoding === "controller2";
}

// ---- encode ---------------------------------------------------------------------------

function writeProperty(w: BufferWriter, type: number, body: (w: BufferWriter) => void): void {
  const start = w.length;
  w.u16(type);
  const length = w.beginLength(start);
  body(w);
  w.endLength(length);
  w.padTo(8, start);
}

export function encodeController(w: BufferWriter, action: ControllerAction): void {
  if (!needsController2(action)) {
    const frame = beginNiciraAction(w, NXAST.CONTROLLER);
    w.u16(action.maxLen).u16(action.controllerId).u8(action.reason).u8(0);
    finishAction(w, frame);
    return;
  }

  const frame = beginNiciraAction(w, NXAST.CONTROLLER2);
  w.zeros(6);
  if (action.maxLen !== 0xffff) writeProperty(w, CONTROLLER2_PROPERTY.MAX_LEN, (p) => p.u16(action.maxLen).zeros(2));
  if (action.controllerId !== 0) writeProperty(w, CONTROLLER2_PROPERTY.CONTROLLER_ID, (p) => p.u16(action.controllerId).zeros(2));
  if (action.reason !== PACKET_IN_REASON.action) writeProperty(w, CONTROLLER2_PROPERTY.REASON, (p) => p.u8(action.reason));
  if (action.userdata.length > 0) writeProperty(w, CONTROLLER2_PROPERTY.USERDATA, (p) => p.bytes(action.userdata));
  if (action.pause) writeProperty(w, CONTROLLER2_PROPERTY.PAUSE, () => undefined);
  if (action.meterId !== NO_CONTROLLER_METER) writeProperty(w, CONTROLLER2_PROPERTY.METER_ID, (p) => p.u32(action.meterId));
  finishAction(w, frame);
}

// ---- decode ---------------------------------------------------------------------------

export function decodeController(r: BufferReader): ControllerAction {
  const maxLen = r.u16("max_len");
  const controllerId = r.u16("controller_id");
  const reason = r.u8("reason");
  return { type: "controller", maxLen, controllerId, reason, userdata: Buffer.alloc(0), pause: false, meterId: NO_CONTROLLER_METER, encoding: "controller" };
}

export function decodeController2(r: BufferReader): ControllerAction {
  expectZeros(r, 6, "controller2 pad");
  const action: ControllerAction = {
    type: "controller",
    maxLen: 0xffff,
    controllerId: 0,
    reason: PACKET_IN_REASON.action,
    userdata: Buffer.alloc(0),
    pause: false,
    meterId: NO_CONTROLLER_METER,
    encoding: "controller2",
  };

  while (r.remaining > 0) {
    const type = r.u16("property type");
    const length = r.u16("property length");
    if (length < 4) r.fail(`controller2 property ${type} has length ${length}, less than its 4-byte header`);
    const body = r.sub(length - 4, `controller2 property ${type}`);
    r.skip(Math.min((8 - (length % 8)) % 8, r.remaining), "property padding");
    switch (type) {
      case CONTROLLER2_PROPERTY.MAX_LEN:
        action.maxLen = body.u16("max_len");
        break;
      case CONTROLLER2_PROPERTY.CONTROLLER_ID:
        action.controllerId = body.u16("controller_id");
        break;
      case CONTROLLER2_PROPERTY.REASON:
        action.reason = body.u8("reason");
        break;
      case CONTROLLER2_PROPERTY.USERDATA:
        action.userdata = Buffer.from(body.rest());
        break;
      case CONTROLLER2_PROPERTY.PAUSE:
        action.pause = true;
        break;
      case CONTROLLER2_PROPERTY.METER_ID:
        action.meterId = body.u32("meter_id");
        break;
      default:
        r.fail(`unknown controller2 property type ${type}`);
    }
  }
  return action;
}

// ---- format ---------------------------------------------------------------------------

function formatReason(reason: number): string {
  return REASON_NAMES.get(reason) ?? String(reason);
}

function formatHexDotted(data: Uint8Array): string {
  return [...data].map((byte) => byte.toString(16).padStart(2, "0")).join(".");
}

export function formatController(action: ControllerAction): string {
  const plain = action.reason === PACKET_IN_REASON.action && action.controllerId === 0 && action.userdata.length === 0 && !action.pause && action.meterId === NO_CONTROLLER_METER;
  if (plain) return `CONTROLLER:${action.maxLen}`;

  const parts: string[] = [];
  if (action.reason !== PACKET_IN_REASON.action) parts.push(`reason=${formatReason(action.reason)}`);
  if (action.maxLen !== 0xffff) parts.push(`max_len=${action.maxLen}`);
  if (action.controllerId !== 0) parts.push(`id=${action.controllerId}`);
  if (action.userdata.length > 0) parts.push(`userdata=${formatHexDotted(action.userdata)}`);
  if (action.pause) parts.push("pause");
  if (action.meterId !== NO_CONTROLLER_METER) parts.push(`meter_id=${action.meterId}`);
  return `controller(${parts.join(",")})`;
}

// ---- parse ----------------------------------------------------------------------------

const EXPECTED = "controller, controller:MAX_LEN or controller(reason=R,max_len=N,id=N,userdata=XX.XX,pause,meter_id=N)";

function parseUnsigned(text: string, bits: 16 | 32, key: string): number {
  const value = /^(0x[0-9a-f]+|[0-9]+)$/i.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(value) || value >= 2 ** bits) badArgument("controller", `${key}=${text}`, `a ${bits}-bit unsigned integer`);
  return value;
}

/** Parses hex bytes as ovs-ofctl's userdata and note do: pairs of digits, optionally dotted. */
export function parseHexBytes(text: string, action: string): Buffer {
  const digits = text.replace(/\./g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) {
    throw new ActionError("BAD_ARGUMENT", `invalid ${action} argument "${text}": bad hex digit, expected hex bytes such as de.ad.be.ef`);
  }
  return Buffer.from(digits, "hex");
}

/** Parses the text after `controller`; returns an output to CONTROLLER when that is the OVS form. */
export function parseController(text: string): Action {
  const action: ControllerAction = { type: "controller", maxLen: 0xffff, controllerId: 0, reason: PACKET_IN_REASON.action, userdata: Buffer.alloc(0), pause: false, meterId: NO_CONTROLLER_METER };

  if (/^[0-9]+$/.test(text)) {
    action.maxLen = parseUnsigned(text, 16, "max_len");
  } else {
    for (const { key, value } of splitKeyValues(text)) {
      switch (key) {
        case "reason": {
          const reason = (PACKET_IN_REASON as Record<string, number>)[value];
          if (reason === undefined) badArgument("controller", `reason=${value}`, `one of ${Object.keys(PACKET_IN_REASON).join(", ")}`);
          action.reason = reason;
          break;
        }
        case "max_len":
          action.maxLen = parseUnsigned(value, 16, key);
          break;
        case "id":
          action.controllerId = parseUnsigned(value, 16, key);
          break;
        case "userdata":
          action.userdata = parseHexBytes(value, "controller userdata");
          break;
        case "pause":
          action.pause = true;
          break;
        case "meter_id":
          action.meterId = parseUnsigned(value, 32, key);
          break;
        default:
          badArgument("controller", key, EXPECTED);
      }
    }
  }

  const plain = action.reason === PACKET_IN_REASON.action && action.controllerId === 0 && action.userdata.length === 0 && !action.pause && action.meterId === NO_CONTROLLER_METER;
  return plain ? { type: "output", port: PORT.CONTROLLER, maxLen: action.maxLen } : action;
}
