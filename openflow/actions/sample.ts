// The sample action (IPFIX sampling). Open vSwitch 3.1 sends NXAST_SAMPLE (29, 24 bytes)
// unless a sampling port is set, which needs NXAST_SAMPLE2 (38), or a direction, which needs
// NXAST_SAMPLE3 (41). A decoded action keeps the form it arrived in.

import type { BufferReader } from "../wire/reader.ts";
import type { BufferWriter } from "../wire/writer.ts";
import { NXAST, PORT } from "./constants.ts";
import { ActionError, badArgument } from "./errors.ts";
import { beginNiciraAction, expectZeros, finishAction } from "./frame.ts";
import { splitKeyValues } from "./key-value.ts";
import { formatPort, parsePort } from "./ports.ts";
import type { SampleAction } from "./types.ts";
import type { PortNameMap } from "../match/fields.ts";

/** Sampling direction (NX_ACTION_SAMPLE_*). */
export const SAMPLE_DIRECTION = { DEFAULT: 0, INGRESS: 1, EGRESS: 2 } as const;

export function encodeSample(w: BufferWriter, action: SampleAction): void {
  const subtype =
    action.encoding === "sample3" || action.direction !== SAMPLE_DIRECTION.DEFAULT
      ? NXAST.SAMPLE3
      : action.encoding === "sample2" || action.samplingPort !== PORT.ANY
        ? NXAST.SAMPLE2
        : NXAST.SAMPLE;
  const frame = beginNiciraAction(w, subtype);
  w.u16(action.probability).u32(action.collectorSetId).u32(action.obsDomainId).u32(action.obsPointId);
  if (subtype !== NXAST.SAMPLE) w.u16(action.samplingPort).u8(action.direction);
  finishAction(w, frame);
}

export function decodeSample(r: BufferReader, subtype: number): SampleAction {
  const probability = r.u16("probability");
  const collectorSetId = r.u32("collector_set_id");
  const obsDomainId = r.u32("obs_domain_id");
  const obsPointId = r.u32("obs_point_id");
  const action: SampleAction = { type: "sample", probability, collectorSetId, obsDomainId, obsPointId, samplingPort: PORT.ANY, direction: SAMPLE_DIRECTION.DEFAULT, encoding: "sample" };
  if (subtype !== NXAST.SAMPLE) {
    action.samplingPort = r.u16("sampling_port");
    const direction = r.u8("direction");
    if (subtype === NXAST.SAMPLE3) {
      expectZeros(r, 5, "sample3 zeros");
      if (direction > SAMPLE_DIRECTION.EGRESS) r.fail(`sample direction ${direction} is not 0, 1 (ingress) or 2 (egress)`);
      action.direction = direction;
    }
    action.encoding = subtype === NXAST.SAMPLE3 ? "sample3" : "sample2";
  }
  if (probability === 0) r.fail("sample probability is 0");
  return action;
}

export function formatSample(action: SampleAction, portNames?: PortNameMap): string {
  let text = `sample(probability=${action.probability},collector_set_id=${action.collectorSetId},obs_domain_id=${action.obsDomainId},obs_point_id=${action.obsPointId}`;
  if (action.samplingPort !== PORT.ANY) text += `,sampling_port=${formatPort(action.samplingPort, portNames)}`;
  if (action.direction === SAMPLE_DIRECTION.INGRESS) text += ",ingress";
  else if (action.direction === SAMPLE_DIRECTION.EGRESS) text += ",egress";
  return `${text})`;
}

const EXPECTED = "sample(probability=N,collector_set_id=N,obs_domain_id=N,obs_point_id=N[,sampling_port=PORT][,ingress|egress])";

function parseNumber(key: string, value: string, bits: 16 | 32): number {
  const number = /^(0x[0-9a-f]+|[0-9]+)$/i.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(number) || number >= 2 ** bits) badArgument("sample", `${key}=${value}`, `a ${bits}-bit integer`);
  return number;
}

/** Parses the text inside sample(...). */
export function parseSample(text: string, portNames?: PortNameMap): SampleAction {
  const action: SampleAction = { type: "sample", probability: 0, collectorSetId: 0, obsDomainId: 0, obsPointId: 0, samplingPort: PORT.ANY, direction: SAMPLE_DIRECTION.DEFAULT };
  for (const { key, value } of splitKeyValues(text)) {
    switch (key) {
      case "probability":
        action.probability = parseNumber(key, value, 16);
        if (action.probability === 0) badArgument("sample", `probability=${value}`, "a probability from 1 to 65535");
        break;
      case "collector_set_id":
        action.collectorSetId = parseNumber(key, value, 32);
        break;
      case "obs_domain_id":
        action.obsDomainId = parseNumber(key, value, 32);
        break;
      case "obs_point_id":
        action.obsPointId = parseNumber(key, value, 32);
        break;
      case "sampling_port": {
        const port = parsePort(value, portNames);
        if (port === undefined) badArgument("sample", `sampling_port=${value}`, "a port number or reserved port name (unknown port)");
        action.samplingPort = port;
        break;
      }
      case "ingress":
        action.direction = SAMPLE_DIRECTION.INGRESS;
        break;
      case "egress":
        action.direction = SAMPLE_DIRECTION.EGRESS;
        break;
      default:
        badArgument("sample", key, EXPECTED);
    }
  }
  if (action.probability === 0) throw new ActionError("BAD_ARGUMENT", `invalid sample action: a non-zero "probability" must be specified, expected ${EXPECTED}`);
  return action;
}
