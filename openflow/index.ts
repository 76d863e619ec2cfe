// Public entry of Switchyard's OpenFlow package: the message codec, ofp-print text, the
// switch connection, and the match, action and flow-text codecs it is built on.
export { OpenFlowVersion, versionName } from "./version.ts";
export { BufferReader, OpenFlowDecodeError } from "./wire/reader.ts";
export { BufferWriter } from "./wire/writer.ts";

export type * from "./messages/types.ts";
export { decodeMessage, encodeMessage, writeMessage } from "./messages/codec.ts";
export { MessageFramer, OpenFlowFramingError } from "./messages/stream.ts";
export { OpenFlowInvalidMessageError } from "./messages/errors.ts";
export { flowModFromText, DEFAULT_PRIORITY } from "./messages/flow-mod-text.ts";
export { mergeReplyBodies } from "./messages/multipart.ts";
export { EXPERIMENTER_ID, FLOW_MOD_COMMANDS, NO_BUFFER, NXT, OFPG, OFPMP, OFPP, OFPT, OFPTT_ALL } from "./messages/constants.ts";
export { errorName, ERROR_CODE_NAMES, ERROR_TYPE_NAMES, OFPET } from "./messages/error-codes.ts";
export { OFPBCT, OFPBF } from "./messages/bundle.ts";
export { OFPMBT, OFPMF } from "./messages/meter.ts";
export { NXPIF } from "./messages/nicira.ts";

export { formatFlowStats, formatGroup, formatMessage, formatMessageBytes } from "./print/ofp-print.ts";
export { formatHexDump } from "./print/hex-dump.ts";

export { OpenFlowConnection } from "./connection/connection.ts";
export type { ConnectionEvents, ConnectionOptions } from "./connection/connection.ts";
export { formatSwitchAddress, parseSwitchAddress, SwitchAddressError } from "./connection/address.ts";
export type { SwitchAddress } from "./connection/address.ts";
export {
  ConnectionErrorCode,
  OpenFlowBundleError,
  OpenFlowConnectionError,
  OpenFlowError,
} from "./connection/errors.ts";
export { traceEnabled } from "./connection/trace.ts";
export type { TraceSink } from "./connection/trace.ts";

export type { Match, MatchEntry } from "./match/index.ts";
export { decodeMatch, encodeMatch, formatMatch, matchesEqual, parseMatch } from "./match/index.ts";
export { lookupField } from "./match/fields.ts";
export type { FieldInfo } from "./match/fields.ts";
export type { Action, Instruction } from "./actions/index.ts";
export {
  decodeActions,
  decodeInstructions,
  encodeActions,
  encodeInstructions,
  formatActions,
  formatInstructions,
  parseActions,
  parseInstructions,
} from "./actions/index.ts";
export { parseFlow } from "./flow-text/index.ts";
export type { ParsedFlow } from "./flow-text/index.ts";
