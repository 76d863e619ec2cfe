// Errors raised while decoding a message whose bytes are all present but whose content
// breaks a rule the switch would also enforce (an unknown meter band, a bad command).

/**
 * A message that is well framed but invalid. `ofpError` is the name of the OpenFlow error
 * a switch sends for it ("OFPMMFC_BAD_BAND"), which is also what ovs-ofctl prints.
 */
export class OpenFlowInvalidMessageError extends Error {
  readonly code = "ERR_OPENFLOW_INVALID_MESSAGE";
  readonly ofpError: string;

  constructor(ofpError: string, detail: string, options?: ErrorOptions) {
    super(`invalid OpenFlow message (${ofpError}): ${detail}`, options);
    this.name = "OpenFlowInvalidMessageError";
    this.ofpError = ofpError;
  }
}
