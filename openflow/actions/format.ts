// Action text exactly as ovs-ofctl 3.1 prints the "actions=" value.

import { PORT } from "./constants.ts";
import { formatCheckPktLarger } from "./check-pkt-larger.ts";
import { formatController } from "./controller.ts";
import { formatCt, formatNat } from "./ct.ts";
import { formatSubfieldText } from "./field-refs.ts";
import { formatBundle, formatMultipath } from "./hash-select.ts";
import { formatLearn } from "./learn.ts";
import { formatSample } from "./sample.ts";
import { formatPort } from "./ports.ts";
import { formatMove, formatSetField } from "./set-field.ts";
import type { Action, ResubmitAction } from "./types.ts";
import type { PortNameMap } from "../match/fields.ts";

/** Options for printing actions. */
export interface FormatActionsOptions {
  /** Port names to print instead of numbers, as `ovs-ofctl --names` does. */
  portNames?: PortNameMap;
}

function formatHexDotted(data: Uint8Array): string {
  return [...data].map((byte) => byte.toString(16).padStart(2, "0")).join(".");
}

function formatResubmit(action: ResubmitAction, portNames: PortNameMap | undefined): string {
  if (action.port !== PORT.IN_PORT && action.table === 0xff && !action.withConntrack) return `resubmit:${formatPort(action.port, portNames)}`;
  const port = action.port === PORT.IN_PORT ? "" : formatPort(action.port, portNames);
  const table = action.table === 0xff ? "" : String(action.table);
  return `resubmit(${port},${table}${action.withConntrack ? ",ct" : ""})`;
}

function formatUnknown(bytes: Buffer): string {
  return `unknown_action(${bytes.toString("hex")})`;
}

/** Prints one action as ovs-ofctl does. */
export function formatAction(action: Action, options: FormatActionsOptions = {}): string {
  const { portNames } = options;
  const formatNested = (actions: readonly Action[]): string => formatActions(actions, options);
  switch (action.type) {
    case "output": {
      if (action.port === PORT.CONTROLLER) return `CONTROLLER:${action.maxLen}`;
      return action.port < PORT.MAX ? `output:${formatPort(action.port, portNames)}` : formatPort(action.port);
    }
    case "output_reg":
      return `output:${formatSubfieldText(action.source)}`;
    case "output_trunc":
      return `output(port=${formatPort(action.port, portNames)},max_len=${action.maxLen})`;
    case "controller":
      return formatController(action);
    case "group":
      return `group:${action.groupId}`;
    case "meter":
      return `meter:${action.meterId}`;
    case "set_field":
      return formatSetField(action, portNames);
    case "move":
      return formatMove(action);
    case "push_vlan":
      return `push_vlan:0x${action.ethertype.toString(16)}`;
    case "pop_vlan":
      return "pop_vlan";
    case "set_queue":
      return `set_queue:${action.queueId}`;
    case "pop_queue":
      return "pop_queue";
    case "dec_ttl":
      return action.encoding === "dec_ttl_cnt_ids" ? `dec_ttl(${action.controllerIds.join(",")})` : "dec_ttl";
    case "set_nw_ttl":
      return `mod_nw_ttl:${action.ttl}`;
    case "resubmit":
      return formatResubmit(action, portNames);
    case "set_tunnel": {
      const wide = action.wide || action.tunnelId > 0xffffffffn;
      return `set_tunnel${wide ? "64" : ""}:0x${action.tunnelId.toString(16)}`;
    }
    case "ct":
      return formatCt(action, formatNested);
    case "nat":
      return formatNat(action);
    case "ct_clear":
      return "ct_clear";
    case "conjunction":
      return `conjunction(${action.id},${action.clause + 1}/${action.nClauses})`;
    case "learn":
      return formatLearn(action, portNames);
    case "note":
      return `note:${formatHexDotted(action.data)}`;
    case "exit":
      return "exit";
    case "fin_timeout": {
      const parts: string[] = [];
      if (action.idleTimeout) parts.push(`idle_timeout=${action.idleTimeout}`);
      if (action.hardTimeout) parts.push(`hard_timeout=${action.hardTimeout}`);
      return `fin_timeout(${parts.join(",")})`;
    }
    case "clone":
      return `clone(${formatNested(action.actions)})`;
    case "multipath":
      return formatMultipath(action);
    case "bundle":
      return formatBundle(action, portNames);
    case "sample":
      return formatSample(action, portNames);
    case "check_pkt_larger":
      return formatCheckPktLarger(action);
    case "unknown":
      return formatUnknown(action.bytes);
  }
}

/**
 * Prints an action list as ovs-ofctl prints the "actions=" value: comma-separated, "drop"
 * for an empty list. Unknown actions, which ovs-ofctl rejects rather than prints, appear as
 * `unknown_action(HEX)`, a form parseActions accepts back.
 */
export function formatActions(actions: readonly Action[], options: FormatActionsOptions = {}): string {
  if (actions.length === 0) return "drop";
  return actions.map((action) => formatAction(action, options)).join(",");
}
