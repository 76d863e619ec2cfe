// Errors of the agent's vswitch API.
import { OvsdbError, OvsdbErrorCode } from "../errors.ts";

/** A bridge, port or table the call needs does not exist, or exists in a conflicting form. */
export class VswitchError extends OvsdbError {
  constructor(message: string, options?: ErrorOptions) {
    super(OvsdbErrorCode.Schema, message, options);
  }
}

/** Interface.ofport is -1: vswitchd could not open the interface. */
export class OfportError extends OvsdbError {
  readonly interfaceName: string;
  readonly interfaceError: string | null;

  constructor(interfaceName: string, interfaceError: string | null) {
    super(
      OvsdbErrorCode.Transaction,
      `interface ${interfaceName} has ofport -1: ovs-vswitchd could not open it (${interfaceError ?? "Interface.error is empty"}); check its type and options`,
    );
    this.interfaceName = interfaceName;
    this.interfaceError = interfaceError;
  }
}

