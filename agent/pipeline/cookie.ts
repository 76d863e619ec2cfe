// Flow cookies. Every flow the agent installs carries a 64-bit cookie that records which agent
// run installed it (the round), why (the category) and for which object (the owner):
//
//   bits 63..48  round     restart round, 1 to 65535; a new agent run uses the next one
//   bits 47..40  category  CookieCategory value
//   bits 39..32  reserved  always 0
//   bits 31..0   owner     pod: its ofport; node: FNV-1a 32 of the node name;
//                          policy: the conjunction or drop id (agent/policy), 0 for the
//                          flows the policy tables share; pipeline defaults: 0
//
// `ovs-ofctl dump-flows` prints the cookie in hex, so cookie=0x3020000000005 reads as round
// 3, category 2 (pod), owner ofport 5. decodeCookie() and docs/pipeline.md do the same.

export const CookieCategory = {
  /** Table-miss and other defaults that exist once per bridge. */
  pipeline: 1,
  /** Flows of one local pod (spoof guard, L3 and L2 forwarding). */
  pod: 2,
  /** Flows toward one peer node's pod CIDR. */
  node: 3,
  /** Flows of the gateway and tunnel ports and of the local node. */
  local: 4,
  /** NetworkPolicy flows; the owner is the conjunction or drop id, 0 for shared flows. */
  policy: 5,
  /** Reserved for Services. */
  service: 6,
} as const;
export type CookieCategory = (typeof CookieCategory)[keyof typeof CookieCategory];

const CATEGORY_NAMES = new Map<number, string>(Object.entries(CookieCategory).map(([name, value]) => [value, name]));

export const ROUND_SHIFT = 48n;
export const CATEGORY_SHIFT = 40n;
export const ROUND_MASK = 0xffffn << ROUND_SHIFT;
export const CATEGORY_MASK = 0xffn << CATEGORY_SHIFT;
export const OWNER_MASK = 0xffff_ffffn;
export const MAX_ROUND = 0xffff;

export class CookieError extends Error {
  readonly code = "COOKIE_INVALID";
}

export interface CookieParts {
  readonly round: number;
  readonly category: CookieCategory;
  readonly owner: number;
}

/** Packs round, category and owner into a cookie. Throws CookieError when a part is out of range. */
export function encodeCookie(parts: CookieParts): bigint {
  if (!Number.isInteger(parts.round) || parts.round < 1 || parts.round > MAX_ROUND) {
    throw new CookieError(`invalid round ${parts.round}: expected an integer from 1 to ${MAX_ROUND}`);
  }
  if (!CATEGORY_NAMES.has(parts.category)) {
    throw new CookieError(`invalid category ${parts.category}: expected one of ${[...CATEGORY_NAMES.keys()].join(", ")}`);
  }
  if (!Number.isInteger(parts.owner) || parts.owner < 0 || parts.owner > 0xffff_ffff) {
    throw new CookieError(`invalid owner ${parts.owner}: expected an integer from 0 to 4294967295`);
  }
  return (BigInt(parts.round) << ROUND_SHIFT) | (BigInt(parts.category) << CATEGORY_SHIFT) | BigInt(parts.owner);
}

export interface DecodedCookie {
  readonly round: number;
  readonly category: number;
  /** Category name from CookieCategory, or "unknown" for a value the agent never writes. */
  readonly categoryName: string;
  readonly owner: number;
}

/** Splits a cookie into its parts. Never throws: unknown categories decode as "unknown". */
export function decodeCookie(cookie: bigint): DecodedCookie {
  const category = Number((cookie & CATEGORY_MASK) >> CATEGORY_SHIFT);
  return {
    round: Number((cookie & ROUND_MASK) >> ROUND_SHIFT),
    category,
    categoryName: CATEGORY_NAMES.get(category) ?? "unknown",
    owner: Number(cookie & OWNER_MASK),
  };
}

/** Returns the cookie value and mask that select every flow of one round, for a delete by cookie mask. */
export function roundCookieMask(round: number): { cookie: bigint; mask: bigint } {
  return { cookie: BigInt(round) << ROUND_SHIFT, mask: ROUND_MASK };
}

/** Returns the round after `round`, wrapping from 65535 to 1 (0 is never used, so a zero cookie is never ours). */
export function nextRound(round: number): number {
  return round >= MAX_ROUND || round < 1 ? 1 : round + 1;
}

/** 32-bit FNV-1a hash of the UTF-8 bytes of `text`: the owner id of nodes and policies. */
export function ownerHash(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * Returns a one-line description of a cookie, resolving the owner against the given
 * candidates (node names, or pods by ofport), e.g. "round 3, pod, ofport 5 (default/web-1)".
 * A policy owner prints as its conjunction or drop id ("round 3, policy, id 7"), or "shared" for 0.
 */
export function describeCookie(cookie: bigint, candidates: { names?: readonly string[]; pods?: ReadonlyMap<number, string>; policies?: ReadonlyMap<number, string> } = {}): string {
  const decoded = decodeCookie(cookie);
  let owner: string;
  if (decoded.category === CookieCategory.pod) {
    const pod = candidates.pods?.get(decoded.owner);
    owner = `ofport ${decoded.owner}${pod === undefined ? "" : ` (${pod})`}`;
  } else if (decoded.category === CookieCategory.policy) {
    const policy = candidates.policies?.get(decoded.owner);
    owner = decoded.owner === 0 ? "shared" : `id ${decoded.owner}${policy === undefined ? "" : ` (${policy})`}`;
  } else if (decoded.category === CookieCategory.node) {
    const name = candidates.names?.find((candidate) => ownerHash(candidate) === decoded.owner);
    owner = `owner 0x${decoded.owner.toString(16)}${name === undefined ? "" : ` (${name})`}`;
  } else {
    owner = `owner ${decoded.owner}`;
  }
  return `round ${decoded.round}, ${decoded.categoryName}, ${owner}`;
}
