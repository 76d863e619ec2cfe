// Public entry of the match codec: the Match type, OXM encoding and decoding for OpenFlow
// 1.3 and 1.5, and ovs-ofctl match text. The field registry is in fields.ts.

export type { Match, MatchEntry } from "./match.ts";
export { CANONICAL_ORDER, getEntry, getNumber, MATCH_ALL, MatchBuilder, matchesEqual, matchFromEntries } from "./match.ts";
export { decodeMatch, encodedMatchLength, encodeMatch, readOxmFields, wireEntries, writeOxmFields } from "./match-codec.ts";
export type { DecodeMatchOptions, WireEntry } from "./match-codec.ts";
export { DEFAULT_PRIORITY, formatMatch } from "./match-format.ts";
export type { FormatMatchOptions } from "./match-format.ts";
export { MatchTextParser, parseMatch, PROTOCOL_KEYWORDS, splitMatchText } from "./match-parse.ts";
export type { MatchToken, ParseMatchOptions } from "./match-parse.ts";
export { checkPrerequisites, EthType, IpProto, unmetPrerequisites } from "./prerequisites.ts";
export { MatchError, MatchErrorCode } from "./errors.ts";
