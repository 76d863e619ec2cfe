// Public entry point of the NetworkPolicy computation.
export { NetworkPolicyComputer } from "./computer.ts";
export type { ComputerStats } from "./computer.ts";
export { PolicyErrorCode, PolicyValidationError, SliceEventError } from "./errors.ts";
export {
  addressMemberKey,
  applySliceEvents,
  appliedToMemberKey,
  emptySlice,
  sortAddressMembers,
  sortAppliedToMembers,
} from "./slice.ts";
export { resolveNamedPort } from "./named-port.ts";
export type * from "./types.ts";
